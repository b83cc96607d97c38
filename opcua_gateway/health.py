"""Per-locker health (NE 107 style). Pure: observations and time in, LockerHealth out.

* offline: the endpoint is not connected, or the locker is gone from the address space;
* stale: connected, but no data arrived for ``stale_after_s`` (a subscription's keep-alive
  counts: an unchanged value is not stale), a value is Bad, or (opt-in) a temperature has
  not changed at all for ``stuck_after_s``;
* online otherwise. ``device_health`` is FAILURE for Bad/NaN sensor values and
  CHECK_FUNCTION for values the profile cannot map (wrong type, unknown enum value).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opcua_gateway.contracts import Connectivity, DeviceHealth, LockerHealth
from opcua_gateway.mapping import Problem, ProblemKind

_FAILURES = (ProblemKind.BAD_STATUS, ProblemKind.NOT_FINITE)


@dataclass
class _Temperature:
    value: float | None = None
    since: float = 0.0


@dataclass
class HealthTracker:
    stale_after_s: float
    stuck_after_s: float | None = None
    connected: bool = False
    present: bool = True
    offline_reason: str = "not connected yet"
    last_seen: datetime | None = None
    _seen_at: float | None = None
    _problems: dict[str, list[Problem]] = field(default_factory=dict)
    _temperatures: dict[str, _Temperature] = field(default_factory=dict)
    reported: LockerHealth | None = None

    def seen(self, now: float, at: datetime) -> None:
        """Data (a value, a poll answer or a keep-alive) arrived for this locker."""
        self._seen_at = now
        self.last_seen = at

    def set_connected(self, connected: bool, reason: str = "", now: float | None = None) -> None:
        self.connected = connected
        if not connected:
            self.offline_reason = reason or "endpoint not connected"
        elif now is not None:
            self._seen_at = now  # a fresh connection gets a full stale period

    def set_problems(self, compartment: str, problems: list[Problem]) -> None:
        if problems:
            self._problems[compartment] = problems
        else:
            self._problems.pop(compartment, None)

    def temperature(self, compartment: str, value: float | None, now: float) -> None:
        entry = self._temperatures.setdefault(compartment, _Temperature(value, now))
        if value != entry.value:
            entry.value, entry.since = value, now

    def health(self, now: float) -> LockerHealth:
        if not self.connected or not self.present:
            reason = self.offline_reason if not self.connected else "locker not found in the address space"
            return LockerHealth(connectivity=Connectivity.OFFLINE, last_seen=self.last_seen, detail=reason)
        problems = [p for _, found in sorted(self._problems.items()) for p in found]
        details = [f"compartment {c}: {p.describe()}" for c, found in sorted(self._problems.items()) for p in found]
        stale = any(p.kind is ProblemKind.BAD_STATUS for p in problems)
        if self._seen_at is None or now - self._seen_at > self.stale_after_s:
            stale = True
            details.insert(0, f"no data for more than {self.stale_after_s:g} s")
        if self.stuck_after_s is not None:
            for compartment, entry in sorted(self._temperatures.items()):
                if entry.value is not None and now - entry.since > self.stuck_after_s:
                    stale = True
                    details.append(f"compartment {compartment}: temperature unchanged for "
                                   f"more than {self.stuck_after_s:g} s")
        device = DeviceHealth.NORMAL
        if any(p.kind in _FAILURES for p in problems):
            device = DeviceHealth.FAILURE
        elif problems:
            device = DeviceHealth.CHECK_FUNCTION
        return LockerHealth(connectivity=Connectivity.STALE if stale else Connectivity.ONLINE,
                            device_health=device, last_seen=self.last_seen, detail="; ".join(details))

    def changed(self, now: float) -> LockerHealth | None:
        """The current health if it differs from the last reported one (last_seen alone does not count)."""
        current = self.health(now)
        before = self.reported
        if before is not None and (before.connectivity, before.device_health, before.detail) == (
                current.connectivity, current.device_health, current.detail):
            return None
        self.reported = current
        return current
