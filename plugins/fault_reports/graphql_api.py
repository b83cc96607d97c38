"""The fault reports plugin's GraphQL roots for the municipality; the registry guards each field with
the plugin's enablement, and each resolver checks the caller's role or token scope. Staff move
their own faults with ``moveFaultReport`` (``workflow.move_by_municipality``: reject any open
fault; acknowledge, start and resolve only faults no vendor serves)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.fault_reports import measured, routing, service, webhooks, workflow
from plugins.fault_reports.access import PEOPLE, READ_SCOPE, WRITE_SCOPE
from plugins.fault_reports.domain import Category, NewFaultReport, Status, move_problems
from plugins.fault_reports.graphql_types import FaultReport
from plugins.fault_reports.workflow import COLUMNS
from tenants import audit
from tenants.access import Actor
from tenants.database import Database


@strawberry.input
class ReportFaultInput:
    locker_id: strawberry.ID
    compartment_id: strawberry.ID | None = None
    category: Category
    description: str = strawberry.field(description="What is wrong, 1-2000 characters.")


@strawberry.input
class MoveFaultReportInput:
    fault_id: strawberry.ID
    to: Status = strawberry.field(
        description="REJECTED (any open fault; say why), or ACKNOWLEDGED, IN_PROGRESS, RESOLVED (no vendor serves it)."
    )
    note: str = strawberry.field(default="", description="What was done or why it is rejected (at most 2000).")


ReportFaultResult = Annotated[FaultReport | api.Errors, strawberry.union("ReportFaultResult")]
MoveFaultReportResult = Annotated[FaultReport | api.Errors, strawberry.union("MoveFaultReportResult")]


async def _denied(db: Database, tenant: UUID, actor: Actor, kind: str, target: object, details: dict[str, Any]) -> None:
    """Audit an attempt on something that is not this municipality's (in its own transaction)."""
    async with db.tenant(tenant) as scope:
        await audit.record(
            scope,
            actor=actor,
            action="fault_reports.denied",
            target_kind=kind,
            target_id=str(target)[:100],
            details=details,
        )


async def _shown(db: Database, tenant: UUID, fault_id: UUID) -> FaultReport:
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            f"SELECT {COLUMNS} FROM fault_report WHERE tenant_id = $1 AND id = $2", tenant, fault_id
        )
    if row is None:
        raise api.NotFound("FaultReport", fault_id)
    return (await measured.shown(db, [row], utcnow()))[0]


@strawberry.type
class FaultReportsQuery:
    @api.field(description="Fault reports of this municipality, newest first (of one locker, or all).")
    async def fault_reports(
        self, info: api.Info, locker_id: strawberry.ID | None = None, first: int = 50
    ) -> list[FaultReport]:
        tenant = api.require_access(info, roles=PEOPLE, scope=READ_SCOPE)
        locker = service.parse_id(locker_id, "Locker") if locker_id is not None else None
        async with api.database(info).tenant(tenant) as scope:
            rows = await service.reports(scope, locker_id=locker, first=first)
        return await measured.shown(api.database(info), rows, utcnow())

    @api.field(description="One fault report of this municipality, with its times and its transitions.")
    async def fault_report(self, info: api.Info, id: strawberry.ID) -> FaultReport:
        tenant = api.require_access(info, roles=PEOPLE, scope=READ_SCOPE)
        return await _shown(api.database(info), tenant, service.parse_id(id, "FaultReport"))


@strawberry.type
class FaultReportsMutation:
    @api.mutation(description="Report a fault on a locker or one of its compartments (a photo: use the web page).")
    @api.errors_as_data
    async def report_fault(self, info: api.Info, input: ReportFaultInput) -> ReportFaultResult:
        tenant = api.require_access(info, roles=PEOPLE, scope=WRITE_SCOPE)
        new = NewFaultReport(
            locker_id=str(input.locker_id),
            compartment_id=str(input.compartment_id) if input.compartment_id is not None else None,
            category=input.category,
            description=input.description,
        )
        db = api.database(info)
        try:
            async with db.tenant(tenant) as scope:
                row = await service.report(scope, new, actor=info.context.principal.actor, now=utcnow())
        except api.NotFound:  # another municipality's device, or none: an access attempt is audited
            details = {"compartment_id": new.compartment_id}
            await _denied(db, tenant, info.context.principal.actor, "locker", input.locker_id, details)
            raise
        await routing.route_pending(db, tenant, utcnow(), info.context.services)  # once the report is committed
        return await _shown(db, tenant, row["id"])

    @api.mutation(
        description="Staff: reject an open fault (a duplicate, not a fault), or move on a fault no vendor serves."
    )
    @api.errors_as_data
    async def move_fault_report(self, info: api.Info, input: MoveFaultReportInput) -> MoveFaultReportResult:
        tenant = api.require_access(info, roles=PEOPLE, scope=WRITE_SCOPE)
        if problems := move_problems(input.to, input.note):
            raise api.ValidationFailed("The move is not valid; nothing changed.", problems)
        fault_id = service.parse_id(input.fault_id, "FaultReport")
        db, actor = api.database(info), info.context.principal.actor
        try:
            async with db.tenant(tenant) as scope:
                await workflow.move_by_municipality(
                    scope, fault_id, input.to, actor=actor, now=utcnow(), note=input.note.strip()
                )
        except api.NotFound:  # another municipality's fault, or none: an access attempt is audited
            await _denied(db, tenant, actor, "fault_report", fault_id, {"to": input.to.value})
            raise
        await webhooks.dispatch(db, info.context.services, tenant, fault_id)
        return await _shown(db, tenant, fault_id)
