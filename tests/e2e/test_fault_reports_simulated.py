"""A fault raised by real simulated hardware going offline reaches the vendor and is closed by it.

A Kylbox simulator (OPC UA) -> the real gateway -> Redis -> ``samverka worker`` (lockers ingest, and
an extra worker whose fault sweep runs every second) -> PostgreSQL, with GraphQL on ``samverka
serve``. The locker is municipality A's and a vendor's active contract covers it; the vendor set a
webhook endpoint on a small HTTP server this test runs. The simulator goes offline for longer than
A's ``offline_minutes`` (0.25): exactly one critical gateway fault is raised, routed to the vendor,
and ``fault.routed`` arrives signed with the vendor's secret; the vendor acknowledges and resolves
it through ``moveFault``, each step arriving as ``fault.updated``, and its response and fix times
are measured against the contract's critical levels (2 h, 8 h), not breached; every transition has
its actor and time.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from backend.notifications import verify_signature
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from tenants.database import Database
from tests.conftest import GraphQLClient, Server, World, login
from tests.e2e.simulated_locker import register_simulated
from tests.e2e.test_lockers_api import data
from tests.e2e.test_lockers_chaos import Proc, until
from tests.e2e.test_procurement_setup_api import vendor
from tests.integration.gateway_support import running_gateway, write_config
from tests.integration.test_fault_workflow_routing import contract
from tests.integration.test_lockers_ingest import Installed
from tests.integration.test_notifications import Hooks

OUTAGE_S = 24.0  # the limit is 15 s (0.25 min); the gateway notices at once, the sweep runs every second
LOCKERS_ON = """mutation { enablePlugin(pluginId: "lockers", config: {open_timeout_s: 10}) { __typename } }"""
FAULTS_ON = """mutation { enablePlugin(pluginId: "fault_reports", config: {offline_minutes: 0.25}) {
  __typename ... on Error { code message } } }"""
HOOK = """mutation($url: String!) { setVendorWebhookEndpoint(url: $url) {
  __typename ... on WebhookEndpointSet { secret } ... on Error { code message } } }"""
FIELDS = """id municipalityId status severity source vendorId acknowledgedAt resolvedAt
  response { hours targetHours breached } fix { hours targetHours breached }
  transitions { fromStatus toStatus at actorKind actorLabel }"""
FAULTS = f"query {{ faultReports {{ {FIELDS} }} }}"
MOVE = f"""mutation($input: MoveFaultInput!) {{ moveFault(input: $input) {{
  __typename ... on FaultReport {{ {FIELDS} }} ... on Error {{ code message }} }} }}"""


@pytest.fixture
async def hooks() -> AsyncIterator[Hooks]:
    state = Hooks()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    yield state
    server.close()


async def register(admin: GraphQLClient, sim: KylboxSimulator) -> tuple[str, str]:
    """As A's admin: the lockers and fault reports plugins, a site, the simulator and its locker."""
    assert data(await admin(LOCKERS_ON), "enablePlugin")["__typename"] == "PluginInfo"
    assert data(await admin(FAULTS_ON), "enablePlugin")["__typename"] == "PluginInfo"
    simulated = await register_simulated(admin, sim, "Skåpet i hallen")
    return simulated.endpoint_id, simulated.locker_id


async def test_a_simulator_offline_too_long_raises_one_fault_the_vendor_hears_of_and_closes_in_time(
    server: Server, db: Database, world: World, hooks: Hooks, tmp_path: Path
) -> None:
    started = time.monotonic()
    sim = KylboxSimulator(SimulatorSpec(vendor="kylbox", compartments=2, tick_s=0.25, physics=PhysicsParams(noise_c=0)))
    await sim.start()
    env = {**os.environ, **server.settings.child_environment(), "SAMVERKA_ENV": "test",
           "SAMVERKA_FAULTS_SWEEP_S": "1", "SAMVERKA_NOTIFY_SWEEP_S": "2"}  # fmt: skip
    worker = Proc("fault worker", [sys.executable, "-m", "backend.cli", "worker", "--threads", "1"], env,
                  tmp_path / "worker.log")  # fmt: skip
    try:
        admin = await login(server, world.a.admin_email)
        endpoint_id, locker_id = await register(admin, sim)
        acme = await vendor(server, db, world, "Acme Skåpservice")
        async with db.federation(world.federation_id) as scope:
            acme_id = await scope.connection.fetchval("SELECT id FROM procurement_vendor WHERE name LIKE 'Acme%'")
        await contract(db, world, Installed(world.a.id, endpoint_id, uuid.UUID(locker_id), {}), vendor_id=acme_id)
        hook = data(await acme(HOOK, {"url": hooks.url("/acme")}), "setVendorWebhookEndpoint")
        secret = hook["secret"]
        worker.start()

        async def faults() -> list[dict[str, Any]]:
            return list(data(await admin(FAULTS), "faultReports"))

        gateway = write_config(tmp_path, server.settings.redis_url or "",
                               [{"id": endpoint_id, "url": sim.url, "profile": "kylbox"}])  # fmt: skip
        async with running_gateway(gateway):

            async def connectivity() -> str:
                async with db.tenant(world.a.id) as scope:
                    return str(await scope.connection.fetchval("SELECT connectivity FROM lockers_locker"))

            async def online() -> bool:
                return await connectivity() == "online"

            await until(online, 30, "the simulator to come online", worker)
            outage = sim.go_offline(OUTAGE_S)

            async def offline() -> bool:
                return await connectivity() == "offline"

            await until(offline, 10, "the gateway to report the simulator offline", worker)
            assert await faults() == []  # not before the limit
            async def routed_fault() -> list[dict[str, Any]]:
                # raised in the tenant's transaction, routed right after it commits: wait for both
                found = await faults()
                return found if found and found[0]["vendorId"] else []

            [fault] = await until(routed_fault, OUTAGE_S + 5, "the offline fault, routed", worker)
            await outage  # back online; the fault stays open for the vendor to resolve
            await until(online, 20, "the simulator to come back", worker)

        assert (fault["severity"], fault["source"], fault["status"]) == ("CRITICAL", "GATEWAY", "REPORTED")
        assert (fault["vendorId"], fault["municipalityId"]) == (str(acme_id), str(world.a.id))
        assert len(await faults()) == 1  # raised once, though the sweep saw it offline many times

        def events(name: str) -> list[dict[str, Any]]:
            return [json.loads(h.body) for h in hooks.at("/acme") if h.headers["x-samverka-event"] == name]

        async def routed() -> list[dict[str, Any]]:
            return events("fault.routed")

        [told] = await until(routed, 15, "the fault.routed webhook", worker)
        [hit] = [h for h in hooks.at("/acme") if h.headers["x-samverka-event"] == "fault.routed"]
        assert verify_signature(secret, hit.headers["x-samverka-timestamp"], hit.body,
                                hit.headers["x-samverka-signature"])  # fmt: skip
        assert (told["municipality_id"], told["data"]["fault_id"], told["data"]["severity"]) == (
            str(world.a.id), fault["id"], "critical")  # fmt: skip

        move = {"faultId": fault["id"], "municipalityId": told["municipality_id"], "to": "ACKNOWLEDGED", "note": ""}
        acked = data(await acme(MOVE, {"input": move}), "moveFault")
        assert acked["status"] == "ACKNOWLEDGED", acked
        done = data(await acme(MOVE, {"input": {**move, "to": "RESOLVED", "note": "Nätverket lagat"}}), "moveFault")
        assert done["status"] == "RESOLVED", done
        response, fix = done["response"], done["fix"]
        assert (response["targetHours"], fix["targetHours"]) == (2.0, 8.0)  # the contract's critical levels
        assert 0 < response["hours"] <= fix["hours"] < 0.1 and not response["breached"] and not fix["breached"]
        steps = done["transitions"]
        assert [(s["fromStatus"], s["toStatus"], s["actorKind"]) for s in steps] == [
            (None, "REPORTED", "system"),
            ("REPORTED", "ACKNOWLEDGED", "user"),
            ("ACKNOWLEDGED", "RESOLVED", "user"),
        ]
        assert steps[0]["actorLabel"] == "Gateway" and all("acme" in s["actorLabel"].lower() for s in steps[1:])
        assert all(s["at"] for s in steps)

        async def updates() -> list[dict[str, Any]]:
            found = events("fault.updated")
            return found if len(found) == 2 else []

        changes = [u["data"]["change"] for u in await until(updates, 15, "the fault.updated webhooks", worker)]
        assert sorted((c["from"], c["to"], c["by"]) for c in changes) == [
            ("acknowledged", "resolved", "vendor"),
            ("reported", "acknowledged", "vendor"),
        ]
        assert all(
            verify_signature(secret, h.headers["x-samverka-timestamp"], h.body, h.headers["x-samverka-signature"])
            for h in hooks.at("/acme")
        )
        assert time.monotonic() - started < 90
    finally:
        worker.stop_quietly()
        await sim.stop()
