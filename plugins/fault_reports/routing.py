"""Routing faults to the vendor that serves the device: the active contract (procurement plugin,
when its tables exist) with a call-off of this municipality naming the locker in ``locker_ids``.

Read with one small query in the federation's own transaction (never inside a tenant's), so the
fault reports plugin needs none of procurement's code. Unrouted faults are routed after their
tenant transaction commits (the GraphQL mutation) and by the sweep (faults the gateway raised in
the ingest's transaction); a fault whose locker no contract covers stays with the municipality.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from tenants import audit
from tenants.access import Actor
from tenants.database import Database

ROUTER = Actor("system", None, "Fault routing")
CONTRACT = """
SELECT k.id AS contract_id, k.vendor_id, v.contact_email FROM procurement_call_off o
JOIN procurement_contract k ON k.federation_id = o.federation_id AND k.id = o.contract_id
LEFT JOIN procurement_vendor v ON v.federation_id = k.federation_id AND v.id = k.vendor_id
WHERE o.federation_id = $1 AND o.municipality_id = $2 AND $3 = ANY (o.locker_ids)
  AND k.status = 'active' AND k.starts_on <= $4 AND k.ends_on >= $4
ORDER BY k.signed_at DESC, k.id LIMIT 1
"""
LEVELS = """
SELECT metric, severity, target, penalty_sek FROM procurement_service_level
WHERE federation_id = $1 AND contract_id = $2 AND metric IN ('fault_response', 'fault_fix') AND unit = 'hours'
"""


@dataclass(frozen=True)
class Route:
    federation_id: UUID
    contract_id: UUID
    vendor_id: UUID
    contact_email: str | None = None


async def procurement_installed(db: Database) -> bool:
    async with db.shared() as scope:
        return bool(await scope.connection.fetchval("SELECT to_regclass('procurement_call_off') IS NOT NULL"))


async def federation_of(db: Database, municipality_id: UUID) -> UUID | None:
    async with db.shared() as scope:
        fid = await scope.connection.fetchval("SELECT federation_id FROM municipality WHERE id = $1", municipality_id)
    return UUID(str(fid)) if fid else None


async def route_for(db: Database, municipality_id: UUID, locker_id: UUID, day: date) -> Route | None:
    """The vendor serving this municipality's locker on ``day``, under which contract."""
    if not await procurement_installed(db):
        return None
    federation = await federation_of(db, municipality_id)
    if federation is None:
        return None
    async with db.federation(federation) as scope:
        row = await scope.connection.fetchrow(CONTRACT, federation, municipality_id, locker_id, day)
    return Route(federation, row["contract_id"], row["vendor_id"], row["contact_email"]) if row else None


async def levels(db: Database, federation_id: UUID, contract_id: UUID) -> dict[tuple[str, str | None], Decimal]:
    """The contract's fault service levels in hours: (metric, severity) -> target."""
    async with db.federation(federation_id) as scope:
        rows = await scope.connection.fetch(LEVELS, federation_id, contract_id)
    return {(r["metric"], r["severity"]): r["target"] for r in rows}


async def route_pending(db: Database, tenant: UUID, now: datetime) -> list[Any]:
    """Route this tenant's open, not yet routed faults; returns the ones that got a vendor."""
    async with db.tenant(tenant) as scope:
        pending = await scope.connection.fetch(
            """SELECT f.id, f.locker_id, f.severity, f.description, l.name AS locker FROM fault_report f
               JOIN lockers_locker l ON l.tenant_id = f.tenant_id AND l.id = f.locker_id
               WHERE f.tenant_id = $1 AND f.routed_at IS NULL
               AND f.status IN ('reported', 'acknowledged', 'in_progress') ORDER BY f.reported_at LIMIT 200""",
            tenant,
        )
    found = {r["id"]: await route_for(db, tenant, r["locker_id"], now.date()) for r in pending}
    faults = {r["id"]: r for r in pending}
    routed = []
    async with db.tenant(tenant) as scope:
        for fault_id, route in found.items():
            row = await scope.connection.fetchrow(
                """UPDATE fault_report SET routed_at = $3, vendor_id = $4, contract_id = $5, federation_id = $6
                   WHERE tenant_id = $1 AND id = $2 AND routed_at IS NULL RETURNING id, vendor_id""",
                tenant,
                fault_id,
                now,
                route.vendor_id if route else None,
                route.contract_id if route else None,
                route.federation_id if route else None,
            )
            if row is None or route is None:
                continue
            await audit.record(
                scope,
                actor=ROUTER,
                action="fault_reports.routed",
                target_kind="fault_report",
                target_id=fault_id,
                details={"vendor_id": str(route.vendor_id), "contract_id": str(route.contract_id)},
            )
            if route.contact_email:
                await _tell(scope, route.contact_email, faults[fault_id])
            routed.append(row)
    return routed


async def _tell(scope: api.Scope, to: str, fault: Any) -> None:
    """E-mail the vendor's contact address (the kernel's webhooks address a municipality's own
    integrators, not a federation's vendor); sent by the notification worker after commit."""
    await api.notify(
        scope,
        channel="email",
        to=to,
        subject=f"Felanmälan ({fault['severity']}): {fault['locker']}"[:300],
        body=(
            f"A fault ({fault['severity']}) on the locker {fault['locker']} is routed to you under your contract:\n\n"
            f"{fault['description']}\n\nAcknowledge it, then resolve or reject it, in Samverka "
            "(GraphQL: vendorFaults, moveFault). Your response and fix times are measured from the report."
        ),
        topic="fault_reports.routed",
        subject_kind="fault_report",
        subject_id=fault["id"],
    )
