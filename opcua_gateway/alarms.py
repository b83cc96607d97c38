"""Derived and vendor alarms. Pure: state and time in, raise/clear decisions out.

* DOOR_AJAR: the door has been open longer than ``door_ajar_s``; clears when it closes.
* TEMPERATURE_HIGH / _LOW: outside the class band (``contracts.CLASS_LIMITS``) for at least
  ``temperature_delay_s``; clears once back inside by ``temperature_hysteresis_c``.
* SENSOR_FAULT: a field has a problem (Bad status, wrong type, NaN, unknown enum value).
* Vendor alarms (OPC UA events): raised and cleared as the vendor says.

Each active alarm has one id, kept across restarts by the caller (``restore``), and the
clear repeats it. An unknown value (None) neither raises nor clears anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from opcua_gateway.config import AlarmPolicy
from opcua_gateway.contracts import CLASS_LIMITS, AlarmKind, CompartmentState, Severity
from opcua_gateway.mapping import Problem

AlarmKey = tuple[str, str | None, AlarmKind, str]  # locker, compartment, kind, source ("" when derived)
SEVERITY = {AlarmKind.DOOR_AJAR: Severity.WARNING, AlarmKind.TEMPERATURE_HIGH: Severity.CRITICAL,
            AlarmKind.TEMPERATURE_LOW: Severity.WARNING, AlarmKind.SENSOR_FAULT: Severity.WARNING}


@dataclass(frozen=True)
class AlarmChange:
    key: AlarmKey
    alarm_id: str
    raised: bool  # False: cleared
    severity: Severity = Severity.WARNING
    message: str = ""
    value: float | None = None

    @property
    def kind(self) -> AlarmKind:
        return self.key[2]


@dataclass
class _Timers:
    door_open_since: float | None = None
    high_since: float | None = None
    low_since: float | None = None


@dataclass
class AlarmEngine:
    policy: AlarmPolicy
    new_id: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    active: dict[AlarmKey, str] = field(default_factory=dict)
    _timers: dict[tuple[str, str], _Timers] = field(default_factory=dict)

    def restore(self, active: Iterable[tuple[AlarmKey, str]]) -> None:
        """Alarms that were active when the gateway stopped keep their ids."""
        self.active.update(active)

    def evaluate(self, locker: str, compartment: str, state: CompartmentState | None,
                 problems: Iterable[Problem], now: float) -> list[AlarmChange]:
        changes = self._sensor(locker, compartment, list(problems))
        if state is None:
            return changes
        timers = self._timers.setdefault((locker, compartment), _Timers())
        changes += self._door(locker, compartment, state, timers, now)
        changes += self._temperature(locker, compartment, state, timers, now)
        return changes

    def vendor(self, locker: str, compartment: str | None, source: str, *, active: bool, kind: AlarmKind,
               severity: Severity, message: str, value: float | None) -> list[AlarmChange]:
        key: AlarmKey = (locker, compartment, kind, source)
        return self._set(key, active, severity=severity, message=message, value=value)

    def _sensor(self, locker: str, compartment: str, problems: list[Problem]) -> list[AlarmChange]:
        key: AlarmKey = (locker, compartment, AlarmKind.SENSOR_FAULT, "")
        message = "; ".join(p.describe() for p in problems)
        return self._set(key, bool(problems), message=f"compartment {compartment}: {message}")

    def _door(self, locker: str, compartment: str, state: CompartmentState, timers: _Timers,
              now: float) -> list[AlarmChange]:
        key: AlarmKey = (locker, compartment, AlarmKind.DOOR_AJAR, "")
        if state.door_open is None:
            return []
        if not state.door_open:
            timers.door_open_since = None
            return self._set(key, False)
        if timers.door_open_since is None:
            timers.door_open_since = now
        open_for = now - timers.door_open_since
        if open_for < self.policy.door_ajar_s:
            return []
        return self._set(key, True, message=f"compartment {compartment}: door open for {open_for:.0f} s",
                         value=round(open_for, 1))

    def _temperature(self, locker: str, compartment: str, state: CompartmentState, timers: _Timers,
                     now: float) -> list[AlarmChange]:
        t = state.temperature_c
        if t is None:
            return []
        low, high = CLASS_LIMITS[state.temperature_class]
        hyst = self.policy.temperature_hysteresis_c
        changes: list[AlarmChange] = []
        if high is None:
            changes += self._band(locker, compartment, state, AlarmKind.TEMPERATURE_HIGH, None, False, True,
                                  timers, now)
        else:
            changes += self._band(locker, compartment, state, AlarmKind.TEMPERATURE_HIGH, high, t > high,
                                  t <= high - hyst, timers, now)
        if low is None:
            changes += self._band(locker, compartment, state, AlarmKind.TEMPERATURE_LOW, None, False, True,
                                  timers, now)
        else:
            changes += self._band(locker, compartment, state, AlarmKind.TEMPERATURE_LOW, low, t < low,
                                  t >= low + hyst, timers, now)
        return changes

    def _band(self, locker: str, compartment: str, state: CompartmentState, kind: AlarmKind, limit: float | None,
              outside: bool, inside: bool, timers: _Timers, now: float) -> list[AlarmChange]:
        key: AlarmKey = (locker, compartment, kind, "")
        attr = "high_since" if kind is AlarmKind.TEMPERATURE_HIGH else "low_since"
        if inside:
            setattr(timers, attr, None)
            return self._set(key, False)
        if not outside:  # back in the band but within the hysteresis: an active alarm stays
            setattr(timers, attr, None)
            return []
        since: float | None = getattr(timers, attr)
        if since is None:
            since = now
            setattr(timers, attr, now)
        if now - since < self.policy.temperature_delay_s or limit is None:
            return []
        t = state.temperature_c
        word = "above" if kind is AlarmKind.TEMPERATURE_HIGH else "below"
        return self._set(key, True, value=t, message=(
            f"compartment {compartment}: {t} °C is {word} {limit:.1f} °C "
            f"({state.temperature_class.value}) for {now - since:.0f} s"))

    def _set(self, key: AlarmKey, on: bool, *, severity: Severity | None = None, message: str = "",
             value: float | None = None) -> list[AlarmChange]:
        alarm_id = self.active.get(key)
        if on and alarm_id is None:
            alarm_id = self.new_id()
            self.active[key] = alarm_id
            return [AlarmChange(key, alarm_id, True, severity or SEVERITY.get(key[2], Severity.WARNING),
                                message, value)]
        if not on and alarm_id is not None:
            del self.active[key]
            return [AlarmChange(key, alarm_id, False)]
        return []
