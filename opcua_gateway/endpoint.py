"""Runs one endpoint: connect, find the profile's nodes, subscribe or poll, turn what
arrives into events in the outbox, keep health and alarms current. Never gives up: a
failure ends the session, marks the lockers offline and starts over with backoff.

Subscription callbacks only enqueue; one processor task maps and stores, so the model
is only touched by one task at a time and events keep their order. Keypad values and
events go to ``keypads.Keypads``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.client.ua_client import UaClientState
from asyncua.common.events import Event
from asyncua.ua.uaerrors import UaError

from opcua_gateway.config import Endpoint, Settings
from opcua_gateway.contracts import AlarmCleared, AlarmRaised, LockerEvent
from opcua_gateway.keypads import Keypads
from opcua_gateway.mapping import Reading
from opcua_gateway.model import Binding, EndpointModel
from opcua_gateway.outbox import Outbox
from opcua_gateway.pki import Pki
from opcua_gateway.profile import EventAlarm, KeypadEvent
from opcua_gateway.resolve import ResolveError, Resolver, Topology
from opcua_gateway.subscriptions import Feed, subscribe
from opcua_gateway.transport import CONNECTION_ERRORS, Transport

log = logging.getLogger(__name__)


class SessionEnded(Exception):
    """The session has to be rebuilt (address space changed, connection closed)."""


class EndpointRunner:
    def __init__(self, endpoint: Endpoint, settings: Settings, outbox: Outbox, pki: Pki) -> None:
        cfg = settings.config
        self.endpoint = endpoint
        self.profile = endpoint.profile
        self.settings = settings
        self.outbox = outbox
        self.model = EndpointModel(endpoint.id, self.profile, endpoint.alarms,
                                   telemetry_interval_s=cfg.telemetry_interval_s, deadband_c=cfg.temperature_deadband_c)
        self.transport = Transport(endpoint, pki, request_timeout_s=cfg.request_timeout_s,
                                   reconnect_max_delay_s=cfg.reconnect_max_delay_s)
        self.topology: Topology | None = None
        self.resolver: Resolver | None = None
        self.feed = Feed()
        self._updated = asyncio.Event()
        self._poke = asyncio.Event()
        self._urgent = 0
        self.keypads = Keypads(endpoint.id, self.profile.keypad, self.model, outbox, self.transport,
                               timeout_s=cfg.request_timeout_s, on_cleared=self._poke.set)

    # -- lifecycle ---------------------------------------------------------------------------

    async def run(self) -> None:
        self.model.restore_alarms(await self.outbox.active_alarms(self.endpoint.id))
        known = await self.outbox.known_topology(self.endpoint.id)
        delay = 1.0
        while True:
            client = await self.transport.connect_forever(lambda reason: self._unreachable(known, reason))
            started = time.monotonic()
            reason = "connection closed"
            try:
                await self._session(client)
            except SessionEnded as exc:
                reason = str(exc)
            except asyncio.CancelledError:
                reason = "gateway stopped"
                raise
            except (ConnectionError, OSError, TimeoutError, UaError, ResolveError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("%s: session failed: %s", self.endpoint.id, reason)
            finally:
                self.topology = None
                await self.keypads.stop()
                self.transport.ready.clear()
                await self._emit(self.model.set_connected(False, *self._clock(), reason=reason))
                await self.transport.close()
            longest = self.settings.config.reconnect_max_delay_s
            delay = 1.0 if time.monotonic() - started > 30 else min(delay * 2, longest)
            await asyncio.sleep(delay)

    async def _session(self, client: Client) -> None:
        timeout = self.settings.config.request_timeout_s * 10
        self.resolver = Resolver(client, self.profile)
        topology = await asyncio.wait_for(self.resolver.topology(), timeout)
        if not topology.lockers:
            log.warning("%s: the profile %s finds no lockers", self.endpoint.id, self.profile.vendor)
        self.feed = Feed()
        polling = self.profile.acquisition.mode == "poll"
        if not polling:
            self.feed.subscription = await asyncio.wait_for(subscribe(client, self.profile, topology, self.feed),
                                                            timeout)
        tasks: list[Coroutine[Any, Any, None]] = [self._process(topology), self._tick(), self._watch(client, topology)]
        if polling:
            tasks.append(self._poll(client, topology))
        self.topology = topology
        await self.outbox.remember_topology(self.endpoint.id, topology.compartments)
        now, at = self._clock()
        connected = self.model.set_connected(True, now, at)
        await self._emit(connected + self.model.set_topology(topology.compartments, now, at))
        log.info("%s: %d lockers, %d compartments, %d nodes (%s)", self.endpoint.id, len(topology.lockers),
                 len(topology.compartments), len(topology.bindings), self.profile.acquisition.mode)
        await first_completed(*tasks)

    async def _unreachable(self, known: list[tuple[str, str]], reason: str) -> None:
        """The server cannot be reached: lockers known from an earlier run are reported offline."""
        now, at = self._clock()
        events = self.model.set_connected(False, now, at, reason=reason)
        if not self.model.lockers:
            events += self.model.set_topology(known, now, at)
        await self._emit(events)

    # -- tasks -----------------------------------------------------------------------------

    async def _process(self, topology: Topology) -> None:
        while True:
            items = [await self.feed.queue.get()]
            while not self.feed.queue.empty() and len(items) < 1000:
                items.append(self.feed.queue.get_nowait())
            now, at = self._clock()
            readings: list[tuple[Binding, Reading]] = []
            keypad: list[tuple[ua.NodeId, Reading] | Event] = []
            events: list[LockerEvent] = []
            for item in items:
                if isinstance(item, Event):
                    spec = self.feed.event_types.get(getattr(item, "EventType", None))
                    if isinstance(spec, KeypadEvent):
                        keypad.append(item)
                    else:
                        events += self._vendor_event(topology, spec, item, at)
                elif item[0] in topology.keypads:
                    keypad.append(item)
                else:
                    node, reading = item
                    readings += [(binding, reading) for binding in topology.bindings.get(node, ())]
            events = self.model.apply(readings, now, at) + events
            await self._emit(events)
            await self._keypad(topology, keypad, at)
            self._notify()

    def _vendor_event(self, topology: Topology, spec: EventAlarm | None, event: Event, at: datetime,
                      ) -> list[LockerEvent]:
        locker = _locker_of(topology, event)
        if spec is None or locker is None:
            log.info("%s: vendor event from %s not mapped", self.endpoint.id, getattr(event, "SourceNode", None))
            return []
        return self.model.vendor_event(locker, spec, _fields(event), at)

    async def _keypad(self, topology: Topology, items: list[tuple[ua.NodeId, Reading] | Event], at: datetime,
                      ) -> None:
        for item in items:
            if not isinstance(item, Event):
                node, reading = item
                await self.keypads.variable(topology.keypads[node], node, reading, at)
            elif (locker := _locker_of(topology, item)) is not None:
                await self.keypads.event(locker, _fields(item), getattr(item, "EventId", None), at)
            else:
                log.info("%s: keypad event from %s not mapped", self.endpoint.id, getattr(item, "SourceNode", None))

    async def _poll(self, client: Client, topology: Topology) -> None:
        nodes = topology.nodes()
        interval = self.profile.acquisition.poll_interval_s
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                readings = await self.transport.retry(lambda c: self.transport.read(c, nodes),
                                                      deadline=started + self.settings.config.request_timeout_s)
            except CONNECTION_ERRORS as exc:
                log.info("%s: poll failed: %s", self.endpoint.id, exc)
            else:
                for node, reading in zip(nodes, readings, strict=True):
                    self.feed.queue.put_nowait((node, reading))
            wait = (min(interval, 0.2) if self._urgent else interval) - (loop.time() - started)
            try:
                await asyncio.wait_for(self._poke.wait(), timeout=max(wait, 0.01))
            except TimeoutError:
                pass
            self._poke.clear()

    async def _tick(self) -> None:
        cfg = self.settings.config
        while True:
            await asyncio.sleep(cfg.tick_s)
            now, at = self._clock()
            sub = self.feed.subscription
            if sub is not None and sub.last_publish_at is not None and self.transport.ready.is_set():
                if time.monotonic() - sub.last_publish_at < self.endpoint.alarms.stale_after_s:
                    self.model.alive(now, at)  # keep-alives prove unchanged values are current
            await self._emit(self.model.tick(now, at))

    async def _watch(self, client: Client, topology: Topology) -> None:
        async with client.subscribe_state() as states:
            while True:
                state = await states.next_change()
                self.transport.on_state(state)
                now, at = self._clock()
                if state is UaClientState.RECONNECTING:
                    await self._emit(self.model.set_connected(False, now, at, reason="connection lost; reconnecting"))
                elif state is UaClientState.CONNECTED:
                    fresh = await Resolver(client, self.profile).topology()
                    if fresh.signature() != topology.signature():
                        raise SessionEnded("the address space changed")
                    await self._emit(self.model.set_connected(True, *self._clock()))
                    await self._snapshot(client, topology)
                elif state in (UaClientState.DISCONNECTED, UaClientState.DISCONNECTING):
                    raise SessionEnded("disconnected")

    async def _snapshot(self, client: Client, topology: Topology) -> None:
        """Read every node once (after a reconnect a restored subscription may not resend)."""
        nodes = topology.nodes()
        for node, reading in zip(nodes, await self.transport.read(client, nodes), strict=True):
            self.feed.queue.put_nowait((node, reading))

    # -- for commands ----------------------------------------------------------------------

    async def wait_until(self, check: Callable[[], bool], deadline: float) -> bool:
        """Wait for ``check`` to hold after new values arrived; False at the deadline."""
        loop = asyncio.get_running_loop()
        self._urgent += 1
        self._poke.set()
        try:
            while not check():
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    await asyncio.wait_for(self._updated.wait(), timeout=remaining)
                except TimeoutError:
                    return check()
            return True
        finally:
            self._urgent -= 1

    async def emit(self, events: list[LockerEvent]) -> None:
        await self._emit(events)

    # -- helpers ---------------------------------------------------------------------------

    async def _emit(self, events: list[LockerEvent]) -> None:
        if not events:
            return
        alarms = None
        if any(isinstance(e, AlarmRaised | AlarmCleared) for e in events):
            alarms = (self.endpoint.id, dict(self.model.alarms.active))
        await self.outbox.append(events, alarms)

    def _notify(self) -> None:
        updated, self._updated = self._updated, asyncio.Event()
        updated.set()

    @staticmethod
    def _clock() -> tuple[float, datetime]:
        return time.monotonic(), datetime.now(UTC)


def _locker_of(topology: Topology, event: Event) -> str | None:
    source = getattr(event, "SourceNode", None)
    return next((key for key, place in topology.lockers.items() if place.node == source), None)


def _fields(event: Event) -> dict[str, object]:
    return {name: value.Value for name, value in event.get_event_props_as_fields_dict().items()}


async def first_completed(*coroutines: Awaitable[None]) -> None:
    """Run the coroutines as tasks until the first ends; cancel the rest; re-raise its error."""
    tasks = [asyncio.ensure_future(c) for c in coroutines]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

