"""The vendor's side (federation roots, docs/adr/0010): a user of a procurement vendor sees the
faults routed to its organisation in every municipality of its federation and moves them on
(acknowledge, start, resolve, reject). A fault that is not the vendor's is NOT_FOUND, and the
attempt is audited in that municipality (when it is one of the vendor's federation)."""

from __future__ import annotations

import logging
from typing import Annotated
from uuid import UUID

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.fault_reports import measured, webhooks, workflow
from plugins.fault_reports.domain import PLUGIN_ID, Status, move_problems
from plugins.fault_reports.graphql_types import FaultReport
from plugins.fault_reports.graphql_vendor_access import vendor_of
from plugins.fault_reports.graphql_vendor_webhooks import VendorWebhookMutation, VendorWebhookQuery
from plugins.fault_reports.service import parse_id
from plugins.fault_reports.workflow import COLUMNS
from tenants import audit
from tenants.provisioning import all_municipalities

log = logging.getLogger(__name__)


@strawberry.input
class MoveFaultInput:
    fault_id: strawberry.ID
    municipality_id: strawberry.ID
    to: Status = strawberry.field(description="ACKNOWLEDGED, IN_PROGRESS, RESOLVED or REJECTED.")
    note: str = strawberry.field(default="", description="What was done or why it is rejected (at most 2000).")


MoveFaultResult = Annotated[FaultReport | api.Errors, strawberry.union("MoveFaultResult")]


@strawberry.type
class FaultReportsFederationQuery(VendorWebhookQuery):
    @api.field(description="Vendors: the faults routed to your organisation, newest first, with their times.")
    async def vendor_faults(self, info: api.Info, open_only: bool = True) -> list[FaultReport]:
        federation, vendor = await vendor_of(info)
        db = api.database(info)
        rows = []
        for m in await all_municipalities(db, federation_id=federation):
            async with db.tenant(m.id) as scope:
                if not await api.plugin_enabled(scope, PLUGIN_ID):
                    continue
                rows += await scope.connection.fetch(
                    f"""SELECT {COLUMNS} FROM fault_report WHERE tenant_id = $1 AND vendor_id = $2
                        AND (NOT $3 OR status IN ('reported', 'acknowledged', 'in_progress'))
                        ORDER BY reported_at DESC LIMIT 500""",
                    m.id,
                    vendor,
                    open_only,
                )
        rows.sort(key=lambda r: r["reported_at"], reverse=True)
        return await measured.shown(db, rows, utcnow())


@strawberry.type
class FaultReportsFederationMutation(VendorWebhookMutation):
    @api.mutation(description="Vendors: acknowledge, start, resolve or reject a fault routed to your organisation.")
    @api.errors_as_data
    async def move_fault(self, info: api.Info, input: MoveFaultInput) -> MoveFaultResult:
        federation, vendor = await vendor_of(info)
        if problems := move_problems(input.to, input.note):
            raise api.ValidationFailed("The move is not valid; nothing changed.", problems)
        fault_id = parse_id(input.fault_id, "FaultReport")
        tenant = parse_id(input.municipality_id, "FaultReport")
        db = api.database(info)
        actor = info.context.principal.actor
        members = {m.id for m in await all_municipalities(db, federation_id=federation)}
        try:
            if tenant not in members:
                raise api.NotFound("FaultReport", fault_id)
            async with db.tenant(tenant) as scope:
                if not await api.plugin_enabled(scope, PLUGIN_ID):
                    raise api.NotFound("FaultReport", fault_id)
                row = await workflow.move(
                    scope, fault_id, input.to, actor=actor, now=utcnow(), note=input.note.strip(), vendor_id=vendor
                )
        except api.NotFound:
            await _denied(info, tenant if tenant in members else None, fault_id, vendor, input.to)
            raise
        await webhooks.dispatch(db, info.context.services, tenant, fault_id)
        return (await measured.shown(db, [row], utcnow()))[0]


async def _denied(info: api.Info, tenant: UUID | None, fault_id: UUID, vendor: UUID, to: Status) -> None:
    """Audit a vendor's attempt on a fault that is not its own (in its own transaction)."""
    log.warning("vendor %s tried to move fault %s (municipality %s) to %s", vendor, fault_id, tenant, to.value)
    if tenant is None:
        return
    async with api.database(info).tenant(tenant) as scope:
        await audit.record(
            scope,
            actor=info.context.principal.actor,
            action="fault_reports.denied",
            target_kind="fault_report",
            target_id=fault_id,
            details={"vendor_id": str(vendor), "to": to.value},
        )
