"""The gateway against another OPC UA stack: the node-opcua server with the Kylbox address space."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from opcua_gateway.contracts import StateChanged, UnlockCompartment, commands_stream, encode
from opcua_gateway.simulators import NodeInteropServer, NodeNotInstalled
from tests.integration.gateway_support import RedisHandle, endpoint_id, eventually, running_gateway, write_config


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisHandle]:
    handle = RedisHandle(tmp_path / "redis")
    yield handle
    handle.stop()


async def test_a_node_opcua_kylbox_is_mapped_and_unlocked_with_the_same_profile(tmp_path: Path,
                                                                                 redis: RedisHandle) -> None:
    server = NodeInteropServer(pki_dir=tmp_path / "node-pki")
    try:
        await server.start()
    except NodeNotInstalled as exc:
        pytest.skip(str(exc))
    eid = endpoint_id("node-kylbox")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": server.url, "profile": "kylbox"}])
    try:
        async with running_gateway(config):
            async def states() -> list[StateChanged]:
                return [e for e in await redis.events(eid) if isinstance(e, StateChanged)]

            [first, *_] = await eventually(states, within=20, what="states from node-opcua")
            assert first.locker == "KB-0001" and first.state.temperature_c is not None
            command = UnlockCompartment(request_id=uuid.uuid4().hex, endpoint_id=eid, locker="KB-0001",
                                        compartment=first.state.compartment, requested_by="staff:test", timeout_s=8)
            async with redis.client() as r:
                await r.xadd(commands_stream(eid), {"m": encode(command)})
            result = await eventually(lambda: redis.result(command.request_id), within=12, what="the result")
            assert result.outcome == "confirmed", result.detail
    finally:
        await server.stop()
