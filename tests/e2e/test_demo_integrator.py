"""The demo integrator of ``samverka up`` works without a human: its set-up as the municipality's
admin (``backend.demo.prepare_integrator``), then its loop with fast timings against the session's
``samverka serve`` + ``samverka worker``, a Kylbox simulator in this process behind the real
gateway, and the simulators' control interface for people at the locker on the session's Redis.

The e-shop books through GraphQL, the courier and the recipient act through the control
interface, the pickup code comes from the SMS the worker logged as sent, and the return code
from a signed webhook to the integrator's own receiver."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from backend import demo
from backend.demo_deliveries import Fate, Municipality, Shop, Timings, run
from backend.demo_people import Compartment, People
from backend.demo_webhooks import Webhooks
from opcua_gateway.simulators import people
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.nordlas import NordlasSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from tenants.database import Database
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login
from tests.e2e.test_lockers_api import ENDPOINT, LOCKER, SITE, data, eventually
from tests.integration.gateway_support import running_gateway, write_config

LOCKERS = """mutation { enablePlugin(pluginId: "lockers", config: {open_timeout_s: 10}) { __typename } }"""
DELIVERIES = """{ deliveries(first: 50) { nodes { reference status pickedUpBy coldChain { broken } } } }"""
FAST = Timings(
    first=(0.0, 0.2),
    between=(0.5, 1.0),
    courier=(0.2, 0.5),
    recipient=(0.5, 1.0),
    at_door=(1.0, 1.5),
    door_left_open=4.0,
    wait=20.0,
    max_active=3,
)


@contextlib.asynccontextmanager
async def kylbox_behind_the_gateway(
    server: Server, world: World, tmp_path: Path, people_key: str
) -> AsyncIterator[None]:
    """A Kylbox locker registered with municipality A, its gateway, and people at it on ``people_key``."""
    physics = PhysicsParams(noise_c=0.0, time_scale=4.0)  # an open door warms the goods 1.2 °C/s
    sim = KylboxSimulator(SimulatorSpec(vendor="kylbox", compartments=4, tick_s=0.25, physics=physics))
    await sim.start()
    redis = Redis.from_url(server.settings.redis_url or "")
    serving = asyncio.create_task(people.serve(redis, {"kylbox": sim}, people_key))
    try:
        admin = await login(server, world.a.admin_email)
        assert data(await admin(LOCKERS), "enablePlugin")["__typename"] == "PluginInfo"
        site = data(
            await admin(SITE, {"input": {"name": "Demoskåpet", "latitude": 58.5, "longitude": 13.1}}), "registerSite"
        )
        endpoint = data(
            await admin(ENDPOINT, {"input": {"name": "kylbox", "vendor": "kylbox", "url": sim.url}}), "registerEndpoint"
        )
        [(locker_id, locker)] = sim.model.lockers.items()
        compartments = [
            {"key": str(n), "temperatureClass": c.temperature_class.value.upper(), "sizeClass": c.size.value}
            for n, c in locker.compartments.items()
        ]
        registered = data(
            await admin(
                LOCKER,
                {
                    "input": {
                        "siteId": site["id"],
                        "endpointId": endpoint["id"],
                        "vendorLockerId": locker_id,
                        "name": "Skåp 1",
                        "compartments": compartments,
                    }
                },
            ),
            "registerLocker",
        )
        assert registered["__typename"] == "LockerRegistered", registered
        config = write_config(
            tmp_path, server.settings.redis_url or "", [{"id": endpoint["id"], "url": sim.url, "profile": "kylbox"}]
        )
        async with running_gateway(config):
            yield
    finally:
        serving.cancel()
        await asyncio.gather(serving, return_exceptions=True)
        await redis.aclose()
        await sim.stop()


async def test_the_demo_integrator_books_deliveries_that_its_people_drop_off_pick_up_and_take_back(
    server: Server, world: World, db: Database, tmp_path: Path
) -> None:
    key = f"test:people:{uuid.uuid4().hex}"
    async with kylbox_behind_the_gateway(server, world, tmp_path, key):
        settings = demo.deliveries_settings(world.a.slug) | {
            "pickup_hours": 0.003,  # 11 s to collect, then it expires and goes back
            "reminder_hours": 0,
            "cold_chain_allowed_minutes": 0.05,  # 3 s above 8 °C
        }
        access = await asyncio.to_thread(demo.prepare_integrator, server.url, world.a.admin_email, PASSWORD, settings)
        municipality = Municipality.of({"slug": world.a.slug, **access})
        assert {c.vendor for c in municipality.compartments.values()} == {"kylbox"}

        fates = itertools.cycle([Fate.FORGOTTEN, Fate.PICKED_UP, Fate.DOOR_LEFT_OPEN, Fate.PICKED_UP])

        def fate(c: Compartment) -> Fate:
            chosen = next(fates)
            return Fate.PICKED_UP if chosen is Fate.DOOR_LEFT_OPEN and c.temperature_class == "AMBIENT" else chosen

        lines: list[str] = []
        redis = Redis.from_url(server.settings.redis_url or "")
        webhooks = await Webhooks.start(lines.append)
        shop = Shop(server.url, municipality, People(redis, key), db, FAST, random.Random(7), lines.append, fate)
        stop = asyncio.Event()
        running = asyncio.create_task(run([shop], webhooks, stop))
        integrator = GraphQLClient(server.url, municipality.token)

        async def statuses() -> Any:
            nodes = data(await integrator(DELIVERIES), "deliveries")["nodes"]
            done = {n["status"] for n in nodes}
            return nodes if {"PICKED_UP", "RETURNED"} <= done else None

        try:
            reached = await eventually(statuses, 45)
        finally:
            stop.set()
            await asyncio.wait_for(running, 20)
            await webhooks.close()
            await redis.aclose()
        said = "\n".join(lines)
        assert reached, f"no delivery was both picked up and returned:\n{said}"
        by = {n["status"]: n["pickedUpBy"] for n in reached}
        assert by["PICKED_UP"] == "recipient (pickup code)" and by["RETURNED"] == "courier (return code)", reached
        assert "dropped off in Kylbox" in said and "picked up from Kylbox" in said, said
        assert "webhook delivery.expired" in said and "taken back from Kylbox" in said, said
        assert all(line.startswith("demo: ") for line in lines), said


async def test_people_at_the_lockers_are_refused_what_the_hardware_refuses_and_name_lockers_as_the_gateway_does(
    tmp_path: Path,
) -> None:
    kylbox = KylboxSimulator(SimulatorSpec(vendor="kylbox", compartments=2))
    nordlas = NordlasSimulator(SimulatorSpec(vendor="nordlas", compartments=2, pki_dir=tmp_path))
    sims = {"kylbox": kylbox, "nordlas": nordlas}  # not started: people act on the hardware model
    kylbox.set_locked_out(1)

    async def act(**request: Any) -> dict[str, Any]:
        return await people.act(sims, {"id": "r", **request})

    assert (await act(vendor="kylbox", locker="KB-0001", action="open_door", compartment=1))["error"] == "LockedOut"
    assert (await act(vendor="frostlogik", locker="FL-1", action="look", compartment=1))["error"] == "BadRequest"
    assert (await act(vendor="kylbox", locker="KB-0001", action="dance"))["error"] == "BadRequest"
    assert (await act(vendor="kylbox", locker="KB-0009", action="look", compartment=1))["error"] == "UnknownCompartment"
    opened = await act(vendor="nordlas", locker="Centrum/C01", action="open_door", compartment=2, by="key:staff")
    assert opened == {"ok": True, "door_open": True, "occupied": False, "temperature_c": opened["temperature_c"]}
    shut = await act(vendor="nordlas", locker="C01", action="close_door", compartment=2, occupied=True)
    assert shut["ok"] and not shut["door_open"] and shut["occupied"]


pytestmark = pytest.mark.usefixtures("server")
