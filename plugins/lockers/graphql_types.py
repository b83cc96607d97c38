"""GraphQL types of the lockers plugin, mapped from database rows."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend import plugin_api as api
from opcua_gateway.contracts import (
    AlarmKind,
    Connectivity,
    DeviceHealth,
    Severity,
    SizeClass,
    SlotStatus,
    TemperatureClass,
)
from plugins.lockers import queries
from plugins.lockers.access import READ_SCOPE, STAFF
from plugins.lockers.commands import Outcome

# The canonical model's enums are the API's (strawberry.enum registers and returns the class itself).
strawberry.enum(TemperatureClass, name="TemperatureClass", description="Chilled 2-8 °C, frozen -18 °C or colder.")
strawberry.enum(SizeClass, name="SizeClass")
strawberry.enum(SlotStatus, name="SlotStatus", description="OPC 30210-style compartment status.")
strawberry.enum(Connectivity, name="Connectivity")
strawberry.enum(DeviceHealth, name="DeviceHealth", description="NE 107 states, as OPC UA DI names them.")
strawberry.enum(AlarmKind, name="AlarmKind")
strawberry.enum(Severity, name="AlarmSeverity")


@strawberry.enum(description="Why a command did not open the compartment.")
class CommandFailure(Enum):
    FAILED = "failed"
    TIMEOUT = "timeout"
    REJECTED = "rejected"


def _id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


def _enum(kind: type[Enum], value: str | None) -> Any:
    return kind(value) if value is not None else None


@strawberry.type
class Site:
    id: strawberry.ID
    name: str
    address: str
    latitude: float | None
    longitude: float | None
    created_at: datetime

    @classmethod
    def of(cls, r: Any) -> Site:
        return cls(
            id=_id(r["id"]),
            name=r["name"],
            address=r["address"],
            latitude=r["latitude"],
            longitude=r["longitude"],
            created_at=r["created_at"],
        )


@strawberry.type(description="A gateway endpoint: one OPC UA server the gateway talks to for this municipality.")
class LockerEndpoint:
    id: strawberry.ID = strawberry.field(description="Put this id in the gateway's configuration.")
    name: str
    vendor: str
    url: str
    created_at: datetime

    @classmethod
    def of(cls, r: Any) -> LockerEndpoint:
        return cls(id=_id(r["id"]), name=r["name"], vendor=r["vendor"], url=r["url"], created_at=r["created_at"])


@strawberry.type
class LockerHealth:
    connectivity: Connectivity | None = strawberry.field(description="Null until the gateway has reported.")
    device_health: DeviceHealth | None
    detail: str
    last_seen: datetime | None


@strawberry.type
class Locker:
    id: strawberry.ID
    name: str
    site_id: strawberry.ID
    endpoint_id: strawberry.ID
    vendor_locker_id: str
    health: LockerHealth
    open_alarm_count: int

    @classmethod
    def of(cls, r: Any) -> Locker:
        health = LockerHealth(
            connectivity=_enum(Connectivity, r["connectivity"]),
            device_health=_enum(DeviceHealth, r["device_health"]),
            detail=r["health_detail"],
            last_seen=r["last_seen"],
        )
        return cls(
            id=_id(r["id"]),
            name=r["name"],
            site_id=_id(r["site_id"]),
            endpoint_id=_id(r["endpoint_id"]),
            vendor_locker_id=r["vendor_locker_id"],
            health=health,
            open_alarm_count=r["open_alarms"],
        )

    @api.field(description="The locker's compartments with their current state.")
    async def compartments(self, info: api.Info) -> list[Compartment]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            rows, open_alarms = await queries.compartments(scope, queries.parse_id(self.id, "Locker"))
        return [Compartment.of(r, open_alarms.get(r["id"], [])) for r in rows]


@strawberry.type
class LockerAlarm:
    id: strawberry.ID
    kind: AlarmKind
    severity: Severity
    message: str
    value: float | None
    source: str = strawberry.field(description="'gateway' (reported by the locker) or 'backend' (timers here).")
    locker_id: strawberry.ID | None
    compartment_id: strawberry.ID | None
    raised_at: datetime | None
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    active: bool = strawberry.field(description="Raised and not yet cleared.")
    open: bool = strawberry.field(description="Active, or cleared but not yet acknowledged.")

    @classmethod
    def of(cls, r: Any) -> LockerAlarm:
        return cls(
            id=_id(r["id"]),
            kind=AlarmKind(r["kind"]),
            severity=Severity(r["severity"]),
            message=r["message"],
            value=r["value"],
            source=r["source"],
            locker_id=_id(r["locker_id"]) if r["locker_id"] else None,
            compartment_id=_id(r["compartment_id"]) if r["compartment_id"] else None,
            raised_at=r["raised_at"],
            cleared_at=r["cleared_at"],
            acknowledged_at=r["acknowledged_at"],
            acknowledged_by=r["acknowledged_by_label"],
            active=r["cleared_at"] is None,
            open=r["cleared_at"] is None or r["acknowledged_at"] is None,
        )


@strawberry.type
class Compartment:
    id: strawberry.ID
    locker_id: strawberry.ID
    key: str
    temperature_class: TemperatureClass
    size_class: SizeClass
    status: SlotStatus
    door_open: bool | None
    door_open_since: datetime | None
    locked: bool | None
    occupied: bool | None
    temperature_c: float | None = strawberry.field(description="The latest reading; null when Bad or unknown.")
    temperature_at: datetime | None
    setpoint_c: float | None
    state_at: datetime | None
    health: LockerHealth = strawberry.field(description="The compartment's own, else its locker's.")
    open_alarms: list[LockerAlarm]

    @classmethod
    def of(cls, r: Any, alarms: list[Any]) -> Compartment:
        own = r["connectivity"] is not None
        health = LockerHealth(
            connectivity=_enum(Connectivity, r["connectivity"] if own else r["locker_connectivity"]),
            device_health=_enum(DeviceHealth, r["device_health"] if own else r["locker_device_health"]),
            detail=r["health_detail"] if own else r["locker_health_detail"],
            last_seen=r["locker_last_seen"],
        )
        return cls(
            id=_id(r["id"]),
            locker_id=_id(r["locker_id"]),
            key=r["compartment_key"],
            temperature_class=TemperatureClass(r["temperature_class"]),
            size_class=SizeClass(r["size_class"]),
            status=SlotStatus(r["status"]),
            door_open=r["door_open"],
            door_open_since=r["door_opened_at"],
            locked=r["locked"],
            occupied=r["occupied"],
            temperature_c=r["temperature_c"],
            temperature_at=r["temperature_at"],
            setpoint_c=r["setpoint_c"],
            state_at=r["state_at"],
            health=health,
            open_alarms=[LockerAlarm.of(a) for a in alarms],
        )


@strawberry.type
class LockerRegistered:
    locker: Locker
    compartments: list[Compartment]


@strawberry.type
class TemperatureSample:
    at: datetime
    temperature_c: float


@strawberry.type(description="The locker confirmed that the door opened.")
class CompartmentOpened:
    request_id: strawberry.ID
    compartment: Compartment
    confirmed_at: datetime | None


@strawberry.type(description="The command did not open the compartment; nothing more will happen.")
class CommandFailed:
    request_id: strawberry.ID
    reason: CommandFailure
    message: str

    @classmethod
    def of(cls, o: Outcome) -> CommandFailed:
        reason = CommandFailure(o.outcome) if o.outcome in {f.value for f in CommandFailure} else CommandFailure.FAILED
        return cls(request_id=_id(o.request_id), reason=reason, message=o.detail)


@strawberry.type(description="Something happened at a locker (or an alarm the backend raised or cleared).")
class LockerEventInfo:
    kind: str = strawberry.field(
        description="state, telemetry, health, alarm_raised, alarm_cleared, opened, command_result."
    )
    event_id: str
    locker_id: strawberry.ID | None
    compartment_id: strawberry.ID | None
    compartment_key: str | None
    at: datetime
    data: JSON

    @classmethod
    def of(cls, p: dict[str, Any]) -> LockerEventInfo:
        return cls(
            kind=p["kind"],
            event_id=p["event_id"],
            locker_id=_id(p["locker_id"]) if p["locker_id"] else None,
            compartment_id=_id(p["compartment_id"]) if p["compartment_id"] else None,
            compartment_key=p["compartment_key"],
            at=datetime.fromisoformat(p["at"]),
            data=p["data"],
        )


TYPES: tuple[type, ...] = (CompartmentOpened, CommandFailed, LockerRegistered)
