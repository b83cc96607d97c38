"""Persist one tenant's share of an ingest batch in one transaction (bulk SQL).

The caller opened ``db.tenant(tenant)``, so row-level security already confines every
statement to that tenant; events from endpoints not registered there are handed back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from opcua_gateway.contracts import (
    AlarmCleared,
    AlarmKind,
    AlarmRaised,
    CommandResult,
    HealthChanged,
    LockerEvent,
    Opened,
    Telemetry,
    TemperatureClass,
)
from plugins.lockers import alarms, domain, ingest_records, live
from plugins.lockers.config import LockersConfig
from plugins.lockers.hooks import AfterCommit, PlacedEvent

LOCK_LOCKERS = """
SELECT l.id, l.endpoint_id, l.vendor_locker_id, l.health_seq FROM lockers_locker l
JOIN unnest($2::text[], $3::text[]) AS k(endpoint_id, locker_key)
  ON l.endpoint_id = k.endpoint_id AND l.vendor_locker_id = k.locker_key
WHERE l.tenant_id = $1 ORDER BY l.id FOR UPDATE OF l
"""

LOCK_COMPARTMENTS = """
SELECT c.* FROM lockers_compartment c
JOIN unnest($2::uuid[], $3::text[]) AS k(locker_id, compartment_key)
  ON c.locker_id = k.locker_id AND c.compartment_key = k.compartment_key
WHERE c.tenant_id = $1 ORDER BY c.id FOR UPDATE OF c
"""

INSERT_EVENTS = """
INSERT INTO lockers_event (tenant_id, event_id, kind, endpoint_id, locker_key, compartment_key, locker_id,
                           compartment_id, seq, at, body)
SELECT $1, e.event_id, e.kind, e.endpoint_id, e.locker_key, e.compartment_key, e.locker_id, e.compartment_id,
       e.seq, e.at, e.body::jsonb
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[], $8::uuid[], $9::int8[],
            $10::timestamptz[], $11::text[])
  AS e(event_id, kind, endpoint_id, locker_key, compartment_key, locker_id, compartment_id, seq, at, body)
ON CONFLICT (tenant_id, event_id) DO NOTHING
RETURNING event_id
"""

UPDATE_COMPARTMENTS = """
UPDATE lockers_compartment c SET
  door_open = u.door_open, locked = u.locked, occupied = u.occupied, status = u.status, setpoint_c = u.setpoint_c,
  state_seq = u.state_seq, state_at = u.state_at, temperature_c = u.temperature_c,
  temperature_seq = u.temperature_seq, temperature_at = u.temperature_at, door_opened_at = u.door_opened_at,
  excursion = u.excursion, excursion_since = u.excursion_since, connectivity = u.connectivity,
  device_health = u.device_health, health_detail = u.health_detail, health_seq = u.health_seq
FROM unnest($2::uuid[], $3::bool[], $4::bool[], $5::bool[], $6::text[], $7::float8[], $8::int8[],
            $9::timestamptz[], $10::float8[], $11::int8[], $12::timestamptz[], $13::timestamptz[], $14::text[],
            $15::timestamptz[], $16::text[], $17::text[], $18::text[], $19::int8[])
  AS u(id, door_open, locked, occupied, status, setpoint_c, state_seq, state_at, temperature_c, temperature_seq,
       temperature_at, door_opened_at, excursion, excursion_since, connectivity, device_health, health_detail,
       health_seq)
WHERE c.tenant_id = $1 AND c.id = u.id
"""

UPDATE_LOCKERS = """
UPDATE lockers_locker l SET
  last_seen = GREATEST(l.last_seen, u.last_seen),
  connectivity = COALESCE(u.connectivity, l.connectivity),
  device_health = COALESCE(u.device_health, l.device_health),
  health_detail = COALESCE(u.health_detail, l.health_detail),
  health_seq = COALESCE(u.health_seq, l.health_seq),
  health_at = COALESCE(u.health_at, l.health_at)
FROM unnest($2::uuid[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::timestamptz[])
  AS u(id, last_seen, connectivity, device_health, health_detail, health_seq, health_at)
WHERE l.tenant_id = $1 AND l.id = u.id
"""

INSERT_SAMPLES = """
INSERT INTO lockers_temperature_sample (tenant_id, compartment_id, at, seq, temperature_c)
SELECT $1, s.compartment_id, s.at, s.seq, s.temperature_c
FROM unnest($2::uuid[], $3::timestamptz[], $4::int8[], $5::float8[]) AS s(compartment_id, at, seq, temperature_c)
ON CONFLICT DO NOTHING
"""


@dataclass
class Stored:
    """What the caller does after commit, and what it must not acknowledge as stored."""

    rejected_events: list[int] = field(default_factory=list)
    rejected_results: list[int] = field(default_factory=list)
    duplicates: int = 0
    live: list[dict[str, Any]] = field(default_factory=list)
    results: list[UUID] = field(default_factory=list)
    timers_running: bool = False
    new: list[PlacedEvent] = field(default_factory=list)  # for the ``lockers.events`` hooks
    after: list[AfterCommit] = field(default_factory=list)  # what the hooks left for after commit


@dataclass(frozen=True)
class _Where:
    locker_id: UUID | None
    compartment_id: UUID | None


def _kind(event: LockerEvent) -> str:
    return str(type(event).__struct_config__.tag)


def _compartment_now(row: Any) -> domain.CompartmentNow:
    return domain.CompartmentNow(
        id=row["id"],
        locker_id=row["locker_id"],
        temperature_class=TemperatureClass(row["temperature_class"]),
        door_open=row["door_open"],
        locked=row["locked"],
        occupied=row["occupied"],
        status=row["status"],
        setpoint_c=row["setpoint_c"],
        state_seq=row["state_seq"],
        state_at=row["state_at"],
        temperature_c=row["temperature_c"],
        temperature_seq=row["temperature_seq"],
        temperature_at=row["temperature_at"],
        door_opened_at=row["door_opened_at"],
        excursion=AlarmKind(row["excursion"]) if row["excursion"] else None,
        excursion_since=row["excursion_since"],
        connectivity=row["connectivity"],
        device_health=row["device_health"],
        health_detail=row["health_detail"],
        health_seq=row["health_seq"],
    )


async def _registered(scope: api.Scope, endpoint_ids: set[str]) -> set[str]:
    rows = await scope.connection.fetch(
        "SELECT id FROM lockers_endpoint WHERE tenant_id = $1 AND id = ANY($2::text[])",
        scope.tenant,
        sorted(endpoint_ids),
    )
    return {r["id"] for r in rows}


async def store(
    scope: api.Scope,
    events: Sequence[tuple[LockerEvent, str]],
    results: Sequence[CommandResult],
    settings: LockersConfig,
    now: datetime,
) -> Stored:
    """Store new events (a duplicate event_id is a no-op), move current state in seq order,
    append samples, raise and clear alarms, audit openings, and record command results."""
    out = Stored()
    known = await _registered(scope, {e.endpoint_id for e, _ in events} | {r.endpoint_id for r in results})
    out.rejected_events = [i for i, (e, _) in enumerate(events) if e.endpoint_id not in known]
    out.rejected_results = [i for i, r in enumerate(results) if r.endpoint_id not in known]
    accepted = [(e, raw) for e, raw in events if e.endpoint_id in known]
    if accepted:
        await _events(scope, accepted, out, now)
    for result in (r for r in results if r.endpoint_id in known):
        await _result(scope, result, out)
    changes = await alarms.evaluate(scope, settings, now)
    out.timers_running = changes.timers_running
    out.live += [live.backend_payload("alarm_raised", now, r) for r in changes.raised]
    out.live += [live.backend_payload("alarm_cleared", now, r) for r in changes.cleared]
    return out


async def _events(scope: api.Scope, events: list[tuple[LockerEvent, str]], out: Stored, now: datetime) -> None:
    conn, tenant = scope.connection, scope.tenant
    pairs = sorted({(e.endpoint_id, e.locker) for e, _ in events})
    lockers = await conn.fetch(LOCK_LOCKERS, tenant, [p[0] for p in pairs], [p[1] for p in pairs])
    locker_of = {(r["endpoint_id"], r["vendor_locker_id"]): r for r in lockers}
    keys = sorted(
        {
            (locker_of[(e.endpoint_id, e.locker)]["id"], e.compartment)
            for e, _ in events
            if e.compartment is not None and (e.endpoint_id, e.locker) in locker_of
        }
    )
    rows = await conn.fetch(LOCK_COMPARTMENTS, tenant, [k[0] for k in keys], [k[1] for k in keys])
    compartment_of = {(r["locker_id"], r["compartment_key"]): r for r in rows}

    def where(e: LockerEvent) -> _Where:
        locker = locker_of.get((e.endpoint_id, e.locker))
        if locker is None:
            return _Where(None, None)
        row = compartment_of.get((locker["id"], e.compartment)) if e.compartment is not None else None
        return _Where(locker["id"], row["id"] if row else None)

    placed = [(e, raw, where(e)) for e, raw in events]
    rows = await conn.fetch(
        INSERT_EVENTS,
        tenant,
        [e.event_id for e, _, _ in placed],
        [_kind(e) for e, _, _ in placed],
        [e.endpoint_id for e, _, _ in placed],
        [e.locker for e, _, _ in placed],
        [e.compartment for e, _, _ in placed],
        [w.locker_id for _, _, w in placed],
        [w.compartment_id for _, _, w in placed],
        [e.seq for e, _, _ in placed],
        [e.at for e, _, _ in placed],
        [live.redacted(e, raw) for e, raw, _ in placed],
    )
    new_ids = {r["event_id"] for r in rows}
    new = [(e, w) for e, _, w in placed if e.event_id in new_ids]
    out.duplicates = len(placed) - len(new)
    out.new = [PlacedEvent(e, w.locker_id, w.compartment_id) for e, w in new]
    await _state(scope, new, compartment_of)
    await _lockers(scope, new, locker_of)
    await _samples(scope, new)
    for event, w in sorted(new, key=lambda item: (item[0].at, item[0].seq)):
        if isinstance(event, AlarmRaised | AlarmCleared):
            await ingest_records.gateway_alarm(scope, event, w.locker_id, w.compartment_id)
    opened = [(e, w.compartment_id) for e, w in new if isinstance(e, Opened)]
    await ingest_records.openings(scope, opened)
    latest_telemetry: dict[UUID | None, tuple[LockerEvent, _Where]] = {}
    for event, w in new:
        if isinstance(event, Telemetry):
            current = latest_telemetry.get(w.compartment_id)
            if current is None or event.seq > current[0].seq:
                latest_telemetry[w.compartment_id] = (event, w)
        else:
            out.live.append(live.event_payload(event, w.locker_id, w.compartment_id))
    out.live += [live.event_payload(e, w.locker_id, w.compartment_id) for e, w in latest_telemetry.values()]


async def _state(scope: api.Scope, new: list[tuple[LockerEvent, _Where]], rows: dict[Any, Any]) -> None:
    by_compartment: dict[UUID, list[LockerEvent]] = defaultdict(list)
    for event, w in new:
        if w.compartment_id is not None:
            by_compartment[w.compartment_id].append(event)
    before = {r["id"]: _compartment_now(r) for r in rows.values()}
    changed = [after for cid, evs in by_compartment.items() if (after := domain.apply(before[cid], evs)) != before[cid]]
    if not changed:
        return
    await scope.connection.execute(
        UPDATE_COMPARTMENTS,
        scope.tenant,
        [c.id for c in changed],
        [c.door_open for c in changed],
        [c.locked for c in changed],
        [c.occupied for c in changed],
        [c.status for c in changed],
        [c.setpoint_c for c in changed],
        [c.state_seq for c in changed],
        [c.state_at for c in changed],
        [c.temperature_c for c in changed],
        [c.temperature_seq for c in changed],
        [c.temperature_at for c in changed],
        [c.door_opened_at for c in changed],
        [c.excursion.value if c.excursion else None for c in changed],
        [c.excursion_since for c in changed],
        [c.connectivity for c in changed],
        [c.device_health for c in changed],
        [c.health_detail for c in changed],
        [c.health_seq for c in changed],
    )


async def _lockers(scope: api.Scope, new: list[tuple[LockerEvent, _Where]], rows: dict[Any, Any]) -> None:
    seen: dict[UUID, datetime] = {}
    health: dict[UUID, list[HealthChanged]] = defaultdict(list)
    for event, w in new:
        if w.locker_id is None:
            continue
        seen[w.locker_id] = max(seen.get(w.locker_id, event.at), event.at)
        if isinstance(event, HealthChanged) and event.compartment is None:
            health[w.locker_id].append(event)
    if not seen:
        return
    stored_seq = {r["id"]: r["health_seq"] for r in rows.values()}
    ids = sorted(seen)
    latest = {lid: domain.latest_health(health[lid], stored_seq.get(lid)) for lid in ids}
    await scope.connection.execute(
        UPDATE_LOCKERS,
        scope.tenant,
        ids,
        [seen[i] for i in ids],
        [h.health.connectivity.value if (h := latest[i]) else None for i in ids],
        [h.health.device_health.value if (h := latest[i]) else None for i in ids],
        [h.health.detail[:500] if (h := latest[i]) else None for i in ids],
        [h.seq if (h := latest[i]) else None for i in ids],
        [h.at if (h := latest[i]) else None for i in ids],
    )


async def _samples(scope: api.Scope, new: list[tuple[LockerEvent, _Where]]) -> None:
    samples = [
        (w.compartment_id, e.at, e.seq, e.temperature_c)
        for e, w in new
        if isinstance(e, Telemetry) and e.temperature_c is not None and w.compartment_id is not None
    ]
    if samples:
        await scope.connection.execute(INSERT_SAMPLES, scope.tenant, *(list(col) for col in zip(*samples, strict=True)))


async def _result(scope: api.Scope, result: CommandResult, out: Stored) -> None:
    row = await ingest_records.command_result(scope, result)
    if row is not None:
        out.results.append(row["request_id"])
        out.live.append(live.backend_payload("command_result", result.at, row))
