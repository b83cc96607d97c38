"""Commands from Redis run against real asyncua servers and come back as CommandResults."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from opcua_gateway.contracts import (
    CommandResult,
    LockerCommand,
    Opened,
    SetSetpoint,
    StateChanged,
    UnlockCompartment,
    commands_stream,
    encode,
)
from opcua_gateway.runtime import Gateway
from tests.integration.gateway_support import (
    FrostlogikServer,
    KylboxServer,
    RedisHandle,
    endpoint_id,
    eventually,
    running_gateway,
    write_config,
)


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisHandle]:
    handle = RedisHandle(tmp_path_factory.mktemp("gateway-redis"))
    yield handle
    handle.stop()


LATE = endpoint_id("kylbox-late")


class Rig:
    def __init__(self, redis: RedisHandle, kylbox: KylboxServer, frostlogik: FrostlogikServer, kylbox_id: str,
                 frostlogik_id: str, gateway: Gateway) -> None:
        self.redis, self.kylbox, self.frostlogik = redis, kylbox, frostlogik
        self.kylbox_id, self.frostlogik_id, self.gateway = kylbox_id, frostlogik_id, gateway

    async def send(self, command: LockerCommand) -> CommandResult:
        async with self.redis.client() as r:
            await r.xadd(commands_stream(command.endpoint_id), {"m": encode(command)})
        return await eventually(lambda: self.redis.result(command.request_id), within=command.timeout_s + 5,
                                what=f"the result of {command.request_id}")


@pytest.fixture(scope="module")
async def rig(redis: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    kylbox, frostlogik = KylboxServer(compartments=3), FrostlogikServer(cabinet="FL-9", compartments=3)
    await asyncio.gather(kylbox.start(), frostlogik.start())
    kid, fid = endpoint_id("kylbox-cmd"), endpoint_id("frostlogik-cmd")
    config = write_config(tmp_path_factory.mktemp("gateway"), redis.url, [
        {"id": kid, "url": kylbox.url, "profile": "kylbox"},
        {"id": fid, "url": frostlogik.url, "profile": "frostlogik"},
        {"id": LATE, "url": kylbox.url, "profile": "kylbox"},  # a second client of the same server
    ])
    async with running_gateway(config) as gateway:
        for eid in (kid, fid):
            await eventually(lambda eid=eid: _has_state(redis, eid), what=f"{eid} online")  # type: ignore[misc]
        yield Rig(redis, kylbox, frostlogik, kid, fid, gateway)
    await asyncio.gather(kylbox.stop(), frostlogik.stop())


async def _has_state(redis: RedisHandle, eid: str) -> bool:
    return any(isinstance(e, StateChanged) for e in await redis.events(eid))


def unlock(eid: str, locker: str, compartment: str, timeout_s: float = 5.0) -> UnlockCompartment:
    return UnlockCompartment(request_id=uuid.uuid4().hex, endpoint_id=eid, locker=locker, compartment=compartment,
                             requested_by="staff:anna", timeout_s=timeout_s)


async def test_an_unlock_is_confirmed_by_the_door_and_audited(rig: Rig) -> None:
    command = unlock(rig.kylbox_id, "KB-0001", "1")
    result = await rig.send(command)
    assert (result.outcome, result.endpoint_id) == ("confirmed", rig.kylbox_id), result.detail
    events = await rig.redis.events(rig.kylbox_id)
    opened = [e for e in events if isinstance(e, Opened)]
    assert [(o.compartment, o.by, o.request_id) for o in opened] == [("1", "staff:anna", command.request_id)]
    assert any(isinstance(e, StateChanged) and e.compartment == "1" and e.state.door_open for e in events)


async def test_a_polled_frostlogik_unlock_is_confirmed_through_the_generic_command_method(rig: Rig) -> None:
    result = await rig.send(unlock(rig.frostlogik_id, "FL-9", "2"))
    assert result.outcome == "confirmed", result.detail
    assert rig.frostlogik.values["DoorStates"] == [0, 1, 0]  # index 1 is compartment "2"


async def test_a_locked_out_compartment_is_rejected_with_the_vendors_reason(rig: Rig) -> None:
    rig.frostlogik.locked_out.add(("FL-9", 2))
    result = await rig.send(unlock(rig.frostlogik_id, "FL-9", "3"))
    assert (result.outcome, result.detail) == ("rejected", "ExecuteCommand returned 2: locked out")
    rig.kylbox.locked_out.add(("KB-0001", 3))
    result = await rig.send(unlock(rig.kylbox_id, "KB-0001", "3"))
    assert result.outcome == "rejected" and "BadInvalidState" in result.detail


async def test_a_setpoint_is_written_in_the_vendors_unit_and_confirmed(rig: Rig) -> None:
    command = SetSetpoint(request_id=uuid.uuid4().hex, endpoint_id=rig.frostlogik_id, locker="FL-9",
                          compartment="1", setpoint_c=5.5, requested_by="staff:anna")
    result = await rig.send(command)
    assert result.outcome == "confirmed", result.detail
    assert rig.frostlogik.values["SetpointTenths"][0] == 55
    kylbox = SetSetpoint(request_id=uuid.uuid4().hex, endpoint_id=rig.kylbox_id, locker="KB-0001",
                         compartment="2", setpoint_c=-22.0, requested_by="staff:anna")
    assert (await rig.send(kylbox)).outcome == "confirmed"


async def test_an_unknown_compartment_is_rejected(rig: Rig) -> None:
    result = await rig.send(unlock(rig.kylbox_id, "KB-0001", "99"))
    assert result.outcome == "rejected" and "no compartment 99" in result.detail


async def test_a_command_older_than_its_timeout_is_not_executed(rig: Rig) -> None:
    command = unlock(LATE, "KB-0001", "2", timeout_s=1.0)
    async with rig.redis.client() as r:
        await r.xadd(commands_stream(LATE), {"m": encode(command)}, id="1-0")  # sent in 1970
    result = await eventually(lambda: rig.redis.result(command.request_id), what="the expiry")
    assert result.outcome == "timeout" and "expired" in result.detail


async def test_a_vendor_that_vanishes_mid_command_gives_a_failure_not_a_hang(rig: Rig) -> None:
    rig.kylbox.latency_s = 30.0  # the method never answers in time ...
    command = unlock(rig.kylbox_id, "KB-0001", "2", timeout_s=3.0)
    async with rig.redis.client() as r:
        await r.xadd(commands_stream(command.endpoint_id), {"m": encode(command)})
    await asyncio.sleep(0.5)
    await rig.kylbox.stop()  # ... and the server goes away
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await eventually(lambda: rig.redis.result(command.request_id), within=10, what="the failure")
    assert result.outcome in ("failed", "timeout"), result
    assert loop.time() - started < 5
    rig.kylbox.latency_s = 0.0
    await rig.kylbox.start()
