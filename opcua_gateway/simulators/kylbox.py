"""Kylbox: an object per compartment, with methods, numeric node ids found by browse name.

    Objects/Kylbox/Lockers/<LockerId>/Compartment<NN>/
        DoorOpen, Locked, Occupied (Boolean), Temperature, Setpoint (Double, °C),
        TemperatureClass (String chilled|frozen|ambient), Size (String S|M|L|XL),
        Unlock(), SetSetpoint(Setpoint: Double)
    Objects/Kylbox/Lockers/<LockerId>/Keypad/Entry
        (String: the code typed on the locker's keypad until a client writes "" to consume it)

Everything is in namespace ``urn:samverka:sim:kylbox``. Numeric node ids are given in build
order, so they are the same on every start of the same layout, but clients are meant to find
nodes by browse path. Subscriptions work; security None is accepted.
"""

from __future__ import annotations

from asyncua import ua
from asyncua.server.server import Server
from asyncua.ua.status_codes import StatusCodes

from opcua_gateway.simulators.address_space import Reading, add_variable, argument, status, status_for
from opcua_gateway.simulators.model import SimulatorError
from opcua_gateway.simulators.runtime import Simulator
from opcua_gateway.simulators.spec import SimulatorSpec

NAMESPACE = "urn:samverka:sim:kylbox"

_D = ua.VariantType.Double
_B = ua.VariantType.Boolean
_S = ua.VariantType.String


def compartment_name(number: int) -> str:
    return f"Compartment{number:02d}"


class KylboxSimulator(Simulator):
    vendor = "kylbox"
    namespace_uri = NAMESPACE
    manufacturer = "Kylbox AB"

    def __init__(self, spec: SimulatorSpec) -> None:
        super().__init__(spec)
        self._nodes: dict[tuple[str, int], dict[str, ua.NodeId]] = {}
        self._by_object: dict[ua.NodeId, tuple[str, int]] = {}

    def _locker_ids(self, count: int) -> list[str]:
        return [f"KB-{n:04d}" for n in range(1, count + 1)]

    async def _build(self, server: Server, idx: int) -> None:
        self._nodes.clear()
        self._by_object.clear()
        self.keypads.nodes.clear()
        root = await server.nodes.objects.add_object(idx, "Kylbox")
        lockers = await root.add_folder(idx, "Lockers")
        for locker_id, locker in self.model.lockers.items():
            locker_node = await lockers.add_object(idx, locker_id)
            for number, comp in locker.compartments.items():
                obj = await locker_node.add_object(idx, compartment_name(number))
                nodes = {}
                for name, value, vtype in (
                    ("DoorOpen", comp.door_open, _B),
                    ("Locked", comp.locked, _B),
                    ("Occupied", comp.occupied, _B),
                    ("Temperature", comp.reading_c, _D),
                    ("Setpoint", comp.setpoint_c, _D),
                    ("TemperatureClass", comp.temperature_class.value, _S),
                    ("Size", comp.size.value, _S),
                ):
                    nodes[name] = (await add_variable(obj, idx, name, value, vtype)).nodeid
                await obj.add_method(idx, "Unlock", self._unlock, [], [])
                await obj.add_method(
                    idx,
                    "SetSetpoint",
                    self._set_setpoint,
                    [argument("Setpoint", _D, "The new setpoint in °C")],
                    [],
                )
                self._nodes[(locker_id, number)] = nodes
                self._by_object[obj.nodeid] = (locker_id, number)
            keypad = await locker_node.add_object(idx, "Keypad")
            entry = await add_variable(keypad, idx, "Entry", "", _S, writable=True)
            self.keypads.add(entry.nodeid, locker_id)

    def _values(self) -> dict[ua.NodeId, Reading]:
        values: dict[ua.NodeId, Reading] = {}
        for (locker_id, number), nodes in self._nodes.items():
            comp = self.model.compartment(number, locker_id)
            values[nodes["DoorOpen"]] = Reading(comp.door_open, _B)
            values[nodes["Locked"]] = Reading(comp.locked, _B)
            values[nodes["Occupied"]] = Reading(comp.occupied, _B)
            values[nodes["Temperature"]] = Reading(comp.reading_c, _D, bad=comp.sensor_bad)
            values[nodes["Setpoint"]] = Reading(comp.setpoint_c, _D)
        return values

    async def _unlock(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant] | ua.StatusCode:
        await self._answer_delay()
        if args:
            return status(StatusCodes.BadTooManyArguments)
        locker_id, number = self._by_object[parent]
        try:
            self.model.unlock(number, by="opcua:Unlock", locker=locker_id)
        except SimulatorError as error:
            return status_for(error)
        self._wake.set()  # the bolt releases now, not at the next physics tick
        return []

    async def _set_setpoint(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant] | ua.StatusCode:
        await self._answer_delay()
        if len(args) != 1:
            return status(StatusCodes.BadArgumentsMissing if not args else StatusCodes.BadTooManyArguments)
        if args[0].VariantType is not ua.VariantType.Double:
            return status(StatusCodes.BadTypeMismatch)
        locker_id, number = self._by_object[parent]
        try:
            self.model.set_setpoint(number, float(args[0].Value), locker=locker_id)
        except SimulatorError as error:
            return status_for(error)
        self._wake.set()
        return []
