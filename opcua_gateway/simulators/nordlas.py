"""Nordlås: string node ids in nested folders, string enums, a lock driven by a variable write,
temperature alarms as OPC UA events of its own type; SignAndEncrypt and a password required.

    ns=2;s=Nordlas/Sites/<site>/Cabinets/<cab>/Doors/<n>/<Var>      (<n> from 1)
        State (String OPEN|CLOSED|AJAR|JAMMED), Bolt (String ENGAGED|RELEASED), Load (Boolean),
        Temp (Float °C), TempSet (Float °C, writable: the setpoint), Zone (String RUM|KYL|FRYS),
        Size (String), LockCommand (String, writable: write "RELEASE" to unlock)

Every folder and object also has the string node id of its path (``Nordlas``, ``Nordlas/Sites``,
...), browse names are the last path segment. Each cabinet object (``.../Cabinets/<cab>``)
emits ``NordlasTemperatureAlarmType`` events (node id ``ns=2;s=NordlasTemperatureAlarmType``,
a BaseEventType subtype with ``Door`` (String), ``Temperature`` (Float), ``Active`` (Boolean))
when a door's zone is outside its band for more than ``alarm_delay_s`` (raised, Active=true)
and when it is back (cleared, Active=false). The same events are also emitted from the Server
object, for clients that subscribe there. Each cabinet object also emits one
``NordlasKeypadEventType`` event (``ns=2;s=NordlasKeypadEventType``, field ``Code`` (String))
per code typed on its keypad; an event nobody is subscribed to is gone, as OPC UA events are.
"""

from __future__ import annotations

from asyncua import ua
from asyncua.common.node import Node
from asyncua.common.utils import ServiceError
from asyncua.server.event_generator import EventGenerator
from asyncua.server.server import Server
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.status_codes import StatusCodes

from opcua_gateway.contracts import TemperatureClass
from opcua_gateway.simulators.address_space import Reading, add_variable, refuse, standard_node, string_node
from opcua_gateway.simulators.alarms import AlarmTransition, TemperatureAlarmWatch
from opcua_gateway.simulators.model import DoorState, KeypadOffline, SimulatorError
from opcua_gateway.simulators.runtime import Simulator
from opcua_gateway.simulators.security import PasswordUserManager
from opcua_gateway.simulators.spec import NORDLAS_USER, SimulatorSpec

NAMESPACE = "urn:samverka:sim:nordlas"
ALARM_TYPE = "NordlasTemperatureAlarmType"
KEYPAD_TYPE = "NordlasKeypadEventType"
RELEASE = "RELEASE"
ZONES = {TemperatureClass.AMBIENT: "RUM", TemperatureClass.CHILLED: "KYL", TemperatureClass.FROZEN: "FRYS"}
STATES = {DoorState.OPEN: "OPEN", DoorState.CLOSED: "CLOSED", DoorState.AJAR: "AJAR", DoorState.JAMMED: "JAMMED"}

_F = ua.VariantType.Float
_B = ua.VariantType.Boolean
_S = ua.VariantType.String


def door_path(site: str, cabinet: str, door: int) -> str:
    """The string node id (without namespace) of one door object."""
    return f"Nordlas/Sites/{site}/Cabinets/{cabinet}/Doors/{door}"


class NordlasSimulator(Simulator):
    vendor = "nordlas"
    namespace_uri = NAMESPACE
    manufacturer = "Nordlås AS"

    def __init__(self, spec: SimulatorSpec) -> None:
        if spec.pki_dir is None:
            raise ValueError("Nordlås requires SignAndEncrypt: give the simulator a pki_dir for its certificate")
        super().__init__(spec)
        self.alarms = TemperatureAlarmWatch(delay_s=spec.alarm_delay_s)
        self._idx = 2
        self._generators: dict[str, list[EventGenerator]] = {}
        self._keypad_generators: dict[str, EventGenerator] = {}
        self._commands: dict[ua.NodeId, tuple[str, int]] = {}
        self._setpoints: dict[ua.NodeId, tuple[str, int]] = {}

    def _locker_ids(self, count: int) -> list[str]:
        return [f"C{n:02d}" for n in range(1, count + 1)]

    def _security_policies(self) -> list[ua.SecurityPolicyType]:
        return [ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt]

    def _identity_tokens(self) -> list[type]:
        return [ua.UserNameIdentityToken]

    def _user_manager(self) -> PasswordUserManager:
        return PasswordUserManager({NORDLAS_USER: self.spec.nordlas_password()})

    def _nid(self, path: str) -> ua.NodeId:
        return string_node(path, self._idx)

    async def _build(self, server: Server, idx: int) -> None:
        self._idx = idx
        self._commands.clear()
        self._setpoints.clear()
        self._generators.clear()
        self._keypad_generators.clear()
        alarm_type = await self._event_type(server, ALARM_TYPE, (("Door", _S), ("Temperature", _F), ("Active", _B)))
        keypad_type = await self._event_type(server, KEYPAD_TYPE, (("Code", _S),))
        path = "Nordlas"
        folder = await server.nodes.objects.add_folder(self._nid(path), ua.QualifiedName(path, idx))
        for name in ("Sites", self.spec.site, "Cabinets"):
            path = f"{path}/{name}"
            folder = await folder.add_folder(self._nid(path), ua.QualifiedName(name, idx))
        for cab, locker in self.model.lockers.items():
            cabinet = await folder.add_object(self._nid(f"{path}/{cab}"), ua.QualifiedName(cab, idx))
            doors = await cabinet.add_folder(self._nid(f"{path}/{cab}/Doors"), ua.QualifiedName("Doors", idx))
            for number in locker.compartments:
                await self._add_door(doors, cab, number)
            self._generators[cab] = [
                await server.get_event_generator(alarm_type, emitting_node=cabinet.nodeid),
                await server.get_event_generator(alarm_type, emitting_node=standard_node(ObjectIds.Server)),
            ]
            self._keypad_generators[cab] = await server.get_event_generator(keypad_type, emitting_node=cabinet.nodeid)
            for generator in [*self._generators[cab], self._keypad_generators[cab]]:
                generator.event.SourceNode = cabinet.nodeid
                generator.event.SourceName = cab

    async def _event_type(self, server: Server, type_name: str, fields: tuple[tuple[str, ua.VariantType], ...]) -> Node:
        base = server.get_node(standard_node(ObjectIds.BaseEventType))
        etype = await base.add_object_type(self._nid(type_name), ua.QualifiedName(type_name, self._idx))
        for name, vtype in fields:
            field = await etype.add_property(
                self._nid(f"{type_name}/{name}"), ua.QualifiedName(name, self._idx), ua.get_default_value(vtype), vtype
            )
            await field.set_modelling_rule(True)  # Mandatory: every event of the type carries it
        return etype

    async def _add_door(self, doors: Node, cab: str, number: int) -> None:
        comp = self.model.compartment(number, cab)
        path = door_path(self.spec.site, cab, number)
        door = await doors.add_object(self._nid(path), ua.QualifiedName(str(number), self._idx))
        for name, value, vtype in (
            ("State", STATES[comp.door], _S),
            ("Bolt", "ENGAGED" if comp.locked else "RELEASED", _S),
            ("Load", comp.occupied, _B),
            ("Temp", comp.reading_c, _F),
            ("TempSet", comp.setpoint_c, _F),
            ("Zone", ZONES[comp.temperature_class], _S),
            ("Size", comp.size.value, _S),
            ("LockCommand", "", _S),
        ):
            writable = name in ("TempSet", "LockCommand")
            await add_variable(door, self._nid(f"{path}/{name}"), name, value, vtype, writable=writable)
        self._commands[self._nid(f"{path}/LockCommand")] = (cab, number)
        self._setpoints[self._nid(f"{path}/TempSet")] = (cab, number)

    def _values(self) -> dict[ua.NodeId, Reading]:
        values: dict[ua.NodeId, Reading] = {}
        for cab, comp in self.model.all_compartments():
            path = door_path(self.spec.site, cab, comp.number)
            values[self._nid(f"{path}/State")] = Reading(STATES[comp.door], _S)
            values[self._nid(f"{path}/Bolt")] = Reading("ENGAGED" if comp.locked else "RELEASED", _S)
            values[self._nid(f"{path}/Load")] = Reading(comp.occupied, _B)
            values[self._nid(f"{path}/Temp")] = Reading(comp.reading_c, _F, bad=comp.sensor_bad)
            values[self._nid(f"{path}/TempSet")] = Reading(comp.setpoint_c, _F)
        return values

    async def _on_write(self, nodeid: ua.NodeId, value: ua.Variant, user: str | None) -> None:
        try:
            if nodeid in self._commands:
                self._lock_command(*self._commands[nodeid], value, user)
            elif nodeid in self._setpoints:
                self._temp_set(*self._setpoints[nodeid], value)
        except SimulatorError as error:
            raise refuse(error) from error

    def _lock_command(self, cab: str, number: int, value: ua.Variant, user: str | None) -> None:
        if value.VariantType is not _S or value.Value != RELEASE:
            raise ServiceError(StatusCodes.BadInvalidArgument)
        self.model.unlock(number, by=f"opcua:{user or 'unknown'}", locker=cab)
        self._wake.set()  # the bolt releases now, not at the next physics tick

    def _temp_set(self, cab: str, number: int, value: ua.Variant) -> None:
        if value.VariantType is not _F:
            raise ServiceError(StatusCodes.BadTypeMismatch)
        self.model.set_setpoint(number, float(value.Value), locker=cab)

    async def _keypad_entry(self, locker: str, code: str) -> None:
        """One event per entry, from the cabinet object; refused while the controller is offline."""
        if not self.online:
            raise KeypadOffline(f"the Nordlås controller is offline: the entry at {locker} went nowhere")
        generator = self._keypad_generators[locker]
        generator.event.Code = code
        await generator.trigger(message="Keypad entry")

    async def _after_step(self) -> None:
        for change in self.alarms.update(self.model):
            if self.online:
                await self._emit(change)

    async def _emit(self, change: AlarmTransition) -> None:
        zone = ZONES[self.model.compartment(change.compartment, change.locker).temperature_class]
        verb = "outside" if change.active else "back within"
        message = f"Door {change.compartment}: {change.temperature_c:.1f} °C, {verb} the {zone} band"
        for generator in self._generators[change.locker]:
            event = generator.event  # asyncua builds its fields from the event type's properties
            event.Door = str(change.compartment)
            event.Temperature = change.temperature_c
            event.Active = change.active
            event.Severity = 700 if change.active else 100
            await generator.trigger(message=message)
