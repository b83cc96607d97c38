"""The whole chain: an OPC UA locker (a Kylbox test server) -> the real gateway -> Redis ->
``samverka worker`` (lockers ingest) -> PostgreSQL -> GraphQL on ``samverka serve``, and back
for ``openCompartment``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server, World
from tests.e2e.test_lockers_api import AUDIT, OPEN, compartments, data, eventually, register
from tests.integration.gateway_support import KylboxServer, running_gateway, write_config


@pytest.fixture
async def kylbox() -> AsyncIterator[KylboxServer]:
    server = KylboxServer(lockers=("KB-0001",), compartments=2)
    await server.start()
    yield server
    await server.stop()


async def test_a_kylbox_locker_is_seen_and_opened_through_the_real_gateway(
    server: Server, world: World, kylbox: KylboxServer, tmp_path: Path
) -> None:
    r = await register(server, world.a.admin_email, locker="KB-0001")  # compartment 1 chilled, 2 frozen
    config = write_config(
        tmp_path, server.settings.redis_url or "", [{"id": r.endpoint_id, "url": kylbox.url, "profile": "kylbox"}]
    )
    async with running_gateway(config):

        async def reported() -> Any:
            seen = await compartments(r.admin, r.locker_id)
            online = all(c["health"]["connectivity"] == "ONLINE" for c in seen.values())
            return seen if online and seen["2"]["temperatureC"] == -20.0 and seen["1"]["locked"] else None

        seen = await eventually(reported, seconds=30)
        assert seen, await compartments(r.admin, r.locker_id)
        assert (seen["1"]["doorOpen"], seen["1"]["temperatureC"], seen["1"]["openAlarms"]) == (False, 4.0, [])

        answer = data(await r.admin(OPEN, {"id": r.compartments["1"]}), "openCompartment")
        assert answer["__typename"] == "CompartmentOpened", answer

        async def door_open() -> Any:
            return (await compartments(r.admin, r.locker_id))["1"]["doorOpen"]

        assert await eventually(door_open)

        async def audited() -> Any:
            return data(await r.admin(AUDIT, {"action": "lockers.opened"}), "auditLog")["nodes"]

        [entry] = await eventually(audited)
        assert entry["details"]["request_id"] == answer["requestId"]
        assert entry["actorLabel"] != "lockers-gateway"  # the person who asked, not the gateway


pytestmark = pytest.mark.usefixtures("server")
