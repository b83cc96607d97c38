"""Service levels followed up from real locker data (docs/design/procurement.md, "Follow-up from
real data"): for a contract that covers lockers, per municipality with a call-off and month,
availability from the lockers' health events and temperature compliance from their temperature
alarms, compared with each service level; breaches cost the level's penalty.

The plan (contract, levels, call-offs) is read in the federation transaction, each
municipality's locker data in its own tenant transaction, and the result written in a new
federation transaction: the two kinds are never open at once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.procurement import faults_link
from plugins.procurement import followup_metrics as metrics
from plugins.procurement.access import ADMINS, WRITE_SCOPE
from plugins.procurement.federation import Caller, log
from tenants.database import Database

CONTRACT = """
SELECT c.id, c.procurement_id, c.title, c.vendor_id, c.starts_on, c.ends_on, c.covers_lockers,
       p.lead_municipality_id
FROM procurement_contract c JOIN procurement p ON p.federation_id = c.federation_id AND p.id = c.procurement_id
WHERE c.id = $1
"""
LEVELS = """
SELECT id, metric, severity, target, unit, penalty_sek FROM procurement_service_level
WHERE contract_id = $1 ORDER BY metric, severity NULLS FIRST, id
"""
CALL_OFFS = """
SELECT municipality_id, array_agg(DISTINCT l) FILTER (WHERE l IS NOT NULL) AS lockers
FROM procurement_call_off LEFT JOIN LATERAL unnest(locker_ids) AS l ON true
WHERE contract_id = $1 GROUP BY municipality_id ORDER BY municipality_id
"""
HEALTH = """
SELECT locker_id, at, COALESCE(body->'health'->>'connectivity' = 'online', false) AS online FROM lockers_event
WHERE tenant_id = $1 AND kind = 'health' AND compartment_key IS NULL AND locker_id = ANY($2::uuid[])
  AND at >= $3 AND at < $4
ORDER BY locker_id, at, seq
"""
CARRIED_IN = """
SELECT DISTINCT ON (locker_id) locker_id, COALESCE(body->'health'->>'connectivity' = 'online', false) AS online
FROM lockers_event
WHERE tenant_id = $1 AND kind = 'health' AND compartment_key IS NULL AND locker_id = ANY($2::uuid[]) AND at < $3
ORDER BY locker_id, at DESC, seq DESC
"""
COMPARTMENTS = """
SELECT id, locker_id FROM lockers_compartment
WHERE tenant_id = $1 AND locker_id = ANY($2::uuid[]) AND temperature_class <> 'ambient'
"""
HAS_DATA = (
    "SELECT EXISTS (SELECT 1 FROM lockers_event WHERE tenant_id = $1 AND locker_id = ANY($2::uuid[]) AND at < $3)"
)
ALARMS = """
SELECT locker_id, compartment_id, COALESCE(raised_at, condition_since) AS start, cleared_at FROM lockers_alarm
WHERE tenant_id = $1 AND kind IN ('temperature_high', 'temperature_low') AND locker_id = ANY($2::uuid[])
  AND COALESCE(raised_at, condition_since) < $4 AND (cleared_at IS NULL OR cleared_at > $3)
"""
INSERT = """
INSERT INTO procurement_followup (federation_id, contract_id, municipality_id, month, service_level_id, measured,
                                  target, breached, penalty_sek, details, computed_at)
SELECT $1, $2, f.municipality_id, $3, f.level, f.measured, f.target, f.breached, f.penalty, f.details::jsonb, $4
FROM unnest($5::uuid[], $6::uuid[], $7::numeric[], $8::numeric[], $9::bool[], $10::numeric[], $11::text[])
  AS f(municipality_id, level, measured, target, breached, penalty, details)
"""


@dataclass(frozen=True)
class Level:
    id: UUID
    metric: str
    severity: str | None
    target: Decimal
    unit: str
    penalty_sek: Decimal


@dataclass(frozen=True)
class Plan:
    """What a follow-up of one contract needs from the federation's data."""

    contract: Any
    levels: list[Level]
    lockers: dict[UUID, list[UUID]]  # municipality -> the lockers its call-offs cover


@dataclass(frozen=True)
class Line:
    municipality_id: UUID
    level: Level
    measured: Decimal | None
    breached: bool
    penalty_sek: Decimal
    details: dict[str, Any]


def parse_id(value: object, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


def check_month(month: date) -> None:
    if month.day != 1:
        raise api.ValidationFailed.on("month", "Give the month as its first day, e.g. 2026-10-01.")


async def contract(scope: api.Scope, contract_id: UUID) -> Any:
    row = await scope.connection.fetchrow(CONTRACT, contract_id)
    if row is None:
        raise api.NotFound("Contract", contract_id)
    return row


def may_manage(c: Caller, lead_municipality_id: UUID | None) -> bool:
    """Federation admins, and the admins of the municipality that leads the procurement."""
    if c.federation_admin:
        return True
    if c.municipality_id is None or c.municipality_id != lead_municipality_id:
        return False
    try:
        api.check_access(c.principal, roles=ADMINS, scope=WRITE_SCOPE)
    except api.PermissionDenied:
        return False
    return True


async def plan(scope: api.Scope, c: Caller, contract_id: UUID) -> Plan:
    row = await contract(scope, contract_id)
    if not may_manage(c, row["lead_municipality_id"]):
        raise api.PermissionDenied(
            "Only federation administrators, or the admins of the municipality leading the procurement, compute "
            "follow-ups."
        )
    if not row["covers_lockers"]:
        raise api.Conflict("This contract covers no lockers, so there is no locker data to follow it up from.")
    levels = [Level(**dict(r)) for r in await scope.connection.fetch(LEVELS, contract_id)]
    if not levels:
        raise api.Conflict("The contract has no service levels yet: set them first (mutation setServiceLevels).")
    lockers = {
        r["municipality_id"]: list(r["lockers"] or []) for r in await scope.connection.fetch(CALL_OFFS, contract_id)
    }
    return Plan(row, levels, lockers)


@dataclass(frozen=True)
class Measured:
    availability: metrics.Measure | None
    temperature_compliance: metrics.Measure | None
    faults: dict[faults_link.Key, metrics.Measure] = field(default_factory=dict)  # from fault reports


async def measure(
    db: Database, municipality: UUID, lockers: list[UUID], period: metrics.Period, contract_id: UUID | None = None
) -> Measured:
    """Read one municipality's locker data (and its faults under the contract) for the period, in
    its own tenant transaction."""
    if not lockers:
        return Measured(None, None)
    faults = await faults_link.measure(db, municipality, contract_id, period) if contract_id else {}
    async with db.tenant(municipality) as scope:
        conn = scope.connection
        args = (municipality, lockers)
        carried = {r["locker_id"]: r["online"] for r in await conn.fetch(CARRIED_IN, *args, period.start)}
        events = [metrics.HealthEvent(**dict(r)) for r in await conn.fetch(HEALTH, *args, period.start, period.end)]
        compartments = {r["id"]: r["locker_id"] for r in await conn.fetch(COMPARTMENTS, *args)}
        spans = [
            metrics.AlarmSpan(r["locker_id"], r["compartment_id"], r["start"], r["cleared_at"])
            for r in await conn.fetch(ALARMS, *args, period.start, period.end)
        ]
        has_data = bool(await conn.fetchval(HAS_DATA, *args, period.end))
    return Measured(
        metrics.availability(period, lockers, carried, events),
        metrics.temperature_compliance(period, compartments, spans, has_data=has_data),
        faults,
    )


def judge(municipality: UUID, level: Level, measured: Measured, period: metrics.Period) -> Line:
    found = getattr(measured, level.metric, None) if level.metric in metrics.LOCKER_METRICS else None
    if level.metric in faults_link.FAULT_METRICS:
        found = measured.faults.get((level.metric, level.severity))
    value = found.value if found else None
    details: dict[str, Any] = {
        "metric": level.metric,
        "severity": level.severity,
        "unit": level.unit,
        "from": period.start.astimezone(metrics.LOCAL).isoformat(),
        "to": period.end.astimezone(metrics.LOCAL).isoformat(),
    }
    if found:
        details.update(found.details)
    elif level.metric in metrics.LOCKER_METRICS:
        details["reason"] = "no locker data for this period"
    else:
        details["reason"] = "no fault reported under this contract in this period"
    breached = metrics.breached(level.unit, level.target, value)
    return Line(municipality, level, value, breached, level.penalty_sek if breached else Decimal(0), details)


async def compute(db: Database, c: Caller, contract_id: UUID, month: date, now: datetime) -> None:
    """Measure every municipality with a call-off for the month and replace the month's rows."""
    check_month(month)
    async with db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        p = await plan(scope, c, contract_id)
    row = p.contract
    period = metrics.month_period(month, starts_on=row["starts_on"], ends_on=row["ends_on"], now=now)
    if period is None:
        raise api.ValidationFailed.on(
            "month",
            f"Nothing of {month:%Y-%m} can be followed up: the contract runs from {row['starts_on']} to "
            f"{row['ends_on']}, and a month is followed up once it has begun.",
        )
    lines: list[Line] = []
    for municipality, lockers in p.lockers.items():
        measured = await measure(db, municipality, lockers, period, contract_id)
        lines += [judge(municipality, level, measured, period) for level in p.levels]
    async with db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        await store(scope, c, p, month, lines, now)


async def store(scope: api.Scope, c: Caller, p: Plan, month: date, lines: list[Line], now: datetime) -> None:
    conn, contract_id = scope.connection, p.contract["id"]
    # Serialises recomputations of one contract: each replaces the month's rows whole.
    await conn.execute("SELECT 1 FROM procurement_contract WHERE id = $1 FOR UPDATE", contract_id)
    if [Level(**dict(r)) for r in await conn.fetch(LEVELS, contract_id)] != p.levels:
        raise api.Conflict("The contract's service levels changed while the follow-up was computed: compute it again.")
    await conn.execute("DELETE FROM procurement_followup WHERE contract_id = $1 AND month = $2", contract_id, month)
    await conn.execute(
        INSERT,
        scope.federation_id,
        contract_id,
        month,
        now,
        [x.municipality_id for x in lines],
        [x.level.id for x in lines],
        [x.measured for x in lines],
        [x.level.target for x in lines],
        [x.breached for x in lines],
        [x.penalty_sek for x in lines],
        [json.dumps(x.details) for x in lines],
    )
    await log(
        scope,
        c,
        "procurement.followup_computed",
        procurement_id=p.contract["procurement_id"],
        details={
            "contract_id": str(contract_id),
            "month": month.isoformat(),
            "municipalities": len(p.lockers),
            "breaches": sum(x.breached for x in lines),
            "penalty_sek": str(sum((x.penalty_sek for x in lines), Decimal(0))),
        },
    )
