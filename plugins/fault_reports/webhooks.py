"""What a fault's vendor hears by signed webhook (docs/webhooks.md, docs/adr/0013-vendor-webhooks.md):
``fault.routed`` when a fault is routed to it, ``fault.updated`` on every later status change,
whoever made it (the vendor, the municipality, or the system).

Both are queued in the municipality's outbox inside the transaction of the change
(``api.federation_webhook``: the vendor is an organisation of the federation, not an integrator
of one municipality), so a change that rolls back tells nobody; the kernel finds the vendor's
endpoint when it sends. The times are hours since the report (``None`` while not yet done);
their targets are the contract's levels, which ``vendorFaults`` shows with ``breached``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.fault_reports import service_levels
from plugins.fault_reports.domain import Status
from tenants.access import Actor
from tenants.database import Database

ROUTED = "fault.routed"
UPDATED = "fault.updated"
SUBJECT = "fault_report"


def _fault(row: Any) -> dict[str, Any]:
    return {
        "fault_id": row["id"],
        "locker_id": row["locker_id"],
        "compartment_id": row["compartment_id"],
        "category": row["category"],
        "severity": row["severity"],
        "source": row["source"],
        "status": row["status"],
        "description": row["description"],
        "reported_at": row["reported_at"],
        "contract_id": row["contract_id"],
    }


def _times(row: Any, at: datetime) -> dict[str, Any]:
    t = service_levels.times(row, {}, at)
    return {
        "acknowledged_at": row["acknowledged_at"],
        "started_at": row["started_at"],
        "resolved_at": row["resolved_at"],
        "rejected_at": row["rejected_at"],
        "response_hours": t.response.hours,
        "fix_hours": t.fix.hours,
    }


def who(actor: Actor, *, by_vendor: bool) -> str:
    """``vendor``, ``system`` or ``municipality``: who moved it, without naming a person."""
    if by_vendor:
        return "vendor"
    return "system" if actor.kind == "system" else "municipality"


async def routed(
    scope: api.Scope, row: Any, *, locker_name: str, vendor_id: UUID, at: datetime
) -> UUID | None:
    """``fault.routed``: ``row`` is the fault (with its new ``contract_id``); None when the vendor
    has no webhook endpoint."""
    payload = _fault(row) | {"locker_name": locker_name, "routed_at": at}
    return await api.federation_webhook(
        scope, owner_id=vendor_id, event=ROUTED, payload=payload, subject_kind=SUBJECT, subject_id=row["id"]
    )


async def updated(scope: api.Scope, row: Any, *, before: Status, by: str, at: datetime, note: str) -> UUID | None:
    """``fault.updated`` for a fault routed to a vendor (``row`` after the move); None otherwise."""
    if row["vendor_id"] is None:
        return None
    change = {"from": before.value, "to": row["status"], "at": at, "note": note, "by": by}
    payload = _fault(row) | {"change": change} | _times(row, at)
    return await api.federation_webhook(
        scope, owner_id=row["vendor_id"], event=UPDATED, payload=payload, subject_kind=SUBJECT, subject_id=row["id"]
    )


async def dispatch(db: Database, jobs: api.HasJobs | None, tenant: UUID, fault_id: UUID) -> None:
    """Hand this fault's pending notifications to the worker, after the change committed (without
    it, the notification sweeper sends them a little later)."""
    if jobs is None:
        return
    async with db.tenant(tenant) as scope:
        pending = [n.id for n in await api.log_for(scope, SUBJECT, fault_id) if n.status.value == "pending"]
    if pending:
        await api.dispatch_after_commit(jobs, tenant, pending)
