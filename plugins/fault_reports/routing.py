"""Routing faults to the vendor that serves the device: the active contract (procurement plugin,
when its tables exist) with a call-off of this municipality naming the locker in ``locker_ids``.

Read with one query per municipality in the federation's own transaction (never inside a
tenant's), so the fault reports plugin needs none of procurement's code. Unrouted faults are
routed after their tenant transaction commits (the GraphQL mutation) and by the sweep (faults the
gateway raised in the ingest's transaction). A fault whose locker no contract covers stays with
the municipality, and ``routed_at`` says when that was last checked: while it is open, the sweep
checks it again every ``RECHECK`` (a contract that comes into force later, a call-off that names
the locker later), so an unserved fault costs one indexed row read per sweep and a federation
query every few minutes, not one per sweep.

A routed fault's vendor hears of it by e-mail to its contact address and by the ``fault.routed``
webhook to its endpoint, if it set one (``webhooks``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.fault_reports import webhooks
from tenants import audit
from tenants.access import Actor
from tenants.database import Database

ROUTER = Actor("system", None, "Fault routing")
RECHECK = timedelta(minutes=5)
BATCH = 200
CONTRACTS = """
SELECT DISTINCT ON (l.locker_id) l.locker_id, k.id AS contract_id, k.vendor_id, v.contact_email
FROM procurement_call_off o
CROSS JOIN LATERAL unnest(o.locker_ids) AS l(locker_id)
JOIN procurement_contract k ON k.federation_id = o.federation_id AND k.id = o.contract_id
LEFT JOIN procurement_vendor v ON v.federation_id = k.federation_id AND v.id = k.vendor_id
WHERE o.federation_id = $1 AND o.municipality_id = $2 AND l.locker_id = ANY ($3::uuid[])
  AND k.status = 'active' AND k.starts_on <= $4 AND k.ends_on >= $4
ORDER BY l.locker_id, k.signed_at DESC, k.id
"""
# Never routed, or found no vendor at the last check, which is RECHECK old; open faults only.
PENDING = f"""
SELECT f.id, f.locker_id, f.compartment_id, f.category, f.severity, f.source, f.status, f.description,
       f.reported_at, f.routed_at, l.name AS locker FROM fault_report f
JOIN lockers_locker l ON l.tenant_id = f.tenant_id AND l.id = f.locker_id
WHERE f.tenant_id = $1 AND f.vendor_id IS NULL AND (f.routed_at IS NULL OR f.routed_at <= $2)
  AND f.status IN ('reported', 'acknowledged', 'in_progress')
ORDER BY f.routed_at NULLS FIRST, f.reported_at LIMIT {BATCH}
"""
ROUTE = """
UPDATE fault_report SET routed_at = $3, vendor_id = $4, contract_id = $5, federation_id = $6
WHERE tenant_id = $1 AND id = $2 AND vendor_id IS NULL AND (routed_at IS NULL OR routed_at <= $7)
  AND status IN ('reported', 'acknowledged', 'in_progress')
RETURNING id, vendor_id, contract_id
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


async def routes_for(db: Database, municipality_id: UUID, lockers: Iterable[UUID], day: date) -> dict[UUID, Route]:
    """The vendor serving each of these lockers of the municipality on ``day``, and under which
    contract (lockers no contract covers are left out); one query, in the federation's transaction."""
    wanted = list(set(lockers))
    if not wanted or not await procurement_installed(db):
        return {}
    federation = await federation_of(db, municipality_id)
    if federation is None:
        return {}
    async with db.federation(federation) as scope:
        rows = await scope.connection.fetch(CONTRACTS, federation, municipality_id, wanted, day)
    return {r["locker_id"]: Route(federation, r["contract_id"], r["vendor_id"], r["contact_email"]) for r in rows}


async def route_for(db: Database, municipality_id: UUID, locker_id: UUID, day: date) -> Route | None:
    """The vendor serving this municipality's locker on ``day``, under which contract."""
    return (await routes_for(db, municipality_id, [locker_id], day)).get(locker_id)


async def levels(db: Database, federation_id: UUID, contract_id: UUID) -> dict[tuple[str, str | None], Decimal]:
    """The contract's fault service levels in hours: (metric, severity) -> target."""
    async with db.federation(federation_id) as scope:
        rows = await scope.connection.fetch(LEVELS, federation_id, contract_id)
    return {(r["metric"], r["severity"]): r["target"] for r in rows}


async def route_pending(db: Database, tenant: UUID, now: datetime, jobs: api.HasJobs | None = None) -> list[Any]:
    """Route this tenant's open faults that have no vendor yet (new ones, and those last checked
    ``RECHECK`` ago); returns the ones that got a vendor. The vendor's e-mail and webhook are
    queued with the routing and, given ``jobs``, handed to the worker after commit."""
    async with db.tenant(tenant) as scope:
        pending = await scope.connection.fetch(PENDING, tenant, now - RECHECK)
    if not pending:
        return []
    found = await routes_for(db, tenant, [r["locker_id"] for r in pending], now.date())
    routed = []
    async with db.tenant(tenant) as scope:
        told: list[UUID] = []
        for fault in pending:
            route = found.get(fault["locker_id"])
            row = await scope.connection.fetchrow(
                ROUTE,
                tenant,
                fault["id"],
                now,
                route.vendor_id if route else None,
                route.contract_id if route else None,
                route.federation_id if route else None,
                now - RECHECK,
            )
            if row is None or route is None:
                continue
            await audit.record(
                scope,
                actor=ROUTER,
                action="fault_reports.routed",
                target_kind="fault_report",
                target_id=fault["id"],
                details={
                    "vendor_id": str(route.vendor_id),
                    "contract_id": str(route.contract_id),
                    "checked_before": fault["routed_at"] is not None,  # no contract covered it then
                },
            )
            if route.contact_email:
                told.append(await _tell(scope, route.contact_email, fault))
            hook = await webhooks.routed(
                scope,
                dict(fault) | {"contract_id": route.contract_id},
                locker_name=fault["locker"],
                vendor_id=route.vendor_id,
                at=now,
            )
            if hook is not None:
                told.append(hook)
            routed.append(row)
        if jobs is not None and told:
            await api.dispatch_after_commit(jobs, scope, told)
    return routed


async def _tell(scope: api.Scope, to: str, fault: Any) -> UUID:
    """E-mail the vendor's contact address (also a vendor that set no webhook endpoint hears of
    it); sent by the notification worker after commit."""
    return await api.notify(
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
