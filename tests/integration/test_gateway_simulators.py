"""The gateway against the three vendor simulators (opcua_gateway/simulators) at once:
subscriptions, polling, SignAndEncrypt with a trust list and a password, vendor alarm
events, commands by method and by variable write, faults and restarts."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from opcua_gateway.contracts import (
    AlarmKind,
    AlarmRaised,
    Connectivity,
    DeviceHealth,
    HealthChanged,
    LockerEvent,
    StateChanged,
    UnlockCompartment,
    commands_stream,
    encode,
)
from opcua_gateway.simulators import PhysicsParams, Simulator, SimulatorSpec, create_simulator
from tests.integration.gateway_support import RedisHandle, endpoint_id, eventually, running_gateway, write_config

PASSWORD_ENV = "SAMVERKA_TEST_NORDLAS_PASSWORD"
FAST = PhysicsParams(time_scale=10.0)


@dataclass
class Site:
    redis: RedisHandle
    sims: dict[str, Simulator]
    ids: dict[str, str]
    pki: Path

    async def events(self, vendor: str) -> list[LockerEvent]:
        return await self.redis.events(self.ids[vendor])


@pytest.fixture(scope="module")
def redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisHandle]:
    handle = RedisHandle(tmp_path_factory.mktemp("gateway-redis"))
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
async def site(redis: RedisHandle, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    work = tmp_path_factory.mktemp("gateway-sims")
    specs = {
        "kylbox": SimulatorSpec("kylbox", lockers=1, compartments=4, tick_s=0.1, physics=FAST),
        "frostlogik": SimulatorSpec("frostlogik", compartments=4, tick_s=0.1, physics=FAST),
        "nordlas": SimulatorSpec("nordlas", lockers=1, compartments=4, tick_s=0.1, physics=FAST, alarm_delay_s=2.0,
                                 pki_dir=work / "sim-pki", password="test-secret"),
    }
    sims = {vendor: create_simulator(spec) for vendor, spec in specs.items()}
    await asyncio.gather(*(sim.start() for sim in sims.values()))
    ids = {vendor: endpoint_id(vendor) for vendor in sims} | {"untrusted": endpoint_id("untrusted"),
                                                              "wrong-password": endpoint_id("wrong-password")}
    nordlas = sims["nordlas"]
    secure = {"url": nordlas.url, "profile": "nordlas", "security": "sign_and_encrypt", "username": "gateway"}
    (work / "empty-trust").mkdir()
    config = write_config(work, redis.url, [
        {"id": ids["kylbox"], "url": sims["kylbox"].url, "profile": "kylbox"},
        {"id": ids["frostlogik"], "url": sims["frostlogik"].url, "profile": "frostlogik"},
        {"id": ids["nordlas"], **secure, "trust": [str(nordlas.certificate_path)], "password_env": PASSWORD_ENV},
        {"id": ids["untrusted"], **secure, "trust": [str(work / "empty-trust")], "password_env": PASSWORD_ENV},
        {"id": ids["wrong-password"], **secure, "trust": [str(nordlas.certificate_path)], "password_env": "WRONG_PW"},
    ], alarms={"door_ajar_s": 30.0, "temperature_delay_s": 1.0, "stale_after_s": 5.0})
    os.environ[PASSWORD_ENV], os.environ["WRONG_PW"] = "test-secret", "not-the-password"
    try:
        async with running_gateway(config):
            yield Site(redis, sims, ids, work / "pki")
    finally:
        os.environ.pop(PASSWORD_ENV, None)
        os.environ.pop("WRONG_PW", None)
        await asyncio.gather(*(sim.stop() for sim in sims.values()))


async def compartments_seen(site: Site, vendor: str) -> set[str] | None:
    seen = {e.compartment or "" for e in await site.events(vendor) if isinstance(e, StateChanged)}
    return seen if len(seen) == 4 else None


@pytest.mark.parametrize("vendor", ["kylbox", "frostlogik", "nordlas"])
async def test_every_vendor_reports_all_compartments_and_is_online(site: Site, vendor: str) -> None:
    assert await eventually(lambda: compartments_seen(site, vendor), within=20) == {"1", "2", "3", "4"}
    health = [e.health for e in await site.events(vendor) if isinstance(e, HealthChanged)]
    assert health and health[-1].connectivity is Connectivity.ONLINE


async def test_the_gateway_made_its_certificate_and_refused_an_untrusted_server(site: Site) -> None:
    await eventually(lambda: compartments_seen(site, "nordlas"), within=20)
    assert (site.pki / "own" / "cert.der").is_file() and (site.pki / "own" / "key.pem").is_file()
    assert list((site.pki / "rejected").glob("*.der")), "the untrusted server certificate was not kept for review"
    assert await site.events("untrusted") == []
    assert await site.events("wrong-password") == []


@pytest.mark.parametrize(("vendor", "locker"),
                         [("kylbox", "KB-0001"), ("frostlogik", None), ("nordlas", "Centrum/C01")])
async def test_an_unlock_is_confirmed_on_every_vendor(site: Site, vendor: str, locker: str | None) -> None:
    await eventually(lambda: compartments_seen(site, vendor), within=20)
    if locker is None:
        locker = next(e.locker for e in await site.events(vendor))
    command = UnlockCompartment(request_id=uuid.uuid4().hex, endpoint_id=site.ids[vendor], locker=locker,
                                compartment="4", requested_by="staff:test", timeout_s=8)
    async with site.redis.client() as r:
        await r.xadd(commands_stream(command.endpoint_id), {"m": encode(command)})
    result = await eventually(lambda: site.redis.result(command.request_id), within=12)
    assert result.outcome == "confirmed", result.detail


async def test_a_nordlas_temperature_alarm_event_becomes_a_vendor_alarm(site: Site) -> None:
    await eventually(lambda: compartments_seen(site, "nordlas"), within=20)
    await site.sims["nordlas"].open_door(1, by="code:1")  # compartment 1 is chilled: it warms while open

    async def raised() -> list[AlarmRaised]:
        return [e for e in await site.events("nordlas") if isinstance(e, AlarmRaised) and e.alarm is AlarmKind.VENDOR]

    [alarm, *_] = await eventually(raised, within=20, what="the vendor alarm")
    assert alarm.compartment == "1" and alarm.locker == "Centrum/C01"
    assert "Nordlås temperature alarm" in alarm.message and alarm.value is not None

    async def derived() -> list[AlarmRaised]:  # the gateway's own limit alarm follows after its delay
        return [e for e in await site.events("nordlas") if isinstance(e, AlarmRaised)
                and e.alarm is AlarmKind.TEMPERATURE_HIGH]

    [high, *_] = await eventually(derived, within=10, what="the derived alarm")
    assert high.compartment == "1" and high.value is not None and high.value > 8.0
    await site.sims["nordlas"].close_door(1, occupied=False)


async def test_a_bad_frostlogik_sensor_is_reported_stale_with_a_failure(site: Site) -> None:
    await eventually(lambda: compartments_seen(site, "frostlogik"), within=20)
    site.sims["frostlogik"].set_bad(2)

    async def stale() -> list[HealthChanged]:
        return [e for e in await site.events("frostlogik") if isinstance(e, HealthChanged)
                and e.health.connectivity is Connectivity.STALE]

    [health, *_] = await eventually(stale, within=10)
    assert health.health.device_health is DeviceHealth.FAILURE and "BadSensorFailure" in health.health.detail
    site.sims["frostlogik"].set_bad(2, on=False)


async def test_a_simulator_restart_is_survived(site: Site) -> None:
    await eventually(lambda: compartments_seen(site, "kylbox"), within=20)
    before = len(await site.events("kylbox"))
    await site.sims["kylbox"].restart()
    await site.sims["kylbox"].open_door(2, by="code:2")

    async def reopened() -> bool:
        later = (await site.events("kylbox"))[before:]
        return any(isinstance(e, StateChanged) and e.compartment == "2" and e.state.door_open for e in later)

    await eventually(reopened, within=20, what="a change after the restart")
