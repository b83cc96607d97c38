"""One endpoint's view of its lockers: readings and time in, canonical events out.

Pure (no I/O): the runtime feeds it readings, connectivity and clock ticks and writes
the returned events to the outbox. Events come out as drafts with ``seq=0`` and an
empty ``event_id``; the outbox assigns both when it stores them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

import msgspec

from opcua_gateway.alarms import AlarmChange, AlarmEngine, AlarmKey
from opcua_gateway.config import AlarmPolicy
from opcua_gateway.contracts import (
    AlarmCleared,
    AlarmKind,
    AlarmRaised,
    CodeEntered,
    CompartmentState,
    HealthChanged,
    LockerEvent,
    Opened,
    Severity,
    StateChanged,
    Telemetry,
)
from opcua_gateway.health import HealthTracker
from opcua_gateway.mapping import CompartmentModel, Converted, Reading, canonical, changed_fields, convert
from opcua_gateway.profile import EventAlarm, Profile

log = logging.getLogger(__name__)
Key = tuple[str, str]  # locker, compartment


@dataclass(frozen=True)
class Binding:
    """A node value feeds ``field`` of one compartment (element ``index`` of an array value)."""

    locker: str
    compartment: str
    field: str
    index: int | None = None


class EndpointModel:
    def __init__(self, endpoint_id: str, profile: Profile, policy: AlarmPolicy, *, telemetry_interval_s: float,
                 deadband_c: float) -> None:
        self.endpoint_id = endpoint_id
        self.profile = profile
        self.sources = profile.fields.sources()
        self.policy = policy
        self.telemetry_interval_s = telemetry_interval_s
        self.deadband_c = deadband_c
        self.alarms = AlarmEngine(policy)
        self.compartments: dict[Key, CompartmentModel] = {}
        self.lockers: dict[str, HealthTracker] = {}
        self._emitted: dict[Key, CompartmentState] = {}
        self._telemetry_at: dict[Key, float] = {}
        self._connected = False
        self._offline_reason = "not connected yet"

    # -- inputs ---------------------------------------------------------------------------

    def set_topology(self, compartments: Iterable[Key], now: float, at: datetime) -> list[LockerEvent]:
        """The lockers and compartments found in the address space (after each (re)connect)."""
        found = set(compartments)
        for key in found:
            if key not in self.compartments:
                model = CompartmentModel(*key)
                for name, source in self.sources.items():
                    if source.const is not msgspec.UNSET:
                        const = None if source.const is None else canonical(name, source.const)
                        model.apply(name, Converted(value=const))
                self.compartments[key] = model
        lockers = {locker for locker, _ in found}
        for locker in lockers - set(self.lockers):
            self.lockers[locker] = HealthTracker(self.policy.stale_after_s, self.policy.stuck_after_s,
                                                 connected=self._connected, offline_reason=self._offline_reason)
        for locker, tracker in self.lockers.items():
            tracker.present = locker in lockers
            if tracker.present and self._connected:
                tracker.set_connected(True, now=now)
        return self._health_events(now, at)

    def apply(self, readings: Iterable[tuple[Binding, Reading]], now: float, at: datetime) -> list[LockerEvent]:
        touched: dict[Key, None] = {}
        for binding, reading in readings:
            key = (binding.locker, binding.compartment)
            model = self.compartments.get(key)
            source = self.sources.get(binding.field)
            if model is None or source is None:
                continue
            converted = convert(binding.field, source, reading, binding.index)
            before = model.problems.get(binding.field)
            model.apply(binding.field, converted)
            if converted.problem is not None and converted.problem != before:
                log.warning("%s %s/%s %s", self.endpoint_id, *key, converted.problem.describe())
            tracker = self.lockers.get(binding.locker)
            if tracker is not None:
                tracker.seen(now, at)
                if binding.field == "temperature_c":
                    tracker.temperature(binding.compartment, model.values.get("temperature_c"), now)
            touched[key] = None
        events: list[LockerEvent] = []
        for key in touched:
            events += self._compartment(key, now, at)
        return events + self._health_events(now, at)

    def alive(self, now: float, at: datetime, lockers: Iterable[str] | None = None) -> None:
        """Evidence that the values of these lockers (default: all) are current, e.g. a keep-alive."""
        for locker in self.lockers if lockers is None else lockers:
            if locker in self.lockers:
                self.lockers[locker].seen(now, at)

    def set_connected(self, connected: bool, now: float, at: datetime, reason: str = "") -> list[LockerEvent]:
        self._connected = connected
        if not connected:
            self._offline_reason = reason or "endpoint not connected"
        for tracker in self.lockers.values():
            tracker.set_connected(connected, reason, now)
        return self._health_events(now, at)

    def tick(self, now: float, at: datetime) -> list[LockerEvent]:
        events: list[LockerEvent] = []
        for key in self.compartments:
            events += self._compartment(key, now, at, state_changes=False)
        return events + self._health_events(now, at)

    def vendor_alarm(self, locker: str, compartment: str | None, source: str, *, active: bool, kind: AlarmKind,
                     severity: Severity, message: str, value: float | None, at: datetime) -> list[LockerEvent]:
        changes = self.alarms.vendor(locker, compartment, source, active=active, kind=kind, severity=severity,
                                     message=message, value=value)
        return [self._alarm_event(change, at) for change in changes]

    def vendor_event(self, locker: str, spec: EventAlarm, fields: dict[str, object], at: datetime,
                     ) -> list[LockerEvent]:
        """A vendor OPC UA event (its fields by browse name) -> alarm raise/clear per the profile."""
        compartment = None
        if spec.compartment_field is not None:
            raw = fields.get(spec.compartment_field)
            compartment = None if raw is None else str(raw)
        active = True if spec.active_field is None else fields.get(spec.active_field) is True
        value = fields.get(spec.value_field) if spec.value_field else None
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
        try:
            message = spec.message.format_map(fields)
        except (KeyError, IndexError, ValueError, TypeError):
            message = f"{spec.type} from {locker}"
        return self.vendor_alarm(locker, compartment, spec.type, active=active, kind=spec.alarm,
                                 severity=spec.severity, message=message, value=number, at=at)

    def opened(self, locker: str, compartment: str, *, by: str, request_id: str | None, at: datetime) -> Opened:
        return Opened(**self._envelope(locker, compartment, at), by=by, request_id=request_id)

    def code_entered(self, locker: str, code: str, at: datetime) -> CodeEntered:
        """Someone typed ``code`` on the keypad of ``locker`` (locker-level: no compartment)."""
        return CodeEntered(**self._envelope(locker, None, at), code=code)

    def restore_alarms(self, active: Iterable[tuple[AlarmKey, str]]) -> None:
        self.alarms.restore(active)

    # -- queries --------------------------------------------------------------------------

    def state_of(self, locker: str, compartment: str) -> CompartmentState | None:
        model = self.compartments.get((locker, compartment))
        return None if model is None else model.state()

    def raw_value(self, locker: str, compartment: str, field: str) -> object:
        model = self.compartments.get((locker, compartment))
        return None if model is None else model.values.get(field)

    # -- events ---------------------------------------------------------------------------

    def _compartment(self, key: Key, now: float, at: datetime, *, state_changes: bool = True) -> list[LockerEvent]:
        model = self.compartments[key]
        locker, compartment = key
        state = model.state()
        tracker = self.lockers.get(locker)
        if tracker is not None:
            tracker.set_problems(compartment, list(model.problems.values()))
        events: list[LockerEvent] = []
        if state is not None and state_changes:
            changed = changed_fields(self._emitted.get(key), state, self.deadband_c)
            if changed:
                self._emitted[key] = state
                events.append(StateChanged(**self._envelope(locker, compartment, at), state=state, changed=changed))
        if state is not None and self._telemetry_due(key, state, now):
            self._telemetry_at[key] = now
            events.append(Telemetry(**self._envelope(locker, compartment, at), temperature_c=state.temperature_c,
                                    setpoint_c=state.setpoint_c))
        if self._connected:
            for change in self.alarms.evaluate(locker, compartment, state, model.problems.values(), now):
                events.append(self._alarm_event(change, at))
        return events

    def _telemetry_due(self, key: Key, state: CompartmentState, now: float) -> bool:
        if state.temperature_c is None and state.setpoint_c is None:
            return False
        last = self._telemetry_at.get(key)
        return last is None or now - last >= self.telemetry_interval_s

    def _health_events(self, now: float, at: datetime) -> list[LockerEvent]:
        events: list[LockerEvent] = []
        for locker, tracker in self.lockers.items():
            health = tracker.changed(now)
            if health is not None:
                events.append(HealthChanged(**self._envelope(locker, None, at), health=health))
        return events

    def _alarm_event(self, change: AlarmChange, at: datetime) -> LockerEvent:
        locker, compartment, kind, _ = change.key
        envelope = self._envelope(locker, compartment, at)
        if change.raised:
            return AlarmRaised(**envelope, alarm_id=change.alarm_id, alarm=kind, severity=change.severity,
                               message=change.message, value=change.value)
        return AlarmCleared(**envelope, alarm_id=change.alarm_id, alarm=kind)

    def _envelope(self, locker: str, compartment: str | None, at: datetime) -> _Envelope:
        return {"event_id": "", "seq": 0, "endpoint_id": self.endpoint_id, "locker": locker,
                "compartment": compartment, "at": at}


class _Envelope(TypedDict):
    event_id: str
    seq: int
    endpoint_id: str
    locker: str
    compartment: str | None
    at: datetime
