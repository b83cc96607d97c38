"""Frostlogik: an old controller with arrays indexed by compartment and one command method.

    Objects/FL_Controller/
        CabinetId (String), DoorStates (Int32[]: 0 closed, 1 open, 2 fault),
        LockStates (Boolean[]), Occupancy (Boolean[]), TempTenths (Int32[], 0.1 °C),
        SetpointTenths (Int32[]), Classes (String[] A ambient | C chilled | F frozen),
        Sizes (String[]), ExecuteCommand(code: Int32, argument: String) -> Int32,
        KeypadBuffer (String: the code typed on the keypad until a client writes "" to consume it)

Array index ``i`` is compartment ``i + 1`` of the simulator's model. ``ExecuteCommand``: code 1
unlocks (argument: the array index as text, e.g. ``"0"``), code 2 sets a setpoint (argument
``"<index>:<tenths>"``, e.g. ``"1:-200"``); it answers 0 success, 1 bad argument, 2 locked out.
One controller (one locker) per server. A Bad sensor makes the whole ``TempTenths`` node
Bad (``BadSensorFailure``): the controller reads all probes as one block. Meant for polling.
"""

from __future__ import annotations

import random

from asyncua import ua
from asyncua.server.server import Server
from asyncua.ua.status_codes import StatusCodes

from opcua_gateway.contracts import TemperatureClass
from opcua_gateway.simulators.address_space import Reading, add_variable, argument, status
from opcua_gateway.simulators.model import Compartment, DoorState, LockedOut, SimulatorError
from opcua_gateway.simulators.runtime import Simulator
from opcua_gateway.simulators.spec import SimulatorSpec

NAMESPACE = "urn:samverka:sim:frostlogik"

OK, BAD_ARGUMENT, LOCKED_OUT = 0, 1, 2
CODE_UNLOCK, CODE_SETPOINT = 1, 2
CLASS_CODES = {TemperatureClass.AMBIENT: "A", TemperatureClass.CHILLED: "C", TemperatureClass.FROZEN: "F"}

_I = ua.VariantType.Int32
_B = ua.VariantType.Boolean
_S = ua.VariantType.String


def door_code(comp: Compartment) -> int:
    if comp.door is DoorState.JAMMED:
        return 2
    return 1 if comp.door_open else 0


def tenths(celsius: float) -> int:
    return round(celsius * 10)


class FrostlogikSimulator(Simulator):
    vendor = "frostlogik"
    namespace_uri = NAMESPACE
    manufacturer = "Frostlogik Oy"

    def __init__(self, spec: SimulatorSpec) -> None:
        if spec.lockers != 1:
            raise ValueError(f"a Frostlogik controller serves exactly one locker, not {spec.lockers}")
        super().__init__(spec)
        self._arrays: dict[str, ua.NodeId] = {}

    @property
    def cabinet_id(self) -> str:
        return next(iter(self.model.lockers))

    def _locker_ids(self, count: int) -> list[str]:
        return [f"FL-{random.Random(self.spec.seed).randint(1000, 9999)}"]

    def _compartments(self) -> list[Compartment]:
        return list(self.model.lockers[self.cabinet_id].compartments.values())

    async def _build(self, server: Server, idx: int) -> None:
        controller = await server.nodes.objects.add_object(idx, "FL_Controller")
        comps = self._compartments()
        await add_variable(controller, idx, "CabinetId", self.cabinet_id, _S)
        self._arrays.clear()
        for name, value, vtype in (
            ("DoorStates", [door_code(c) for c in comps], _I),
            ("LockStates", [c.locked for c in comps], _B),
            ("Occupancy", [c.occupied for c in comps], _B),
            ("TempTenths", [tenths(c.reading_c) for c in comps], _I),
            ("SetpointTenths", [tenths(c.setpoint_c) for c in comps], _I),
            ("Classes", [CLASS_CODES[c.temperature_class] for c in comps], _S),
            ("Sizes", [c.size.value for c in comps], _S),
        ):
            self._arrays[name] = (await add_variable(controller, idx, name, value, vtype)).nodeid
        await controller.add_method(
            idx,
            "ExecuteCommand",
            self._execute,
            [
                argument("code", _I, "1 unlock, 2 set setpoint"),
                argument("argument", _S, 'unlock: "<index>"; setpoint: "<index>:<tenths of °C>"'),
            ],
            [argument("result", _I, "0 success, 1 bad argument, 2 locked out")],
        )
        self.keypads.nodes.clear()
        keypad = await add_variable(controller, idx, "KeypadBuffer", "", _S, writable=True)
        self.keypads.add(keypad.nodeid, self.cabinet_id)

    def _values(self) -> dict[ua.NodeId, Reading]:
        comps = self._compartments()
        a = self._arrays
        return {
            a["DoorStates"]: Reading([door_code(c) for c in comps], _I),
            a["LockStates"]: Reading([c.locked for c in comps], _B),
            a["Occupancy"]: Reading([c.occupied for c in comps], _B),
            a["TempTenths"]: Reading([tenths(c.reading_c) for c in comps], _I, bad=any(c.sensor_bad for c in comps)),
            a["SetpointTenths"]: Reading([tenths(c.setpoint_c) for c in comps], _I),
        }

    async def _execute(self, parent: ua.NodeId, *args: ua.Variant) -> list[ua.Variant] | ua.StatusCode:
        await self._answer_delay()
        if len(args) != 2:
            return status(StatusCodes.BadArgumentsMissing if len(args) < 2 else StatusCodes.BadTooManyArguments)
        code, text = args[0].Value, args[1].Value
        result = self._command(code, text) if isinstance(code, int) and isinstance(text, str) else BAD_ARGUMENT
        return [ua.Variant(result, _I)]

    def _command(self, code: int, text: str) -> int:
        """Run one command; answer with the controller's result code."""
        index_text, _, value_text = text.partition(":")
        count = len(self._compartments())
        if not index_text.strip().isdigit() or int(index_text) >= count:
            return BAD_ARGUMENT
        number = int(index_text) + 1
        try:
            if code == CODE_UNLOCK and not value_text:
                self.model.unlock(number, by="opcua:ExecuteCommand", locker=self.cabinet_id)
            elif code == CODE_SETPOINT and value_text.lstrip("-").isdigit():
                self.model.set_setpoint(number, int(value_text) / 10, locker=self.cabinet_id)
                self._wake.set()
            else:
                return BAD_ARGUMENT
        except LockedOut:
            return LOCKED_OUT
        except SimulatorError:
            return BAD_ARGUMENT
        return OK
