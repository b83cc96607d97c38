"""Keypads end to end: a code typed on each vendor's simulated locker becomes exactly one
``CodeEntered`` on the events stream, through the real gateway, its outbox and an embedded
Redis. Kylbox (a subscribed variable), Frostlogik (a polled variable) and Nordlås (OPC UA
events over SignAndEncrypt) each in their own style."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from asyncua import Client

from opcua_gateway.contracts import CodeEntered, StateChanged
from opcua_gateway.outbox import Outbox
from opcua_gateway.simulators import Simulator, SimulatorSpec, create_simulator
from tests.integration.gateway_support import (
    KylboxKeypadServer,
    RedisHandle,
    endpoint_id,
    eventually,
    running_gateway,
    write_config,
)

PASSWORD_ENV = "SAMVERKA_TEST_KEYPAD_NORDLAS_PASSWORD"
VENDORS = ["kylbox", "frostlogik", "nordlas"]
SETTLE_S = 2.5  # longer than a Frostlogik poll plus a clear: a duplicate would have shown by then


def new_code() -> str:
    return uuid.uuid4().hex[:8].upper()


@dataclass
class Site:
    redis: RedisHandle
    sims: dict[str, Simulator]
    ids: dict[str, str]

    def lockers(self, vendor: str) -> tuple[str, str]:
        """(the simulator's locker id, the gateway's locker id) that the tests type on."""
        sim = self.sims[vendor]
        if vendor == "kylbox":
            return "KB-0002", "KB-0002"  # the second locker: the keypad is the locker's own
        locker = sim.model.locker_id()
        return locker, f"{sim.spec.site}/{locker}" if vendor == "nordlas" else locker

    async def entries(self, vendor: str, *codes: str) -> list[CodeEntered]:
        return [e for e in await self.redis.events(self.ids[vendor])
                if isinstance(e, CodeEntered) and (not codes or e.code in codes)]


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisHandle]:
    handle = RedisHandle(tmp_path_factory.mktemp("keypad-redis"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
async def site(redis: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    work = tmp_path_factory.mktemp("keypad-sims")
    specs = {
        "kylbox": SimulatorSpec("kylbox", lockers=2, compartments=2, tick_s=0.1),
        "frostlogik": SimulatorSpec("frostlogik", compartments=2, tick_s=0.1),
        "nordlas": SimulatorSpec("nordlas", lockers=1, compartments=2, tick_s=0.1, pki_dir=work / "sim-pki",
                                 password="keypad-secret"),
    }
    sims = {vendor: create_simulator(spec) for vendor, spec in specs.items()}
    await asyncio.gather(*(sim.start() for sim in sims.values()))
    ids = {vendor: endpoint_id(vendor) for vendor in sims}
    nordlas = sims["nordlas"]
    config = write_config(work, redis.url, [
        {"id": ids["kylbox"], "url": sims["kylbox"].url, "profile": "kylbox"},
        {"id": ids["frostlogik"], "url": sims["frostlogik"].url, "profile": "frostlogik"},
        {"id": ids["nordlas"], "url": nordlas.url, "profile": "nordlas", "security": "sign_and_encrypt",
         "username": "gateway", "password_env": PASSWORD_ENV, "trust": [str(nordlas.certificate_path)]},
    ])
    os.environ[PASSWORD_ENV] = "keypad-secret"
    site = Site(redis, sims, ids)
    try:
        async with running_gateway(config):
            for vendor in sims:  # subscribed (Nordlås: to its keypad events) before anyone types
                await eventually(lambda v=vendor: connected(site, v), within=30, what=f"{vendor} connected")
            yield site
    finally:
        os.environ.pop(PASSWORD_ENV, None)
        await asyncio.gather(*(sim.stop() for sim in sims.values()))


async def connected(site: Site, vendor: str) -> bool:
    return any(isinstance(e, StateChanged) for e in await site.redis.events(site.ids[vendor]))


async def keypad_value(sim: Simulator, locker: str) -> object:
    """The keypad variable as an OPC UA client reads it."""
    async with Client(sim.url) as client:
        ns = await client.get_namespace_index(sim.namespace_uri)
        path = (["Kylbox", "Lockers", locker, "Keypad", "Entry"] if sim.vendor == "kylbox"
                else ["FL_Controller", "KeypadBuffer"])
        node = await client.nodes.objects.get_child([f"{ns}:{name}" for name in path])
        return await node.read_value()


@pytest.mark.parametrize("vendor", VENDORS)
async def test_a_typed_code_becomes_exactly_one_code_entered_event(site: Site, vendor: str) -> None:
    sim_locker, locker = site.lockers(vendor)
    code = new_code()
    await site.sims[vendor].enter_code(code, locker=sim_locker)
    await eventually(lambda: site.entries(vendor, code), within=15, what="the CodeEntered")
    await asyncio.sleep(SETTLE_S)
    [event] = await site.entries(vendor, code)
    assert (event.endpoint_id, event.locker, event.compartment, event.code) == (site.ids[vendor], locker, None, code)
    assert event.event_id and event.seq >= 1


@pytest.mark.parametrize("vendor", VENDORS)
async def test_two_quick_entries_give_two_events_in_order(site: Site, vendor: str) -> None:
    sim_locker, _ = site.lockers(vendor)
    first, second = new_code(), new_code()
    await site.sims[vendor].enter_code(first, locker=sim_locker)
    await site.sims[vendor].enter_code(second, locker=sim_locker)  # Kylbox/Frostlogik: queued until cleared

    async def both() -> list[CodeEntered] | None:
        found = await site.entries(vendor, first, second)
        return found if len(found) >= 2 else None

    events = await eventually(both, within=15, what="two CodeEntered")
    await asyncio.sleep(SETTLE_S)
    events = await site.entries(vendor, first, second)
    assert [e.code for e in events] == [first, second]
    assert events[0].seq < events[1].seq


@pytest.mark.parametrize("vendor", VENDORS)
async def test_the_same_code_typed_twice_gives_two_events_with_their_own_ids(site: Site, vendor: str) -> None:
    sim_locker, _ = site.lockers(vendor)
    code = new_code()
    for _ in range(2):
        await site.sims[vendor].enter_code(code, locker=sim_locker)

    async def twice() -> list[CodeEntered] | None:
        found = await site.entries(vendor, code)
        return found if len(found) >= 2 else None

    await eventually(twice, within=15, what="two CodeEntered of the same code")
    await asyncio.sleep(SETTLE_S)
    first, second = await site.entries(vendor, code)
    assert first.event_id != second.event_id
    assert first.seq < second.seq


@pytest.mark.parametrize("vendor", ["kylbox", "frostlogik"])
async def test_a_variable_keypad_is_cleared_after_reading(site: Site, vendor: str) -> None:
    sim = site.sims[vendor]
    sim_locker, _ = site.lockers(vendor)
    code = new_code()
    await sim.enter_code(code, locker=sim_locker)
    assert await keypad_value(sim, sim_locker) == code  # shown until the gateway consumes it
    await eventually(lambda: site.entries(vendor, code), within=15)

    async def cleared() -> bool:
        return await keypad_value(sim, sim_locker) == "" and sim.model.keypad(sim_locker).pending == 0

    await eventually(cleared, within=10, what="the keypad cleared")


async def test_an_entry_that_is_not_a_code_is_consumed_without_an_event(site: Site) -> None:
    sim = site.sims["kylbox"]
    sim_locker, _ = site.lockers("kylbox")
    code = new_code()
    await sim.enter_code("12-34", locker=sim_locker)
    await sim.enter_code(code, locker=sim_locker)
    await eventually(lambda: site.entries("kylbox", code), within=15)
    assert sim.model.keypad(sim_locker).pending == 0
    assert not await site.entries("kylbox", "12-34", "1234")


async def test_the_gateway_logs_the_length_of_a_code_never_the_code(site: Site,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="opcua_gateway")  # asyncua logs values at INFO: the CLI keeps it quiet
    sim_locker, _ = site.lockers("kylbox")
    code = new_code()
    await site.sims["kylbox"].enter_code(code, locker=sim_locker)
    await eventually(lambda: site.entries("kylbox", code), within=15)
    await asyncio.sleep(0.5)
    ours = [r.getMessage() for r in caplog.records
            if r.name.startswith("opcua_gateway") or r.levelno >= logging.WARNING]
    assert any("keypad entry at locker KB-0002 (8 characters)" in message for message in ours)
    assert not [message for message in ours if code in message]


async def test_an_entry_still_shown_after_a_gateway_restart_is_not_reported_again(
        redis: RedisHandle, tmp_path: Path) -> None:
    server = KylboxKeypadServer(compartments=1)
    await server.start()
    eid = endpoint_id("kylbox-restart")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": server.url, "profile": "kylbox"}])

    async def entries() -> list[CodeEntered]:
        return [e for e in await redis.events(eid) if isinstance(e, CodeEntered)]

    async def cleared() -> bool:
        return await server.entry("KB-0001") == ""

    async def two() -> bool:
        return len(await entries()) >= 2

    typed_at = datetime.now(UTC)
    try:
        async with running_gateway(config):
            await server.show("KB-0001", "4711", typed_at)
            await eventually(entries, within=15)
            await eventually(cleared, within=10)
        # As if the gateway had stopped after storing the event but before its clear landed:
        await server.show("KB-0001", "4711", typed_at)
        async with running_gateway(config):  # the same outbox
            await eventually(cleared, within=15, what="the old entry cleared")
            await asyncio.sleep(1.0)
            assert len(await entries()) == 1
            await server.show("KB-0001", "4711", datetime.now(UTC))  # the same code typed again
            await eventually(two, within=15)
    finally:
        await server.stop()
    first, second = await entries()
    assert first.code == second.code == "4711"
    assert first.event_id != second.event_id and second.seq > first.seq  # health shares the locker seq


async def test_the_outbox_stores_an_entry_once_and_remembers_it_across_a_reopen(tmp_path: Path) -> None:
    event = CodeEntered(event_id="", endpoint_id="t.kylbox", locker="KB-0001", seq=0, at=datetime.now(UTC),
                        code="1234")
    outbox = await Outbox.open(tmp_path / "outbox.sqlite3")
    try:
        stored = await outbox.append_entry(event, "time:2026-01-01T00:00:00+00:00")
        assert stored is not None and stored.seq == 1 and stored.event_id
        assert await outbox.append_entry(event, "time:2026-01-01T00:00:00+00:00") is None
    finally:
        await outbox.close()
    outbox = await Outbox.open(tmp_path / "outbox.sqlite3")
    try:
        assert await outbox.append_entry(event, "time:2026-01-01T00:00:00+00:00") is None
        again = await outbox.append_entry(event, "time:2026-01-01T00:00:05+00:00")
        assert again is not None and again.seq == 2 and again.event_id != stored.event_id
        assert await outbox.pending() == 2
    finally:
        await outbox.close()
