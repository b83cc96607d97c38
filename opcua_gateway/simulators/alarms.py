"""Temperature alarms as a vendor controller raises them: outside the class band for a while.

Plain Python over the simulated clock. Only Nordlås publishes these (as OPC UA events); the
others leave alarm derivation to the gateway. The band is the contract's ``CLASS_LIMITS``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from opcua_gateway.contracts import CLASS_LIMITS, TemperatureClass
from opcua_gateway.simulators.model import LockerBank


def outside_band(temperature_c: float, temperature_class: TemperatureClass) -> bool:
    low, high = CLASS_LIMITS[temperature_class]
    return (low is not None and temperature_c < low) or (high is not None and temperature_c > high)


@dataclass(frozen=True, slots=True)
class AlarmTransition:
    """An alarm became active (``active=True``) or cleared, for one compartment."""

    locker: str
    compartment: int
    temperature_c: float
    active: bool


@dataclass
class TemperatureAlarmWatch:
    """Raises after ``delay_s`` simulated seconds outside the band; clears on the first reading
    back inside. A Bad sensor is not evaluated (the alarm keeps its state)."""

    delay_s: float = 5.0
    _outside_since: dict[tuple[str, int], float] = field(default_factory=dict)
    _active: set[tuple[str, int]] = field(default_factory=set)

    def is_active(self, locker: str, compartment: int) -> bool:
        return (locker, compartment) in self._active

    def update(self, bank: LockerBank) -> list[AlarmTransition]:
        """Look at every compartment's reading now; return the alarms that changed."""
        changes: list[AlarmTransition] = []
        for locker_id, comp in bank.all_compartments():
            key = (locker_id, comp.number)
            if comp.sensor_bad:
                continue
            if not outside_band(comp.reading_c, comp.temperature_class):
                self._outside_since.pop(key, None)
                if key in self._active:
                    self._active.discard(key)
                    changes.append(AlarmTransition(locker_id, comp.number, comp.reading_c, active=False))
                continue
            since = self._outside_since.setdefault(key, bank.clock_s)
            if key not in self._active and bank.clock_s - since > self.delay_s:
                self._active.add(key)
                changes.append(AlarmTransition(locker_id, comp.number, comp.reading_c, active=True))
        return changes
