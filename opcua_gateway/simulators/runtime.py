"""The running part every simulated vendor server shares: asyncua server, tick, faults.

A ``Simulator`` owns one ``LockerBank`` (the hardware) and one asyncua ``Server`` (the
vendor's controller software). The hardware keeps running while the server is restarted or
offline, as a real cabinet would. Vendor subclasses only build their address space and say
which value each node shows (``_values``, plus keypad variables they register in
``keypads``); publishing writes what changed.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from asyncua import ua
from asyncua.common.callback import CallbackService, CallbackType, ServerItemCallback
from asyncua.server.server import Server
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds

from opcua_gateway.simulators.address_space import Reading, data_value, standard_node
from opcua_gateway.simulators.keypad import KeypadVariables
from opcua_gateway.simulators.layout import default_bank
from opcua_gateway.simulators.model import LockerBank
from opcua_gateway.simulators.security import PasswordUserManager, channel_policies, ensure_certificate
from opcua_gateway.simulators.spec import SimulatorSpec, free_port

log = logging.getLogger(__name__)


class Simulator(ABC):
    """One simulated vendor OPC UA server on ``opc.tcp://host:port``."""

    vendor: ClassVar[str]
    namespace_uri: ClassVar[str]
    manufacturer: ClassVar[str]

    def __init__(self, spec: SimulatorSpec) -> None:
        self.spec = spec
        self.port = spec.port or free_port(spec.host)
        self.model: LockerBank = default_bank(
            self._locker_ids(spec.lockers), spec.compartments, seed=spec.seed, physics=spec.physics
        )
        self._server: Server | None = None
        self._online = False
        self._latency_s = 0.0
        self._tick_task: asyncio.Task[None] | None = None
        self._outage: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._published: dict[ua.NodeId, Reading] = {}
        self._publish_lock = asyncio.Lock()
        self.keypads = KeypadVariables(self.model)  # vendors with keypad variables add them in _build

    # Vendor hooks -------------------------------------------------------------------

    def _locker_ids(self, count: int) -> list[str]:
        return [f"L{n:02d}" for n in range(1, count + 1)]

    @abstractmethod
    async def _build(self, server: Server, idx: int) -> None:
        """Create the vendor's address space (before the server listens)."""

    @abstractmethod
    def _values(self) -> dict[ua.NodeId, Reading]:
        """Every state node and what it should show now."""

    async def _on_write(self, nodeid: ua.NodeId, value: ua.Variant, user: str | None) -> None:
        """A client writes ``value`` to ``nodeid``; raise ``ServiceError`` to refuse it."""
        return None

    async def _keypad_entry(self, locker: str, code: str) -> None:
        """A person typed ``code`` at ``locker``: by default the keypad variable shows it when free."""
        self.model.keypad(locker).type(code, datetime.now(UTC))
        await self._publish()

    async def _after_step(self) -> None:
        """Runs after every physics step (e.g. to raise vendor alarms)."""
        return None

    def _security_policies(self) -> list[ua.SecurityPolicyType]:
        policies = [ua.SecurityPolicyType.NoSecurity]
        if self.spec.pki_dir is not None:
            policies.append(ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt)
        return policies

    def _identity_tokens(self) -> list[type]:
        if self.spec.pki_dir is None:  # no encrypted channel: a password would travel in clear text
            return [ua.AnonymousIdentityToken]
        return [ua.AnonymousIdentityToken, ua.UserNameIdentityToken]

    def _user_manager(self) -> PasswordUserManager | None:
        return None  # asyncua's permissive default: anyone may connect

    # Public surface -----------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"opc.tcp://{self.spec.host}:{self.port}"

    @property
    def application_uri(self) -> str:
        return f"urn:samverka:sim:{self.vendor}:server"

    @property
    def certificate_path(self) -> Path | None:
        """The server certificate (DER) a client trusts; ``None`` without a PKI directory."""
        return None if self._pki_dir is None else self._pki_dir / "cert.der"

    @property
    def _pki_dir(self) -> Path | None:
        """This server's own certificate directory: ``<pki_dir>/<vendor>-<port>/``."""
        return None if self.spec.pki_dir is None else self.spec.pki_dir / f"{self.vendor}-{self.port}"

    @property
    def online(self) -> bool:
        return self._online

    async def start(self) -> None:
        """Make the server (certificate on first start), start listening and ticking."""
        if self._server is None:
            await self._serve(await self._make_server())
        if self._tick_task is None:
            self._tick_task = asyncio.create_task(self._tick_loop(), name=f"{self.vendor}-tick")
            self._tick_task.add_done_callback(self._log_crash)

    async def stop(self) -> None:
        for task in (self._outage, self._tick_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._outage = self._tick_task = None
        await self._go_down()

    async def restart(self) -> None:
        """Stop the server and start a new one on the same port, as a process restart would:
        connections, sessions and subscriptions are gone (clients get new session ids), node
        ids stay the same, the hardware keeps on. Takes as long as building a server (~2 s)."""
        await self._go_down()
        await self._serve(await self._make_server())

    def go_offline(self, seconds: float) -> asyncio.Task[None]:
        """Stop the server for ``seconds`` (at least as long as a restart takes), then bring a
        new one up; await the task to know when it is back."""

        async def outage() -> None:
            await self._go_down()
            server, _ = await asyncio.gather(self._make_server(), asyncio.sleep(seconds))
            await self._serve(server)

        self._online = False
        self._outage = asyncio.create_task(outage(), name=f"{self.vendor}-outage")
        return self._outage

    def set_latency(self, seconds: float) -> None:
        """Method calls and writes answer after ``seconds`` (0 for none)."""
        self._latency_s = max(0.0, seconds)

    def set_bad(self, compartment: int, on: bool = True, *, locker: str | None = None) -> None:
        """The temperature node reports ``BadSensorFailure`` (from the next tick, or at once)."""
        self.model.set_bad(compartment, on, locker)
        self._wake.set()

    def stick_sensor(self, compartment: int, on: bool = True, *, locker: str | None = None) -> None:
        """The temperature reading stops changing (the true temperature goes on)."""
        self.model.stick_sensor(compartment, on, locker)
        self._wake.set()

    def jam_door(self, compartment: int, on: bool = True, *, locker: str | None = None) -> None:
        """The door is stuck: an unlock releases the bolt but the door does not open."""
        self.model.jam_door(compartment, on, locker)
        self._wake.set()

    def set_locked_out(self, compartment: int, on: bool = True, *, locker: str | None = None) -> None:
        """The compartment is out of service: unlock commands are refused."""
        self.model.set_locked_out(compartment, on, locker)
        self._wake.set()

    async def open_door(self, compartment: int, by: str = "code:1234", *, locker: str | None = None) -> None:
        """A person opens the door at the keypad."""
        self.model.open_door(compartment, by, locker)
        await self._publish()

    async def close_door(
        self, compartment: int, occupied: bool, *, latched: bool = True, locker: str | None = None
    ) -> None:
        """A person shuts the door, leaving goods in it (``occupied``) or not."""
        self.model.close_door(compartment, occupied=occupied, latched=latched, locker=locker)
        await self._publish()

    async def enter_code(self, code: str, locker: str | None = None) -> None:
        """A person types ``code`` on the keypad of ``locker`` (default: the first locker)."""
        if not code:
            raise ValueError("an empty entry is not a code")
        await self._keypad_entry(self.model.locker_id(locker), code)

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # Internals ----------------------------------------------------------------------

    async def _make_server(self) -> Server:
        server = Server(user_manager=self._user_manager())
        await server.init()
        server.disable_clock()  # the tick keeps CurrentTime; asyncua's clock delays stop() by 1 s
        server.set_endpoint(self.url)
        server.set_server_name(f"{self.manufacturer} (Samverka simulator)")
        await server.set_application_uri(self.application_uri)
        await server.set_build_info(
            self.namespace_uri, self.manufacturer, f"{self.vendor} simulator", "1.0", "1", datetime.now(UTC)
        )
        if self._pki_dir is not None:
            files = await asyncio.to_thread(
                ensure_certificate, self._pki_dir, application_uri=self.application_uri, common_name=self.manufacturer
            )
            await server.load_certificate(str(files.certificate))
            await server.load_private_key(str(files.private_key))
        server.set_security_policy(self._security_policies())
        server.set_identity_tokens(self._identity_tokens())
        idx = await server.register_namespace(self.namespace_uri)
        await self._build(server, idx)
        server.subscribe_server_callback(CallbackType.PreWrite, self._before_write)
        server.subscribe_server_callback(CallbackType.PostWrite, self._after_write)
        return server

    async def _serve(self, server: Server) -> None:
        """Listen with ``server`` (its address space built) and show the current state."""
        await server.start()
        if server.bserver is not None:
            server.bserver.set_policies(channel_policies(server, self._security_policies()))
        self._server = server
        self._published.clear()
        self._online = True
        await self._publish()

    async def _go_down(self) -> None:
        self._online = False
        server, self._server = self._server, None
        if server is not None:
            await server.stop()

    async def _answer_delay(self) -> None:
        if self._latency_s > 0:
            await asyncio.sleep(self._latency_s)

    async def _before_write(self, event: ServerItemCallback, _dispatcher: CallbackService) -> None:
        if not event.is_external:
            return
        await self._answer_delay()
        user = getattr(event.user, "name", None)
        for item in event.request_params.NodesToWrite:
            if item.AttributeId == AttributeIds.Value:
                self.keypads.check_write(item.NodeId, item.Value.Value)
                await self._on_write(item.NodeId, item.Value.Value, user)

    async def _after_write(self, event: ServerItemCallback, _dispatcher: CallbackService) -> None:
        """A clear of a keypad variable has landed: show the keypad's next entry."""
        if event.is_external and self.keypads.consumed_by(event.request_params.NodesToWrite, event.response_params):
            await self._publish()

    async def _tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.spec.tick_s)
            except TimeoutError:
                pass  # the regular tick
            self._wake.clear()
            now = loop.time()
            self.model.step((now - last) * self.model.physics.time_scale)
            last = now
            await self._after_step()
            await self._publish()

    async def _publish(self) -> None:
        """Write every node whose reading changed since it was last written."""
        server = self._server
        if server is None:
            return
        async with self._publish_lock:
            for nodeid, reading in (self._values() | self.keypads.values()).items():
                if self._published.get(nodeid) == reading:
                    continue
                status = await server.iserver.aspace.write_attribute_value(
                    nodeid, AttributeIds.Value, reading.data_value()
                )
                status.check()
                self._published[nodeid] = reading
            clock = data_value(ua.Variant(datetime.now(UTC), ua.VariantType.DateTime))
            await server.write_attribute_value(standard_node(ObjectIds.Server_ServerStatus_CurrentTime), clock)

    def _log_crash(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s simulator tick stopped", self.vendor, exc_info=task.exception())
