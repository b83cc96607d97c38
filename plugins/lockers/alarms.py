"""Alarms: those the backend raises from its timers (door ajar, temperature excursion) and
clears when the condition ends, and acknowledging any alarm."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from opcua_gateway.contracts import AlarmKind, TemperatureClass
from plugins.lockers import domain
from plugins.lockers.config import LockersConfig
from tenants import audit
from tenants.access import Actor

TIMERS = """
SELECT id, locker_id, compartment_key, temperature_class, temperature_c, door_opened_at, excursion, excursion_since
FROM lockers_compartment
WHERE tenant_id = $1 AND (door_opened_at IS NOT NULL OR excursion_since IS NOT NULL)
"""

RAISE = """
INSERT INTO lockers_alarm (tenant_id, id, alarm_key, source, kind, severity, message, value, locker_id,
                           compartment_id, condition_since, raised_at)
SELECT $1, gen_random_uuid(), a.key, 'backend', a.kind, a.severity, a.message, a.value, a.locker_id,
       a.compartment_id, a.since, $2
FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::uuid[], $9::uuid[], $10::timestamptz[])
  AS a(key, kind, severity, message, value, locker_id, compartment_id, since)
ON CONFLICT (tenant_id, alarm_key) DO NOTHING
RETURNING id, kind, severity, message, value, locker_id, compartment_id
"""

CLEAR = """
UPDATE lockers_alarm SET cleared_at = $2
WHERE tenant_id = $1 AND source = 'backend' AND cleared_at IS NULL AND NOT (alarm_key = ANY($3::text[]))
RETURNING id, kind, severity, message, value, locker_id, compartment_id
"""

ACKNOWLEDGE = """
UPDATE lockers_alarm
SET acknowledged_at = $3, acknowledged_by_kind = $4, acknowledged_by_id = $5, acknowledged_by_label = $6
WHERE tenant_id = $1 AND id = $2 AND acknowledged_at IS NULL
RETURNING id
"""


@dataclass
class AlarmChanges:
    raised: list[dict[str, Any]] = field(default_factory=list)
    cleared: list[dict[str, Any]] = field(default_factory=list)
    timers_running: bool = False


def _timer(row: Any) -> domain.Timer:
    return domain.Timer(
        compartment_id=row["id"],
        locker_id=row["locker_id"],
        compartment_key=row["compartment_key"],
        temperature_class=TemperatureClass(row["temperature_class"]),
        temperature_c=row["temperature_c"],
        door_opened_at=row["door_opened_at"],
        excursion=AlarmKind(row["excursion"]) if row["excursion"] else None,
        excursion_since=row["excursion_since"],
    )


async def evaluate(scope: api.Scope, settings: LockersConfig, now: datetime) -> AlarmChanges:
    """Raise the backend's alarms that are due and clear those whose condition has ended."""
    conn, tenant = scope.connection, scope.tenant
    timers = [_timer(r) for r in await conn.fetch(TIMERS, tenant)]
    due, holding = domain.alarm_conditions(
        timers,
        now,
        door_ajar_limit_s=settings.door_ajar_limit_s,
        excursion_limit_s=settings.temperature_excursion_limit_s,
    )
    changes = AlarmChanges(timers_running=bool(timers))
    if due:
        rows = await conn.fetch(
            RAISE,
            tenant,
            now,
            [d.key for d in due],
            [d.kind.value for d in due],
            [d.severity for d in due],
            [d.message for d in due],
            [d.value for d in due],
            [d.locker_id for d in due],
            [d.compartment_id for d in due],
            [d.since for d in due],
        )
        changes.raised = [dict(r) for r in rows]
    changes.cleared = [dict(r) for r in await conn.fetch(CLEAR, tenant, now, sorted(holding))]
    return changes


async def acknowledge(scope: api.Scope, alarm_id: UUID, *, actor: Actor, now: datetime) -> None:
    """Acknowledge an alarm (again is a no-op); audited."""
    conn = scope.connection
    exists = await conn.fetchval(
        "SELECT kind FROM lockers_alarm WHERE tenant_id = $1 AND id = $2", scope.tenant, alarm_id
    )
    if exists is None:
        raise api.NotFound("Alarm", alarm_id)
    done = await conn.fetchval(ACKNOWLEDGE, scope.tenant, alarm_id, now, actor.kind, actor.id, actor.label[:320])
    if done is not None:
        await audit.record(
            scope,
            actor=actor,
            action="lockers.alarm_acknowledged",
            target_kind="locker_alarm",
            target_id=alarm_id,
            details={"kind": exists},
        )
