"""The fault reports plugin's GraphQL roots; the registry guards each field with the plugin's
enablement, and each resolver checks the caller's role or token scope."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.fault_reports import measured, routing, service
from plugins.fault_reports.access import PEOPLE, READ_SCOPE, WRITE_SCOPE
from plugins.fault_reports.domain import Category, NewFaultReport
from plugins.fault_reports.graphql_types import FaultReport
from plugins.fault_reports.workflow import COLUMNS
from tenants import audit


@strawberry.input
class ReportFaultInput:
    locker_id: strawberry.ID
    compartment_id: strawberry.ID | None = None
    category: Category
    description: str = strawberry.field(description="What is wrong, 1-2000 characters.")


ReportFaultResult = Annotated[FaultReport | api.Errors, strawberry.union("ReportFaultResult")]


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
            async with db.tenant(tenant) as scope:
                await audit.record(
                    scope,
                    actor=info.context.principal.actor,
                    action="fault_reports.denied",
                    target_kind="locker",
                    target_id=str(input.locker_id)[:100],
                    details={"compartment_id": new.compartment_id},
                )
            raise
        await routing.route_pending(db, tenant, utcnow())  # to its vendor, once the report is committed
        async with db.tenant(tenant) as scope:
            row = await scope.connection.fetchrow(
                f"SELECT {COLUMNS} FROM fault_report WHERE tenant_id = $1 AND id = $2", tenant, row["id"]
            )
        return (await measured.shown(db, [row], utcnow()))[0]
