"""A fault's workflow: each status change is checked against the allowed next statuses, timed on
the fault's own row, written to the append-only ``fault_transition`` table with its actor, and
audited; a fault routed to a vendor also queues the ``fault.updated`` webhook to it, whoever moved
it. Response time = acknowledged - reported; fix time = resolved - reported."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from plugins.fault_reports import webhooks
from plugins.fault_reports.domain import NEXT, Status
from tenants import audit
from tenants.access import Actor

COLUMNS = """id, tenant_id, locker_id, compartment_id, category, description, photo IS NOT NULL AS has_photo,
             photo_type, octet_length(photo) AS photo_bytes, reported_by_kind, reported_by_id, reported_by, reported_at,
             status, severity, source, ongoing_key, vendor_id, acknowledged_at, started_at, resolved_at, rejected_at,
             federation_id, contract_id, routed_at"""
STAMP = {
    Status.ACKNOWLEDGED: "acknowledged_at",
    Status.IN_PROGRESS: "started_at",
    Status.RESOLVED: "resolved_at",
    Status.REJECTED: "rejected_at",
}
TRANSITION = """
INSERT INTO fault_transition (tenant_id, id, fault_id, from_status, to_status, at, actor_kind, actor_id,
                              actor_label, note)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
"""


async def record(
    scope: api.Scope, fault_id: UUID, before: Status | None, after: Status, actor: Actor, now: datetime, note: str = ""
) -> None:
    """Append one transition (also the first one, None -> reported)."""
    await scope.connection.execute(
        TRANSITION,
        scope.tenant,
        uuid4(),
        fault_id,
        before.value if before else None,
        after.value,
        now,
        actor.kind,
        actor.id,
        actor.label[:320],
        note[:2000],
    )


async def move(
    scope: api.Scope,
    fault_id: UUID,
    to: Status,
    *,
    actor: Actor,
    now: datetime,
    note: str = "",
    vendor_id: UUID | None = None,
) -> Any:
    """Move a fault on; NotFound when it is not this municipality's (or, given ``vendor_id``, not
    that vendor's), Conflict when the step is not allowed from its status. Returns the new row."""
    conn = scope.connection
    row = await conn.fetchrow(
        """SELECT status, vendor_id FROM fault_report WHERE tenant_id = $1 AND id = $2
           AND ($3::uuid IS NULL OR vendor_id = $3) FOR UPDATE""",
        scope.tenant,
        fault_id,
        vendor_id,
    )
    if row is None:
        raise api.NotFound("FaultReport", fault_id)
    before = Status(row["status"])
    if to not in NEXT[before]:
        raise api.Conflict(
            f"The fault is {before.value.replace('_', ' ')}; it cannot become {to.value.replace('_', ' ')}. "
            "Reload it to see its current status."
        )
    await conn.execute(
        f"UPDATE fault_report SET status = $3, {STAMP[to]} = $4 WHERE tenant_id = $1 AND id = $2",
        scope.tenant,
        fault_id,
        to.value,
        now,
    )
    await record(scope, fault_id, before, to, actor, now, note)
    await audit.record(
        scope,
        actor=actor,
        action=f"fault_reports.{to.value}",
        target_kind="fault_report",
        target_id=fault_id,
        details={"from": before.value, "to": to.value, "note": note[:200]},
    )
    after = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM fault_report WHERE tenant_id = $1 AND id = $2", scope.tenant, fault_id
    )
    by = webhooks.who(actor, by_vendor=vendor_id is not None)
    await webhooks.updated(scope, after, before=before, by=by, at=now, note=note[:2000])
    return after


async def move_by_municipality(
    scope: api.Scope, fault_id: UUID, to: Status, *, actor: Actor, now: datetime, note: str = ""
) -> Any:
    """The municipality's own staff moving a fault: any open fault may be rejected (a duplicate,
    not a fault); acknowledging, starting and resolving are the vendor's work on a fault routed to
    one, so staff do those only on faults no vendor serves (Conflict otherwise, nothing changed)."""
    if to is not Status.REJECTED:
        vendor = await scope.connection.fetchval(
            "SELECT vendor_id FROM fault_report WHERE tenant_id = $1 AND id = $2", scope.tenant, fault_id
        )
        if vendor is not None:
            raise api.Conflict(
                "This fault is routed to the vendor under its contract; the vendor acknowledges and "
                "resolves it. You may reject it (say why), or contact the vendor."
            )
    return await move(scope, fault_id, to, actor=actor, now=now, note=note)


async def transitions(scope: api.Scope, fault_id: UUID) -> list[Any]:
    return list(
        await scope.connection.fetch(
            "SELECT * FROM fault_transition WHERE tenant_id = $1 AND fault_id = $2 ORDER BY at, id",
            scope.tenant,
            fault_id,
        )
    )


def seconds(row: Any) -> tuple[float | None, float | None]:
    """(response, fix) in seconds, None while not yet acknowledged / resolved."""
    start = row["reported_at"]
    response = (row["acknowledged_at"] - start).total_seconds() if row["acknowledged_at"] else None
    fix = (row["resolved_at"] - start).total_seconds() if row["resolved_at"] else None
    return response, fix
