"""The canonical locker model: the only code the gateway and the backend share.

Versioned msgspec structs, encoded as JSON on Redis streams. Every message carries
``v`` (the contract version); a reader refuses versions it does not know. Field
names borrow from OPC UA DI (``DeviceHealth``, NE 107) and OPC 30210 (slot status).
Temperatures are degrees Celsius as floats (``None`` when the value is Bad or
missing); times are timezone-aware UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated, Literal

import msgspec

CONTRACT_VERSION = 1

# Redis keys shared by both sides.
EVENTS_STREAM = "samverka:lockers:events"  # gateway -> backend, every LockerEvent
RESULTS_STREAM = "samverka:lockers:results"  # gateway -> backend, every CommandResult


def commands_stream(endpoint_id: str) -> str:
    """backend -> gateway: commands for one gateway endpoint."""
    return f"samverka:lockers:commands:{endpoint_id}"


class TemperatureClass(str, Enum):
    AMBIENT = "ambient"
    CHILLED = "chilled"  # 2-8 °C
    FROZEN = "frozen"  # -18 °C or colder


# The allowed band of each class, in °C (None: unbounded). DOMAIN.md: chilled 2-8, frozen <= -18.
CLASS_LIMITS: dict[TemperatureClass, tuple[float | None, float | None]] = {
    TemperatureClass.AMBIENT: (None, None),
    TemperatureClass.CHILLED: (2.0, 8.0),
    TemperatureClass.FROZEN: (None, -18.0),
}


class SizeClass(str, Enum):
    S = "S"
    M = "M"
    L = "L"
    XL = "XL"


class SlotStatus(str, Enum):
    """OPC 30210-style compartment status."""

    FREE = "free"
    OCCUPIED = "occupied"
    OUT_OF_ORDER = "out_of_order"
    LOCKED_OUT = "locked_out"
    CLEANING_REQUIRED = "cleaning_required"


class DeviceHealth(str, Enum):
    """NE 107 states, as OPC UA DI names them."""

    NORMAL = "normal"
    FAILURE = "failure"
    CHECK_FUNCTION = "check_function"
    OFF_SPEC = "off_spec"
    MAINTENANCE_REQUIRED = "maintenance_required"


class Connectivity(str, Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    STALE = "stale"  # connected, but values stopped changing / Bad quality


class AlarmKind(str, Enum):
    DOOR_AJAR = "door_ajar"
    TEMPERATURE_HIGH = "temperature_high"
    TEMPERATURE_LOW = "temperature_low"
    SENSOR_FAULT = "sensor_fault"
    VENDOR = "vendor"  # an alarm the vendor publishes itself (OPC UA event)


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Struct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """Base of every contract message; unknown fields are tolerated for forward compatibility."""


class CompartmentState(Struct, frozen=True, kw_only=True):
    """Everything known about one compartment at one moment."""

    compartment: str  # the vendor-independent key within its locker, e.g. "3" or "A2"
    temperature_class: TemperatureClass
    size_class: SizeClass
    door_open: bool | None = None
    locked: bool | None = None
    occupied: bool | None = None
    temperature_c: float | None = None
    setpoint_c: float | None = None
    status: SlotStatus = SlotStatus.FREE


class LockerHealth(Struct, frozen=True, kw_only=True):
    connectivity: Connectivity
    device_health: DeviceHealth = DeviceHealth.NORMAL
    last_seen: datetime | None = None
    detail: str = ""


class _Event(Struct, tag_field="kind", frozen=True, kw_only=True):
    """Common envelope. ``event_id`` is unique and stable across resends (idempotent ingest);
    ``seq`` grows per (endpoint, locker, compartment) so the backend can keep order."""

    v: int = CONTRACT_VERSION
    event_id: str
    endpoint_id: str
    locker: str  # the locker's id at its endpoint (from the vendor profile)
    compartment: str | None = None
    seq: int
    at: datetime


class StateChanged(_Event, tag="state", frozen=True, kw_only=True):
    state: CompartmentState
    changed: tuple[str, ...] = ()  # names of the CompartmentState fields that changed


class Telemetry(_Event, tag="telemetry", frozen=True, kw_only=True):
    temperature_c: float | None
    setpoint_c: float | None = None


class HealthChanged(_Event, tag="health", frozen=True, kw_only=True):
    health: LockerHealth


class AlarmRaised(_Event, tag="alarm_raised", frozen=True, kw_only=True):
    alarm_id: str  # stable per alarm instance; the matching AlarmCleared repeats it
    alarm: AlarmKind
    severity: Severity
    message: str
    value: float | None = None


class AlarmCleared(_Event, tag="alarm_cleared", frozen=True, kw_only=True):
    alarm_id: str
    alarm: AlarmKind


class Opened(_Event, tag="opened", frozen=True, kw_only=True):
    """Audit: who opened what (from the vendor's own audit, or a command the gateway executed)."""

    by: str  # a user/credential label as the vendor or the command reports it
    request_id: str | None = None


class CodeEntered(_Event, tag="code_entered", frozen=True, kw_only=True):
    """Someone typed a code on the locker's keypad. Locker-level (``compartment`` is None): the
    backend decides which compartment, if any, the code opens, and answers with an unlock command.
    Each entry is its own event (a code typed twice is two events with two event ids)."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[0-9A-Za-z]+$")]


LockerEvent = StateChanged | Telemetry | HealthChanged | AlarmRaised | AlarmCleared | Opened | CodeEntered

# Events that must not wait behind bulk telemetry in the gateway's outbox.
PRIORITY_EVENTS: tuple[type, ...] = (AlarmRaised, AlarmCleared, Opened, HealthChanged, CodeEntered)


class UnlockCompartment(Struct, tag="unlock", tag_field="command", frozen=True, kw_only=True):
    v: int = CONTRACT_VERSION
    request_id: str
    endpoint_id: str
    locker: str
    compartment: str
    requested_by: str  # who asked, for the audit trail
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0


class SetSetpoint(Struct, tag="set_setpoint", tag_field="command", frozen=True, kw_only=True):
    v: int = CONTRACT_VERSION
    request_id: str
    endpoint_id: str
    locker: str
    compartment: str
    setpoint_c: Annotated[float, msgspec.Meta(ge=-40, le=30)]
    requested_by: str
    timeout_s: Annotated[float, msgspec.Meta(gt=0, le=120)] = 10.0


LockerCommand = UnlockCompartment | SetSetpoint


class CommandResult(Struct, frozen=True, kw_only=True):
    v: int = CONTRACT_VERSION
    request_id: str
    endpoint_id: str
    outcome: Literal["confirmed", "failed", "timeout", "rejected"]
    detail: str = ""
    at: datetime


_event_decoder = msgspec.json.Decoder(LockerEvent)
_command_decoder = msgspec.json.Decoder(LockerCommand)
_result_decoder = msgspec.json.Decoder(CommandResult)
_encoder = msgspec.json.Encoder()


class ContractError(ValueError):
    """A message that is not valid under this contract version."""


def encode(message: Struct) -> bytes:
    return _encoder.encode(message)


def _checked(message: Struct) -> Struct:
    if getattr(message, "v", CONTRACT_VERSION) != CONTRACT_VERSION:
        raise ContractError(f"contract version {message.v} is not supported (this side speaks {CONTRACT_VERSION})")  # type: ignore[attr-defined]  # every message has v
    return message


def decode_event(data: bytes | str) -> LockerEvent:
    try:
        return _checked(_event_decoder.decode(data))  # type: ignore[return-value]  # the decoder yields LockerEvent
    except msgspec.ValidationError as exc:
        raise ContractError(str(exc)) from exc


def decode_command(data: bytes | str) -> LockerCommand:
    try:
        return _checked(_command_decoder.decode(data))  # type: ignore[return-value]  # the decoder yields LockerCommand
    except msgspec.ValidationError as exc:
        raise ContractError(str(exc)) from exc


def decode_result(data: bytes | str) -> CommandResult:
    try:
        return _checked(_result_decoder.decode(data))  # type: ignore[return-value]  # the decoder yields CommandResult
    except msgspec.ValidationError as exc:
        raise ContractError(str(exc)) from exc
