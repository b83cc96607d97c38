"""The gateway against real asyncua servers: live changes become events in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from opcua_gateway.contracts import (
    AlarmCleared,
    AlarmKind,
    AlarmRaised,
    Connectivity,
    DeviceHealth,
    HealthChanged,
    SlotStatus,
    StateChanged,
    Telemetry,
    TemperatureClass,
)
from tests.integration.gateway_support import (
    FrostlogikServer,
    KylboxServer,
    RedisHandle,
    endpoint_id,
    eventually,
    free_port,
    running_gateway,
    write_config,
)


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisHandle]:
    handle = RedisHandle(tmp_path_factory.mktemp("gateway-redis"))
    yield handle
    handle.stop()


@pytest.fixture
async def kylbox() -> AsyncIterator[KylboxServer]:
    server = KylboxServer(lockers=("KB-0001",), compartments=2)
    await server.start()
    yield server
    await server.stop()


def states(events: list[object], compartment: str) -> list[StateChanged]:
    return [e for e in events if isinstance(e, StateChanged) and e.compartment == compartment]


async def test_live_kylbox_changes_arrive_in_redis_as_canonical_events(
        tmp_path: Path, redis: RedisHandle, kylbox: KylboxServer) -> None:
    eid = endpoint_id("kylbox-1")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    async with running_gateway(config):
        first = await eventually(lambda: _states(redis, eid, "2"), what="the first state of compartment 2")
        assert first[0].locker == "KB-0001"
        assert first[0].state.temperature_class is TemperatureClass.FROZEN
        assert first[0].state.temperature_c == -20.0 and first[0].state.door_open is False
        await kylbox.set("KB-0001", 1, "DoorOpen", True)
        await kylbox.set("KB-0001", 1, "Occupied", True)

        async def opened() -> list[StateChanged]:
            return [s for s in await _states(redis, eid, "1") if s.state.door_open and s.state.occupied]

        [state, *_] = await eventually(opened, what="door 1 open and occupied")
        assert state.state.status is SlotStatus.OCCUPIED
        events = await redis.events(eid)
        assert any(isinstance(e, Telemetry) and e.compartment == "1" for e in events)
        health = [e.health for e in events if isinstance(e, HealthChanged)]
        assert health and health[-1].connectivity is Connectivity.ONLINE
        seqs = [e.seq for e in events if e.compartment == "1"]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def _states(redis: RedisHandle, eid: str, compartment: str) -> list[StateChanged]:
    return states(await redis.events(eid), compartment)


async def test_a_polled_frostlogik_controller_maps_arrays_and_tenths(tmp_path: Path, redis: RedisHandle) -> None:
    server = FrostlogikServer(cabinet="FL-7", compartments=3)
    await server.start()
    eid = endpoint_id("frostlogik-1")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": server.url, "profile": "frostlogik"}])
    try:
        async with running_gateway(config):
            await eventually(lambda: _states(redis, eid, "3"), what="compartment 3")
            await server.set("TempTenths", 0, 57)
            await server.set("DoorStates", 1, 2)  # fault

            async def changed() -> list[StateChanged] | None:
                one = [s for s in await _states(redis, eid, "1") if s.state.temperature_c == 5.7]
                two = [s for s in await _states(redis, eid, "2") if s.state.status is SlotStatus.OUT_OF_ORDER]
                return one + two if one and two else None

            [one, two] = await eventually(changed, what="tenths and the door fault")
            assert one.locker == "FL-7" and one.state.temperature_class is TemperatureClass.CHILLED
            assert two.state.door_open is None
    finally:
        await server.stop()


async def test_a_door_left_open_raises_door_ajar_and_closing_clears_the_same_alarm(
        tmp_path: Path, redis: RedisHandle, kylbox: KylboxServer) -> None:
    eid = endpoint_id("kylbox-ajar")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    async with running_gateway(config):
        await eventually(lambda: _states(redis, eid, "1"), what="the first state")
        await kylbox.set("KB-0001", 1, "DoorOpen", True)

        async def raised() -> list[AlarmRaised]:
            return [e for e in await redis.events(eid) if isinstance(e, AlarmRaised) and e.alarm is AlarmKind.DOOR_AJAR]

        [alarm] = await eventually(raised, what="door ajar")
        await kylbox.set("KB-0001", 1, "DoorOpen", False)

        async def cleared() -> list[AlarmCleared]:
            return [e for e in await redis.events(eid) if isinstance(e, AlarmCleared)]

        [clear] = await eventually(cleared, what="the clear")
        assert (clear.alarm_id, clear.alarm, clear.compartment) == (alarm.alarm_id, AlarmKind.DOOR_AJAR, "1")


async def test_a_bad_sensor_makes_the_locker_stale_with_a_sensor_fault(
        tmp_path: Path, redis: RedisHandle, kylbox: KylboxServer) -> None:
    eid = endpoint_id("kylbox-bad")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    async with running_gateway(config):
        await eventually(lambda: _states(redis, eid, "2"), what="the first state")
        await kylbox.set_bad("KB-0001", 2)

        async def stale() -> list[HealthChanged]:
            return [e for e in await redis.events(eid)
                    if isinstance(e, HealthChanged) and e.health.connectivity is Connectivity.STALE]

        [health, *_] = await eventually(stale, what="stale health")
        assert health.health.device_health is DeviceHealth.FAILURE and health.health.last_seen is not None
        assert "BadSensorFailure" in health.health.detail
        events = await redis.events(eid)
        assert any(isinstance(e, AlarmRaised) and e.alarm is AlarmKind.SENSOR_FAULT and e.compartment == "2"
                   for e in events)
        assert [s.state.temperature_c for s in states(events, "2")][-1] is None


async def test_an_unreachable_endpoint_does_not_stop_the_others(
        tmp_path: Path, redis: RedisHandle, kylbox: KylboxServer) -> None:
    live, dead = endpoint_id("kylbox-live"), endpoint_id("kylbox-dead")
    config = write_config(tmp_path, redis.url, [
        {"id": dead, "url": f"opc.tcp://127.0.0.1:{free_port()}", "profile": "kylbox"},
        {"id": live, "url": kylbox.url, "profile": "kylbox"},
    ])
    async with running_gateway(config):
        await eventually(lambda: _states(redis, live, "1"), what="events of the live endpoint")
        await kylbox.set("KB-0001", 2, "Occupied", True)
        await eventually(lambda: _occupied(redis, live), what="a change on the live endpoint")
    assert await redis.events(dead) == []


async def _occupied(redis: RedisHandle, eid: str) -> list[StateChanged]:
    return [s for s in await _states(redis, eid, "2") if s.state.occupied]


async def test_a_server_restart_is_reported_offline_and_the_gateway_reconnects(
        tmp_path: Path, redis: RedisHandle, kylbox: KylboxServer) -> None:
    eid = endpoint_id("kylbox-restart")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    async with running_gateway(config):
        await eventually(lambda: _states(redis, eid, "1"), what="the first state")
        await kylbox.stop()

        async def connectivity(kind: Connectivity) -> list[HealthChanged]:
            return [e for e in await redis.events(eid)
                    if isinstance(e, HealthChanged) and e.health.connectivity is kind]

        await eventually(lambda: connectivity(Connectivity.OFFLINE), what="offline")
        online_before = len(await connectivity(Connectivity.ONLINE))
        await kylbox.start()
        await kylbox.set("KB-0001", 2, "Occupied", True)
        await eventually(lambda: _occupied(redis, eid), within=20, what="a change after the restart")

        async def back_online() -> bool:
            return len(await connectivity(Connectivity.ONLINE)) > online_before

        await eventually(back_online, what="online again")


async def test_lockers_known_from_an_earlier_run_are_reported_offline_when_their_server_is_down_at_start(
        tmp_path: Path, redis: RedisHandle, kylbox: KylboxServer) -> None:
    eid = endpoint_id("kylbox-known")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    async with running_gateway(config):
        await eventually(lambda: _states(redis, eid, "1"), what="the first state")
    await kylbox.stop()
    async with running_gateway(config):

        async def unreachable() -> list[HealthChanged]:
            return [e for e in await redis.events(eid) if isinstance(e, HealthChanged)
                    and e.health.connectivity is Connectivity.OFFLINE and "cannot connect" in e.health.detail]

        [health, *_] = await eventually(unreachable, what="offline health from the new run")
        assert health.locker == "KB-0001"
    await kylbox.start()
