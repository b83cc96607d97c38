"""Deliveries through real simulated hardware: a Kylbox simulator (OPC UA, with physics and a
keypad) -> the real gateway -> Redis -> ``samverka worker`` (lockers ingest + the deliveries
hook and timers) -> PostgreSQL, and GraphQL on ``samverka serve`` for the integrator.

People act at the simulator as they would at the locker: the courier types the drop-off code,
the door opens because the gateway executed the unlock the backend sent, the courier closes it
with goods inside; the recipient types the SMS's pickup code and closes the door empty. An
uncollected delivery expires and the courier takes it back with the return code that reached
the integrator's webhook (signed). Opening the door with chilled goods inside warms them: the
simulated temperatures break the cold chain, and the integrator is told.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from backend.notifications.signing import verify_signature
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from tenants.database import Database
from tests.conftest import GraphQLClient, Server, World, login
from tests.e2e.test_deliveries_api import CREATE, TOKEN, booking
from tests.e2e.test_lockers_api import ENDPOINT, LOCKER, SITE, data, eventually
from tests.integration.gateway_support import running_gateway, write_config
from tests.integration.test_notifications import Hooks

LOCKERS = """mutation { enablePlugin(pluginId: "lockers", config: {open_timeout_s: 10}) { __typename } }"""
DELIVERIES = """mutation($config: JSON) { enablePlugin(pluginId: "deliveries", config: $config) {
  __typename ... on Error { code message } } }"""
HOOK = """mutation($url: String!) { setWebhookEndpoint(url: $url) {
  __typename ... on WebhookEndpointSet { secret } ... on Error { code message } } }"""
COMPARTMENTS = "query($id: ID!) { compartments(lockerId: $id) { id key temperatureClass doorOpen } }"
DETAIL = """query($id: ID!) { delivery(id: $id) { status pickedUpBy droppedOffAt
  coldChain { minC maxC minutesAboveLimit broken brokenAt } transitions { toStatus actor } } }"""


@dataclass
class Rig:
    sim: KylboxSimulator
    admin: GraphQLClient
    integrator: GraphQLClient
    db: Database
    tenant: uuid.UUID
    keys: dict[str, int]  # compartment id -> the simulator's compartment number
    hooks: Hooks
    secret: str
    site_id: str


@pytest.fixture
async def hooks() -> AsyncIterator[Hooks]:
    state = Hooks()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    yield state
    server.close()


@contextlib.asynccontextmanager
async def rig(
    server: Server,
    world: World,
    db: Database,
    hooks: Hooks,
    tmp_path: Path,
    config: dict[str, Any],
    physics: PhysicsParams | None = None,
) -> AsyncIterator[Rig]:
    sim = KylboxSimulator(
        SimulatorSpec(vendor="kylbox", compartments=4, tick_s=0.25, physics=physics or PhysicsParams(noise_c=0.0))
    )
    await sim.start()
    try:
        admin = await login(server, world.a.admin_email)
        assert data(await admin(LOCKERS), "enablePlugin")["__typename"] == "PluginInfo"
        enabled = data(await admin(DELIVERIES, {"config": config}), "enablePlugin")
        assert enabled["__typename"] == "PluginInfo", enabled
        tag = uuid.uuid4().hex[:6]
        site = data(
            await admin(SITE, {"input": {"name": f"Skåpet {tag}", "latitude": 58.5, "longitude": 13.1}}), "registerSite"
        )
        endpoint = data(
            await admin(ENDPOINT, {"input": {"name": f"kb-{tag}", "vendor": "kylbox", "url": sim.url}}),
            "registerEndpoint",
        )
        [(locker_key, locker)] = sim.model.lockers.items()
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
                        "vendorLockerId": locker_key,
                        "name": "Skåp 1",
                        "compartments": compartments,
                    }
                },
            ),
            "registerLocker",
        )
        assert registered["__typename"] == "LockerRegistered", registered
        keys = {c["id"]: int(c["key"]) for c in registered["compartments"]}
        token = data(
            await admin(
                TOKEN, {"input": {"name": "ICA Hemleverans", "scopes": ["deliveries:read", "deliveries:write"]}}
            ),
            "createApiToken",
        )["token"]
        integrator = GraphQLClient(server.url, token)
        hook = data(await integrator(HOOK, {"url": hooks.url("/samverka")}), "setWebhookEndpoint")
        assert hook.get("secret"), hook
        gateway = write_config(
            tmp_path, server.settings.redis_url or "", [{"id": endpoint["id"], "url": sim.url, "profile": "kylbox"}]
        )
        async with running_gateway(gateway):
            yield Rig(sim, admin, integrator, db, world.a.id, keys, hooks, hook["secret"], site["id"])
    finally:
        await sim.stop()


async def book_chilled(r: Rig) -> tuple[str, str, int]:
    """A chilled delivery: its id, drop-off code and the simulator's compartment number."""
    created = data(await r.integrator(CREATE, {"input": booking(r.site_id)}), "createDelivery")
    assert created["__typename"] == "DeliveryCreated", created
    return created["delivery"]["id"], created["dropOffCode"], r.keys[created["delivery"]["compartmentId"]]


async def status(r: Rig, delivery_id: str) -> dict[str, Any]:
    result: dict[str, Any] = data(await r.integrator(DETAIL, {"id": delivery_id}), "delivery")
    return result


async def reaches(r: Rig, delivery_id: str, wanted: str, seconds: float = 30) -> dict[str, Any]:
    async def check() -> Any:
        now = await status(r, delivery_id)
        return now if now["status"] == wanted else None

    reached = await eventually(check, seconds)
    assert reached, f"never {wanted}: {await status(r, delivery_id)}"
    return reached  # type: ignore[no-any-return]


async def door_opens(r: Rig, number: int) -> None:
    async def opened() -> Any:
        return r.sim.model.compartment(number).door_open

    assert await eventually(opened, 20), f"compartment {number} did not open"


async def drop_off(r: Rig, code: str, number: int) -> None:
    await r.sim.enter_code(code)  # the courier at the keypad
    await door_opens(r, number)  # the gateway executed the unlock the backend sent
    await r.sim.close_door(number, occupied=True)


async def sms_code(r: Rig, delivery_id: str) -> str:
    """The pickup code as the recipient's SMS carried it (the logging SMS sender's outbox row)."""

    async def sent() -> Any:
        async with r.db.tenant(r.tenant) as scope:
            return await scope.connection.fetchval(
                "SELECT body FROM notification WHERE subject_id = $1 AND topic = 'deliveries.pickup_code'",
                uuid.UUID(delivery_id),
            )

    body = await eventually(sent)
    assert body
    return str(body.split("Hämtkod: ")[1][:6])


def webhooks(r: Rig, event: str) -> list[dict[str, Any]]:
    heard = []
    for hit in r.hooks.at("/samverka"):
        signature_ok = verify_signature(
            r.secret,
            hit.headers["x-samverka-timestamp"],
            hit.body,
            hit.headers["x-samverka-signature"],
            tolerance_s=3600,
        )
        assert signature_ok, "a webhook whose signature does not verify"
        if hit.headers["x-samverka-event"] == event:
            heard.append(json.loads(hit.body)["data"])
    return heard


async def test_a_delivery_from_creation_to_pickup_through_the_simulated_locker(
    server: Server, world: World, db: Database, hooks: Hooks, tmp_path: Path
) -> None:
    async with rig(server, world, db, hooks, tmp_path, {"cold_chain_allowed_minutes": 30}) as r:
        delivery_id, code, number = await book_chilled(r)
        await drop_off(r, code, number)
        await reaches(r, delivery_id, "PICKUP_CODE_SENT")
        pickup = await sms_code(r, delivery_id)
        await r.sim.enter_code(pickup)  # the recipient
        await door_opens(r, number)
        await r.sim.close_door(number, occupied=False)
        done = await reaches(r, delivery_id, "PICKED_UP")
        assert done["pickedUpBy"] == "recipient (pickup code)"
        assert [t["toStatus"] for t in done["transitions"]] == [
            "RESERVED",
            "DROPPED_OFF",
            "PICKUP_CODE_SENT",
            "PICKED_UP",
        ]
        cold = done["coldChain"]
        assert cold["broken"] is False and cold["minC"] is not None and cold["maxC"] < 8.0

        async def told() -> Any:
            return webhooks(r, "delivery.picked_up")

        [payload] = await eventually(told)
        assert payload["delivery"]["id"] == delivery_id and payload["delivery"]["status"] == "picked_up"


async def test_an_uncollected_delivery_expires_and_the_courier_takes_it_back(
    server: Server, world: World, db: Database, hooks: Hooks, tmp_path: Path
) -> None:
    config = {"pickup_hours": 0.002, "reminder_hours": 0}  # 7.2 s to collect it
    async with rig(server, world, db, hooks, tmp_path, config) as r:
        delivery_id, code, number = await book_chilled(r)
        await drop_off(r, code, number)
        await reaches(r, delivery_id, "EXPIRED", seconds=40)

        async def return_code() -> Any:
            heard = webhooks(r, "delivery.expired")
            return heard[0]["returnCode"]["code"] if heard else None

        code_back = await eventually(return_code, 30)
        assert code_back, "the integrator never heard of the expiry"
        await r.sim.enter_code(await sms_code(r, delivery_id))  # too late: the pickup code no longer opens
        await r.sim.enter_code(code_back)  # the courier
        await door_opens(r, number)
        await r.sim.close_door(number, occupied=False)
        done = await reaches(r, delivery_id, "RETURNED")
        assert done["pickedUpBy"] == "courier (return code)"
        assert [t["toStatus"] for t in done["transitions"]][-2:] == ["EXPIRED", "RETURNED"]


async def test_simulated_temperatures_break_the_cold_chain_and_the_integrator_is_told(
    server: Server, world: World, db: Database, hooks: Hooks, tmp_path: Path
) -> None:
    config = {"cold_chain_allowed_minutes": 0.05}  # 3 s above 8 °C
    physics = PhysicsParams(noise_c=0.0, time_scale=4.0)  # the door open warms the goods 1.2 °C/s
    async with rig(server, world, db, hooks, tmp_path, config, physics) as r:
        delivery_id, code, number = await book_chilled(r)
        await drop_off(r, code, number)
        await reaches(r, delivery_id, "PICKUP_CODE_SENT")
        await r.sim.open_door(number, by="staff:forgot-to-close")  # goods inside, door open

        async def broken() -> Any:
            now = await status(r, delivery_id)
            return now if now["coldChain"]["broken"] else None

        flagged = await eventually(broken, 40)
        await r.sim.close_door(number, occupied=True)
        assert flagged, await status(r, delivery_id)
        assert flagged["coldChain"]["maxC"] > 8.0 and flagged["coldChain"]["minutesAboveLimit"] >= 0.05
        assert flagged["status"] == "PICKUP_CODE_SENT"  # still inside: the door closed on the goods

        async def told() -> Any:
            return webhooks(r, "delivery.cold_chain_broken")

        [payload] = await eventually(told)
        assert payload["delivery"]["coldChainBroken"] is True and payload["coldChain"]["maxC"] > 8.0


pytestmark = pytest.mark.usefixtures("server")
