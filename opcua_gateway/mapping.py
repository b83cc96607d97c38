"""Vendor values -> canonical compartment fields. Pure: no I/O, no asyncua types.

A ``Reading`` is what the transport saw for one node (value, status name, quality), so
recorded payloads can be replayed in tests. Conversion never raises on vendor data: a
Bad status, a wrong type, NaN, an unknown enum value or a missing array element gives a
``Problem`` next to a ``None`` value, which the runtime logs and turns into health
detail and a SENSOR_FAULT alarm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Literal

from opcua_gateway.contracts import CompartmentState, SizeClass, SlotStatus, TemperatureClass
from opcua_gateway.profile import FIELD_TYPES, STATE_FIELDS, FieldSource

Quality = Literal["good", "uncertain", "bad"]
# When several fields override the slot status, the most severe wins.
_STATUS_RANK = (SlotStatus.OUT_OF_ORDER, SlotStatus.LOCKED_OUT, SlotStatus.CLEANING_REQUIRED, SlotStatus.OCCUPIED)
_VENDOR_TYPES: dict[str, tuple[type, ...]] = {"bool": (bool,), "int": (int,), "float": (int, float), "str": (str,)}


@dataclass(frozen=True)
class Reading:
    """One node's value as read or notified: ``status`` is the StatusCode's name, ``source_time``
    the value's source timestamp (or the server's, when the source gives none)."""

    value: Any
    status: str = "Good"
    quality: Quality = "good"
    source_time: datetime | None = None

    @classmethod
    def bad(cls, status: str) -> Reading:
        return cls(None, status, "bad")


class ProblemKind(str, Enum):
    BAD_STATUS = "bad_status"
    WRONG_TYPE = "wrong_type"
    NOT_FINITE = "not_finite"
    UNKNOWN_ENUM = "unknown_enum"
    MISSING = "missing"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    field: str
    detail: str

    def describe(self) -> str:
        return f"{self.field}: {self.detail}"


@dataclass(frozen=True)
class Converted:
    value: Any = None
    status: SlotStatus | None = None  # a slot status this vendor value implies
    problem: Problem | None = None


def convert(name: str, source: FieldSource, reading: Reading, index: int | None = None) -> Converted:
    """One vendor reading -> the canonical value of field ``name`` (or a Problem)."""
    if reading.quality == "bad":
        return _problem(ProblemKind.BAD_STATUS, name, f"the vendor reports {reading.status}")
    raw = reading.value
    if source.index:
        if not isinstance(raw, list | tuple):
            return _problem(ProblemKind.WRONG_TYPE, name, f"expected an array, got {_describe(raw)}")
        if index is None or not 0 <= index < len(raw):
            return _problem(ProblemKind.MISSING, name, f"no element [{index}] in an array of {len(raw)}")
        raw = raw[index]
    if raw is None:
        return _problem(ProblemKind.MISSING, name, "the node has no value")
    if source.type is not None and (not isinstance(raw, _VENDOR_TYPES[source.type]) or (
            isinstance(raw, bool) and source.type != "bool")):
        return _problem(ProblemKind.WRONG_TYPE, name, f"expected {source.type}, got {_describe(raw)}")
    status = _lookup(source.status, raw)
    if source.map is not None:
        if not _has(source.map, raw):
            known = ", ".join(repr(k) for k in source.map)
            return _problem(ProblemKind.UNKNOWN_ENUM, name, f"{raw!r} is not a known value ({known})")
        mapped = _lookup(source.map, raw)
        return Converted(None if mapped is None else canonical(name, mapped), status)
    return _from_vendor(name, source, raw, status)


def _from_vendor(name: str, source: FieldSource, raw: Any, status: SlotStatus | None) -> Converted:
    kind = FIELD_TYPES[name]
    if kind is bool:
        if not isinstance(raw, bool):
            return _problem(ProblemKind.WRONG_TYPE, name, f"expected a boolean, got {_describe(raw)}")
        return Converted(raw, status)
    if kind is float:
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return _problem(ProblemKind.WRONG_TYPE, name, f"expected a number, got {_describe(raw)}")
        if not math.isfinite(raw):
            return _problem(ProblemKind.NOT_FINITE, name, f"the vendor value is {raw}")
        return Converted(round(raw * source.scale + source.offset, 4), status)
    try:
        return Converted(canonical(name, raw), status)
    except ValueError:
        return _problem(ProblemKind.UNKNOWN_ENUM, name, f"{raw!r} is not a {name.replace('_', ' ')}")


def to_vendor(source: FieldSource, value: float) -> float | int:
    """A canonical number in the vendor's unit (the inverse of scale/offset), e.g. °C -> tenths."""
    raw = (value - source.offset) / source.scale
    return round(raw) if source.type == "int" else round(raw, 4)


def canonical(name: str, value: Any) -> Any:
    kind = FIELD_TYPES[name]
    if kind is float:
        return float(value)
    if kind is bool:
        return bool(value)
    return kind(value)


def _has(table: dict[Any, Any], raw: Any) -> bool:
    return raw in table or (isinstance(raw, int) and str(raw) in table)


def _lookup(table: dict[Any, Any], raw: Any) -> Any:
    if raw in table:
        return table[raw]
    return table.get(str(raw)) if isinstance(raw, int) else None


def _problem(kind: ProblemKind, name: str, detail: str) -> Converted:
    return Converted(problem=Problem(kind, name, detail))


def _describe(raw: Any) -> str:
    text = repr(raw)
    return f"{type(raw).__name__} {text[:40]}"


@dataclass
class CompartmentModel:
    """What is known about one compartment, field by field, as readings arrive."""

    locker: str
    compartment: str
    values: dict[str, Any] = field(default_factory=dict)
    statuses: dict[str, SlotStatus] = field(default_factory=dict)
    problems: dict[str, Problem] = field(default_factory=dict)

    def apply(self, name: str, converted: Converted) -> None:
        if converted.problem is not None:
            self.problems[name] = converted.problem
            if name not in ("temperature_class", "size_class"):  # required: keep the last known class
                self.values[name] = None
            self.statuses.pop(name, None)
            return
        self.problems.pop(name, None)
        self.values[name] = converted.value
        if converted.status is None:
            self.statuses.pop(name, None)
        else:
            self.statuses[name] = converted.status

    def state(self) -> CompartmentState | None:
        """The canonical state, or None while the temperature class or size is still unknown."""
        temperature_class = self.values.get("temperature_class")
        size_class = self.values.get("size_class")
        if not isinstance(temperature_class, TemperatureClass) or not isinstance(size_class, SizeClass):
            return None
        occupied = self.values.get("occupied")
        return CompartmentState(
            compartment=self.compartment,
            temperature_class=temperature_class,
            size_class=size_class,
            door_open=self.values.get("door_open"),
            locked=self.values.get("locked"),
            occupied=occupied,
            temperature_c=self.values.get("temperature_c"),
            setpoint_c=self.values.get("setpoint_c"),
            status=self._status(occupied),
        )

    def _status(self, occupied: bool | None) -> SlotStatus:
        overrides = set(self.statuses.values())
        for status in _STATUS_RANK:
            if status in overrides:
                return status
        return SlotStatus.OCCUPIED if occupied else SlotStatus.FREE


def changed_fields(old: CompartmentState | None, new: CompartmentState, deadband_c: float) -> tuple[str, ...]:
    """Names of the fields that changed; temperature moves smaller than ``deadband_c`` do not count."""
    names: tuple[str, ...] = (*STATE_FIELDS, "status")
    if old is None:
        return names
    out: list[str] = []
    for name in names:
        before, after = getattr(old, name), getattr(new, name)
        if name == "temperature_c" and before is not None and after is not None:
            if abs(after - before) >= max(deadband_c, 1e-9):
                out.append(name)
        elif before != after:
            out.append(name)
    return tuple(out)
