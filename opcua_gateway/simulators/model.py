"""The vendor-neutral state of simulated delivery lockers: doors, bolts, goods, sensors.

Plain Python, no I/O: the vendor modules only map this state onto their own OPC UA address
spaces, so every vendor shows the same physical behaviour, and the behaviour is testable
without a server. Compartments are numbered from 1 within their locker (how a vendor numbers
them on the wire, e.g. Frostlogik's 0-based arrays, is the vendor module's business).
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from opcua_gateway.contracts import SizeClass, TemperatureClass
from opcua_gateway.simulators.physics import PhysicsParams, next_temperature, sensor_reading


class DoorState(str, Enum):
    CLOSED = "closed"
    OPEN = "open"
    AJAR = "ajar"  # pushed to but not latched: the bolt cannot engage
    JAMMED = "jammed"  # a mechanical fault: the door does not move


class SimulatorError(Exception):
    """An action the simulated hardware refuses; vendors translate it to their own error."""


class UnknownCompartment(SimulatorError):
    """No such locker or compartment number."""


class LockedOut(SimulatorError):
    """The compartment is taken out of service: no code or command opens it."""


class DoorJammed(SimulatorError):
    """The door is mechanically stuck."""


class SetpointRefused(SimulatorError):
    """The setpoint is out of range, or the compartment has no cooling (ambient)."""


class KeypadOffline(SimulatorError):
    """A keypad entry that would be an OPC UA event while the server is down: nobody receives it."""


SETPOINT_RANGE_C = (-40.0, 30.0)


@dataclass
class Compartment:
    """One compartment. ``temperature_c`` is the true air temperature; ``reading_c`` what the
    sensor says (they part when the sensor is stuck)."""

    number: int
    temperature_class: TemperatureClass
    size: SizeClass
    setpoint_c: float
    temperature_c: float
    reading_c: float
    door: DoorState = DoorState.CLOSED
    locked: bool = True
    occupied: bool = False
    locked_out: bool = False
    sensor_bad: bool = False
    sensor_stuck: bool = False
    opening_by: str | None = None  # an unlock released the bolt; the door springs open on the next tick
    last_opened_by: str | None = None

    @property
    def door_open(self) -> bool:
        """True unless the door is shut (an ajar door is not shut)."""
        return self.door in (DoorState.OPEN, DoorState.AJAR)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who opened which compartment, at which simulated second."""

    at_s: float
    locker: str
    compartment: int
    by: str


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """One code typed on a keypad, and when (its identity on the wire: the source timestamp)."""

    code: str
    typed_at: datetime


@dataclass
class KeypadBuffer:
    """A keypad as Kylbox and Frostlogik controllers hold it: one entry ``shown`` until the
    reader consumes it; entries typed meanwhile wait in order, so none is lost."""

    shown: KeyEntry | None = None
    waiting: deque[KeyEntry] = field(default_factory=deque)

    def type(self, code: str, at: datetime) -> None:
        self.waiting.append(KeyEntry(code, at))
        self._advance()

    def consumed(self) -> None:
        """The reader cleared the shown entry: show the next one, if any."""
        self.shown = None
        self._advance()

    @property
    def pending(self) -> int:
        """Entries not consumed yet (the shown one included)."""
        return len(self.waiting) + (self.shown is not None)

    def _advance(self) -> None:
        if self.shown is None and self.waiting:
            self.shown = self.waiting.popleft()


@dataclass
class Locker:
    locker_id: str
    compartments: dict[int, Compartment]


@dataclass
class LockerBank:
    """All lockers behind one simulated OPC UA server, with one simulated clock."""

    lockers: dict[str, Locker]
    physics: PhysicsParams = field(default_factory=PhysicsParams)
    rng: random.Random = field(default_factory=random.Random)
    clock_s: float = 0.0
    audit: list[AuditEntry] = field(default_factory=list)
    keypads: dict[str, KeypadBuffer] = field(default_factory=dict)

    def locker_id(self, locker: str | None = None) -> str:
        """``locker`` checked, or the first locker's id."""
        locker_id = locker if locker is not None else next(iter(self.lockers))
        if locker_id not in self.lockers:
            raise UnknownCompartment(f"no locker {locker_id!r}")
        return locker_id

    def keypad(self, locker: str | None = None) -> KeypadBuffer:
        """The keypad of ``locker`` (default: the first locker)."""
        return self.keypads.setdefault(self.locker_id(locker), KeypadBuffer())

    def compartment(self, number: int, locker: str | None = None) -> Compartment:
        """Compartment ``number`` of ``locker`` (default: the first locker)."""
        locker_id = locker if locker is not None else next(iter(self.lockers))
        try:
            return self.lockers[locker_id].compartments[number]
        except KeyError:
            raise UnknownCompartment(f"no compartment {number} in locker {locker_id!r}") from None

    def all_compartments(self) -> list[tuple[str, Compartment]]:
        return [(lid, c) for lid, lk in self.lockers.items() for c in lk.compartments.values()]

    # People at the locker --------------------------------------------------------------

    def open_door(self, number: int, by: str, locker: str | None = None) -> None:
        """Someone opens the door at the keypad (e.g. ``by="code:1234"``)."""
        comp = self._openable(number, locker)
        comp.locked = False
        comp.opening_by = None
        self._opened(comp, locker, by)

    def close_door(self, number: int, *, occupied: bool, latched: bool = True, locker: str | None = None) -> None:
        """Someone shuts the door, leaving goods in (``occupied``) or not; the bolt engages unless
        the door was only pushed to (``latched=False``: the door stays ajar)."""
        comp = self.compartment(number, locker)
        if comp.door is DoorState.JAMMED:
            raise DoorJammed(f"compartment {number} is jammed")
        comp.occupied = occupied
        comp.door = DoorState.CLOSED if latched else DoorState.AJAR
        comp.locked = latched

    # Commands from the OPC UA side --------------------------------------------------------

    def unlock(self, number: int, by: str = "remote", locker: str | None = None) -> None:
        """Release the bolt; the door springs open on the next tick (a jammed door stays put)."""
        comp = self.compartment(number, locker)
        if comp.locked_out:
            raise LockedOut(f"compartment {number} is locked out")
        comp.locked = False
        if not comp.door_open:
            comp.opening_by = by

    def set_setpoint(self, number: int, setpoint_c: float, locker: str | None = None) -> None:
        comp = self.compartment(number, locker)
        low, high = SETPOINT_RANGE_C
        if comp.temperature_class is TemperatureClass.AMBIENT:
            raise SetpointRefused(f"compartment {number} is ambient and has no cooling")
        if not low <= setpoint_c <= high:
            raise SetpointRefused(f"setpoint {setpoint_c} °C is outside {low}..{high} °C")
        comp.setpoint_c = float(setpoint_c)

    # Faults ----------------------------------------------------------------------------

    def set_locked_out(self, number: int, on: bool = True, locker: str | None = None) -> None:
        self.compartment(number, locker).locked_out = on

    def set_bad(self, number: int, on: bool = True, locker: str | None = None) -> None:
        self.compartment(number, locker).sensor_bad = on

    def stick_sensor(self, number: int, on: bool = True, locker: str | None = None) -> None:
        self.compartment(number, locker).sensor_stuck = on

    def jam_door(self, number: int, on: bool = True, locker: str | None = None) -> None:
        comp = self.compartment(number, locker)
        comp.door = DoorState.JAMMED if on else DoorState.CLOSED
        if not on:
            comp.locked = True

    # Time -----------------------------------------------------------------------------

    def step(self, dt_s: float) -> None:
        """Advance the simulated world by ``dt_s`` simulated seconds."""
        self.clock_s += dt_s
        for locker_id, comp in self.all_compartments():
            if comp.opening_by is not None and comp.door is not DoorState.JAMMED:
                by, comp.opening_by = comp.opening_by, None
                self._opened(comp, locker_id, by)
            comp.temperature_c = next_temperature(
                comp.temperature_c,
                temperature_class=comp.temperature_class,
                setpoint_c=comp.setpoint_c,
                leak=_leak(comp.door, self.physics),
                dt_s=dt_s,
                params=self.physics,
            )
            if not comp.sensor_stuck:
                comp.reading_c = sensor_reading(comp.temperature_c, self.rng, self.physics)

    def _openable(self, number: int, locker: str | None) -> Compartment:
        comp = self.compartment(number, locker)
        if comp.locked_out:
            raise LockedOut(f"compartment {number} is locked out")
        if comp.door is DoorState.JAMMED:
            raise DoorJammed(f"compartment {number} is jammed")
        return comp

    def _opened(self, comp: Compartment, locker: str | None, by: str) -> None:
        comp.door = DoorState.OPEN
        comp.last_opened_by = by
        locker_id = locker if locker is not None else next(iter(self.lockers))
        self.audit.append(AuditEntry(self.clock_s, locker_id, comp.number, by))


def _leak(door: DoorState, physics: PhysicsParams) -> float:
    """How much room air the door lets in (see ``physics.next_temperature``)."""
    if door is DoorState.OPEN:
        return 1.0
    if door is DoorState.AJAR:
        return physics.ajar_factor
    return 0.0
