"""Faults the gateway reports by itself: a sensor giving Bad values (sensor_fault alarms), a
locker whose device health is FAILURE (from the ``lockers.events`` hook), a locker offline
longer than the tenant's limit, a closed door that stays unlocked past a grace time, and
repeated failed commands (from the sweep, every few seconds).

Each has an ``ongoing_key`` (kind + locker/compartment); a unique index over the open faults'
keys makes a second raise of the same ongoing fault do nothing. Gateway faults are not resolved
automatically: the vendor resolves them (the fix time measures its work), and a fault that comes
and goes would otherwise open and close over and over; once resolved, a new one may be raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from opcua_gateway.contracts import AlarmKind, AlarmRaised, DeviceHealth, HealthChanged
from plugins.fault_reports import config, workflow
from plugins.fault_reports.domain import Category, Severity, Source, Status
from plugins.lockers.hooks import AfterCommit, PlacedEvent
from tenants import audit
from tenants.access import Actor

GATEWAY = Actor("system", None, "Gateway")
RAISE = """
INSERT INTO fault_report (tenant_id, id, locker_id, compartment_id, category, description, reported_by_kind,
                          reported_by_id, reported_by, reported_at, status, severity, source, ongoing_key)
VALUES ($1, $2, $3, $4, $5, $6, 'system', NULL, 'Gateway', $7, 'reported', $8, 'gateway', $9)
ON CONFLICT (tenant_id, ongoing_key) WHERE ongoing_key IS NOT NULL
  AND status IN ('reported', 'acknowledged', 'in_progress') DO NOTHING
RETURNING id
"""
OFFLINE = """
SELECT id, name, health_at FROM lockers_locker
WHERE tenant_id = $1 AND connectivity = 'offline' AND health_at IS NOT NULL AND health_at <= $2
"""
UNLOCKED = """
SELECT c.id, c.locker_id, c.compartment_key AS key FROM lockers_compartment c
WHERE c.tenant_id = $1 AND c.door_open = false AND c.locked = false AND c.state_at <= $2
"""
FAILED_COMMANDS = """
SELECT c.locker_id, count(*) AS n FROM lockers_command m
JOIN lockers_compartment c ON c.tenant_id = m.tenant_id AND c.id = m.compartment_id
WHERE m.tenant_id = $1 AND m.outcome IN ('failed', 'timeout') AND m.completed_at > $2
GROUP BY c.locker_id HAVING count(*) >= $3
"""


async def raise_fault(
    scope: api.Scope,
    *,
    key: str,
    locker_id: UUID,
    compartment_id: UUID | None,
    category: Category,
    severity: Severity,
    description: str,
    now: datetime,
) -> UUID | None:
    """Raise a gateway fault unless the same one (``key``) is still open; returns its id when new."""
    fault_id: UUID | None = await scope.connection.fetchval(
        RAISE,
        scope.tenant,
        uuid4(),
        locker_id,
        compartment_id,
        category.value,
        description[:2000],
        now,
        severity.value,
        key[:200],
    )
    if fault_id is None:
        return None
    await workflow.record(scope, fault_id, None, Status.REPORTED, GATEWAY, now)
    await audit.record(
        scope,
        actor=GATEWAY,
        action="fault_reports.reported",
        target_kind="fault_report",
        target_id=fault_id,
        details={"source": Source.GATEWAY.value, "key": key, "severity": severity.value, "locker_id": str(locker_id)},
    )
    return fault_id


async def on_locker_events(scope: api.Scope, events: Sequence[PlacedEvent], now: datetime) -> list[AfterCommit]:
    """The ``lockers.events`` hook: sensor faults and failed devices."""
    for p in events:
        e: Any = p.event
        if p.locker_id is None:
            continue
        if isinstance(e, AlarmRaised) and e.alarm is AlarmKind.SENSOR_FAULT:
            await raise_fault(
                scope,
                key=f"sensor:{p.locker_id}:{p.compartment_id or '-'}",
                locker_id=p.locker_id,
                compartment_id=p.compartment_id,
                category=Category.TEMPERATURE,
                severity=Severity.HIGH,
                description=f"A sensor gives bad values: {e.message}",
                now=now,
            )
        elif isinstance(e, HealthChanged) and e.health.device_health is DeviceHealth.FAILURE:
            await raise_fault(
                scope,
                key=f"failure:{p.locker_id}",
                locker_id=p.locker_id,
                compartment_id=None,
                category=Category.OTHER,
                severity=Severity.CRITICAL,
                description=f"The locker reports a device failure. {e.health.detail}".strip(),
                now=now,
            )
    return []


async def sweep(scope: api.Scope, now: datetime) -> int:
    """Offline lockers and repeated command failures; returns how many faults were raised."""
    settings = await config.load(scope)
    raised = 0
    cutoff = now - timedelta(minutes=settings.offline_minutes)
    for row in await scope.connection.fetch(OFFLINE, scope.tenant, cutoff):
        raised += (
            await raise_fault(
                scope,
                key=f"offline:{row['id']}",
                locker_id=row["id"],
                compartment_id=None,
                category=Category.OTHER,
                severity=Severity.CRITICAL,
                description=f"The locker {row['name']} has been offline since {row['health_at']:%Y-%m-%d %H:%M} UTC.",
                now=now,
            )
            is not None
        )
    for row in await scope.connection.fetch(
        UNLOCKED, scope.tenant, now - timedelta(minutes=settings.lock_grace_minutes)
    ):
        raised += (
            await raise_fault(
                scope,
                key=f"lock:{row['id']}",
                locker_id=row["locker_id"],
                compartment_id=row["id"],
                category=Category.DOOR_OR_LOCK,
                severity=Severity.HIGH,
                description=f"The door of compartment {row['key']} is closed but will not lock.",
                now=now,
            )
            is not None
        )
    since = now - timedelta(hours=1)
    for row in await scope.connection.fetch(FAILED_COMMANDS, scope.tenant, since, settings.command_failures):
        raised += (
            await raise_fault(
                scope,
                key=f"commands:{row['locker_id']}",
                locker_id=row["locker_id"],
                compartment_id=None,
                category=Category.DOOR_OR_LOCK,
                severity=Severity.HIGH,
                description=f"{row['n']} commands to the locker failed or timed out within the last hour.",
                now=now,
            )
            is not None
        )
    return raised
