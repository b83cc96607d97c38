"""Rules of the lockers domain, as plain Python (no I/O): endpoint ids, the cold-chain bands,
and how events in ``seq`` order move a compartment's current state and alarm timers."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from opcua_gateway.contracts import (
    CLASS_LIMITS,
    AlarmCleared,
    AlarmKind,
    AlarmRaised,
    HealthChanged,
    LockerEvent,
    StateChanged,
    Telemetry,
    TemperatureClass,
)

ENDPOINT_NAME = re.compile(r"^[a-z0-9-]{1,40}$")
ENDPOINT_ID = re.compile(r"^([0-9a-f]{32})\.([a-z0-9-]{1,40})$")


def endpoint_id_for(tenant_id: UUID, name: str) -> str:
    """``<tenant uuid hex>.<name>``: the id the gateway is configured with."""
    return f"{tenant_id.hex}.{name}"


def tenant_of(endpoint_id: str) -> UUID | None:
    """The tenant an endpoint id names, or ``None`` when it is not an endpoint id at all.

    Naming a tenant proves nothing: ingest still requires the endpoint registered there."""
    match = ENDPOINT_ID.match(endpoint_id)
    return UUID(hex=match.group(1)) if match else None


def excursion_of(temperature_class: TemperatureClass, temperature_c: float) -> AlarmKind | None:
    """Which side of its class's band (DOMAIN.md: chilled 2-8 °C, frozen -18 °C or colder) a reading is on."""
    low, high = CLASS_LIMITS[temperature_class]
    if high is not None and temperature_c > high:
        return AlarmKind.TEMPERATURE_HIGH
    if low is not None and temperature_c < low:
        return AlarmKind.TEMPERATURE_LOW
    return None


def newer(seq: int, than: int | None) -> bool:
    return than is None or seq > than


@dataclass(frozen=True)
class CompartmentNow:
    """A compartment's current state as stored, with the seq each part came from."""

    id: UUID
    locker_id: UUID
    temperature_class: TemperatureClass
    door_open: bool | None = None
    locked: bool | None = None
    occupied: bool | None = None
    status: str = "free"
    setpoint_c: float | None = None
    state_seq: int | None = None
    state_at: datetime | None = None
    temperature_c: float | None = None
    temperature_seq: int | None = None
    temperature_at: datetime | None = None
    door_opened_at: datetime | None = None
    excursion: AlarmKind | None = None
    excursion_since: datetime | None = None
    connectivity: str | None = None
    device_health: str | None = None
    health_detail: str = ""
    health_seq: int | None = None


def _reading(now: CompartmentNow, seq: int, at: datetime, temperature_c: float | None) -> CompartmentNow:
    """A newer temperature: the latest value, and the excursion timer (a Bad value keeps the timer)."""
    now = replace(now, temperature_c=temperature_c, temperature_seq=seq, temperature_at=at)
    if temperature_c is None:
        return now
    side = excursion_of(now.temperature_class, temperature_c)
    if side != now.excursion:
        now = replace(now, excursion=side, excursion_since=at if side else None)
    return now


def _state(now: CompartmentNow, event: StateChanged) -> CompartmentNow:
    s = event.state
    opened_at = now.door_opened_at
    if s.door_open is True and not now.door_open:
        opened_at = event.at
    elif s.door_open is False:
        opened_at = None
    return replace(
        now,
        door_open=s.door_open,
        locked=s.locked,
        occupied=s.occupied,
        status=s.status.value,
        setpoint_c=s.setpoint_c if s.setpoint_c is not None else now.setpoint_c,
        state_seq=event.seq,
        state_at=event.at,
        door_opened_at=opened_at,
    )


def apply(now: CompartmentNow, events: Iterable[LockerEvent]) -> CompartmentNow:
    """Apply new events to a compartment in ``seq`` order; an older seq than the state already
    holds changes nothing here (the event is still kept in the history)."""
    for event in sorted(events, key=lambda e: e.seq):
        if isinstance(event, StateChanged):
            if newer(event.seq, now.state_seq):
                now = _state(now, event)
            has_reading = event.state.temperature_c is not None or "temperature_c" in event.changed
            if has_reading and newer(event.seq, now.temperature_seq):
                now = _reading(now, event.seq, event.at, event.state.temperature_c)
        elif isinstance(event, Telemetry):
            if newer(event.seq, now.temperature_seq):
                now = _reading(now, event.seq, event.at, event.temperature_c)
                if event.setpoint_c is not None:
                    now = replace(now, setpoint_c=event.setpoint_c)
        elif isinstance(event, HealthChanged) and newer(event.seq, now.health_seq):
            h = event.health
            now = replace(
                now,
                connectivity=h.connectivity.value,
                device_health=h.device_health.value,
                health_detail=h.detail[:500],
                health_seq=event.seq,
            )
    return now


def latest_health(events: Iterable[HealthChanged], health_seq: int | None) -> HealthChanged | None:
    """The newest locker-level health event that is newer than the stored one."""
    newest = max(events, key=lambda e: e.seq, default=None)
    return newest if newest is not None and newer(newest.seq, health_seq) else None


CLASS_NAMES_SV = {
    TemperatureClass.AMBIENT: "rumstempererat",
    TemperatureClass.CHILLED: "kylt",
    TemperatureClass.FROZEN: "fryst",
}


@dataclass(frozen=True)
class Timer:
    """A compartment whose door is open or whose temperature is outside its band."""

    compartment_id: UUID
    locker_id: UUID
    compartment_key: str
    temperature_class: TemperatureClass
    temperature_c: float | None
    door_opened_at: datetime | None
    excursion: AlarmKind | None
    excursion_since: datetime | None


@dataclass(frozen=True)
class DueAlarm:
    """An alarm the backend raises itself once a timer has run past its limit."""

    key: str
    kind: AlarmKind
    severity: str
    message: str
    value: float | None
    compartment_id: UUID
    locker_id: UUID
    since: datetime


def backend_alarm_key(kind: AlarmKind, compartment_id: UUID, since: datetime) -> str:
    """One alarm per condition instance: the same open door never raises twice."""
    return f"backend:{kind.value}:{compartment_id}:{since.timestamp():.6f}"


def _excursion_message(t: Timer, limit_s: int) -> str:
    low, high = CLASS_LIMITS[t.temperature_class]
    bound = f"över {high:g} °C" if t.excursion is AlarmKind.TEMPERATURE_HIGH else f"under {low:g} °C"
    value = f"{t.temperature_c:.1f} °C, " if t.temperature_c is not None else ""
    return f"Fack {t.compartment_key} ({CLASS_NAMES_SV[t.temperature_class]}): {value}{bound} i mer än {limit_s} s."


def alarm_conditions(
    timers: Iterable[Timer], now: datetime, *, door_ajar_limit_s: int, excursion_limit_s: int
) -> tuple[list[DueAlarm], set[str]]:
    """The alarms due now, and the keys of every condition that still holds (due or not):
    a backend alarm whose condition no longer holds is cleared."""
    due: list[DueAlarm] = []
    holding: set[str] = set()
    for t in timers:
        if t.door_opened_at is not None:
            key = backend_alarm_key(AlarmKind.DOOR_AJAR, t.compartment_id, t.door_opened_at)
            holding.add(key)
            if (now - t.door_opened_at).total_seconds() >= door_ajar_limit_s:
                message = f"Dörren till fack {t.compartment_key} har stått öppen i mer än {door_ajar_limit_s} s."
                due.append(
                    DueAlarm(
                        key,
                        AlarmKind.DOOR_AJAR,
                        "warning",
                        message,
                        None,
                        t.compartment_id,
                        t.locker_id,
                        t.door_opened_at,
                    )
                )
        if t.excursion is not None and t.excursion_since is not None:
            key = backend_alarm_key(t.excursion, t.compartment_id, t.excursion_since)
            holding.add(key)
            if (now - t.excursion_since).total_seconds() >= excursion_limit_s:
                due.append(
                    DueAlarm(
                        key,
                        t.excursion,
                        "critical",
                        _excursion_message(t, excursion_limit_s),
                        t.temperature_c,
                        t.compartment_id,
                        t.locker_id,
                        t.excursion_since,
                    )
                )
    return due, holding


MAX_EVENT_ID = 100
MAX_LOCKER_KEY = 100
MAX_COMPARTMENT_KEY = 40
MAX_SEQ = 2**63 - 1


def problem_with(event: LockerEvent) -> str | None:
    """Why an event that decoded under the contract still cannot be stored, or ``None``."""
    if not 0 < len(event.event_id) <= MAX_EVENT_ID:
        return f"event_id must be 1-{MAX_EVENT_ID} characters"
    if not 0 < len(event.locker) <= MAX_LOCKER_KEY:
        return f"locker must be 1-{MAX_LOCKER_KEY} characters"
    if event.compartment is not None and not 0 < len(event.compartment) <= MAX_COMPARTMENT_KEY:
        return f"compartment must be 1-{MAX_COMPARTMENT_KEY} characters"
    if not -MAX_SEQ <= event.seq <= MAX_SEQ:
        return "seq is out of range"
    if event.at.tzinfo is None:
        return "at must be timezone-aware"
    if isinstance(event, AlarmRaised | AlarmCleared) and not 0 < len(event.alarm_id) <= MAX_EVENT_ID:
        return f"alarm_id must be 1-{MAX_EVENT_ID} characters"
    return None
