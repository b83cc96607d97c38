"""The lockers ingest consumer on real PostgreSQL and Redis: idempotent, ordered per compartment,
isolated per tenant, complete under load, and safe across a crashed consumer.

Each test reads its own streams (a fresh consumer group), so a running ``samverka worker`` of
another test never takes its entries.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from backend.settings import Settings
from opcua_gateway import contracts
from opcua_gateway.contracts import (
    AlarmCleared,
    AlarmKind,
    AlarmRaised,
    CompartmentState,
    Connectivity,
    HealthChanged,
    LockerHealth,
    Opened,
    Severity,
    SizeClass,
    StateChanged,
    Telemetry,
    TemperatureClass,
)
from plugins import state as plugin_state
from plugins.lockers import ingest_store, registration
from plugins.lockers.ingest import Ingest, Tuning
from plugins.lockers.streams import Streams
from plugins.registry import PluginRegistry
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World

ACTOR = Actor.system("test")
CONFIG = {"door_ajar_limit_s": 60, "temperature_excursion_limit_s": 60, "open_timeout_s": 2}


@dataclass(frozen=True)
class Installed:
    tenant: uuid.UUID
    endpoint_id: str
    locker_id: uuid.UUID
    compartments: dict[str, uuid.UUID]  # key -> id


async def enable(db: Database, tenant: uuid.UUID, config: dict[str, Any] | None = None) -> None:
    async with db.tenant(tenant) as scope:
        await plugin_state.enable(scope, PluginRegistry.discover(), "lockers", config=config or CONFIG, actor=ACTOR)


async def install(
    db: Database, tenant: uuid.UUID, *, endpoint: str = "kylbox-1", locker: str = "L1", keys: Sequence[str] = ("1", "2")
) -> Installed:
    """Enable the plugin and register a site, an endpoint and a locker (service layer)."""
    await enable(db, tenant)
    async with db.tenant(tenant) as scope:
        site = await registration.register_site(
            scope, registration.NewSite(f"Site {uuid.uuid4().hex[:6]}"), actor=ACTOR
        )
        ep = await registration.register_endpoint(
            scope, registration.NewEndpoint(endpoint, "kylbox", "opc.tcp://127.0.0.1:4841"), actor=ACTOR
        )
        compartments = tuple(registration.NewCompartment(k, TemperatureClass.CHILLED, SizeClass.M) for k in keys)
        row = await registration.register_locker(
            scope, registration.NewLocker(str(site["id"]), ep["id"], locker, "Skåp 1", compartments), actor=ACTOR
        )
        ids = {
            r["compartment_key"]: r["id"]
            for r in await scope.connection.fetch(
                "SELECT id, compartment_key FROM lockers_compartment WHERE locker_id = $1", row["id"]
            )
        }
    return Installed(tenant, ep["id"], row["id"], ids)


def _base(
    endpoint: str, locker: str, compartment: str | None, seq: int, at: datetime | None, event_id: str | None
) -> dict[str, Any]:
    return {
        "event_id": event_id or uuid.uuid4().hex,
        "endpoint_id": endpoint,
        "locker": locker,
        "compartment": compartment,
        "seq": seq,
        "at": at or datetime.now(UTC),
    }


def state(
    endpoint: str,
    seq: int,
    *,
    locker: str = "L1",
    compartment: str = "1",
    door_open: bool = False,
    temperature_c: float | None = 5.0,
    at: datetime | None = None,
    event_id: str | None = None,
) -> StateChanged:
    s = CompartmentState(
        compartment=compartment,
        temperature_class=TemperatureClass.CHILLED,
        size_class=SizeClass.M,
        door_open=door_open,
        locked=not door_open,
        occupied=True,
        temperature_c=temperature_c,
    )
    return StateChanged(**_base(endpoint, locker, compartment, seq, at, event_id), state=s, changed=("door_open",))


def telemetry(
    endpoint: str,
    seq: int,
    temperature_c: float | None,
    *,
    locker: str = "L1",
    compartment: str = "1",
    at: datetime | None = None,
    event_id: str | None = None,
) -> Telemetry:
    return Telemetry(**_base(endpoint, locker, compartment, seq, at, event_id), temperature_c=temperature_c)


def health(endpoint: str, seq: int, connectivity: Connectivity, *, locker: str = "L1") -> HealthChanged:
    return HealthChanged(
        **_base(endpoint, locker, None, seq, None, None), health=LockerHealth(connectivity=connectivity, detail="test")
    )


def alarm_raised(endpoint: str, seq: int, alarm_id: str, *, compartment: str = "1") -> AlarmRaised:
    return AlarmRaised(
        **_base(endpoint, "L1", compartment, seq, None, None),
        alarm_id=alarm_id,
        alarm=AlarmKind.VENDOR,
        severity=Severity.WARNING,
        message="Leverantörslarm",
        value=9.5,
    )


def alarm_cleared(endpoint: str, seq: int, alarm_id: str, *, compartment: str = "1") -> AlarmCleared:
    return AlarmCleared(
        **_base(endpoint, "L1", compartment, seq, None, None), alarm_id=alarm_id, alarm=AlarmKind.VENDOR
    )


def opened(endpoint: str, seq: int, *, by: str, request_id: str | None = None, compartment: str = "1") -> Opened:
    return Opened(**_base(endpoint, "L1", compartment, seq, None, None), by=by, request_id=request_id)


async def push(redis: Redis, stream: str, messages: Sequence[contracts.Struct]) -> None:
    """XADD each message as the gateway does: one field ``m`` with the contract's JSON."""
    async with redis.pipeline(transaction=False) as pipe:
        for m in messages:
            pipe.xadd(stream, {"m": contracts.encode(m)})
        await pipe.execute()


def own_streams() -> Streams:
    """Streams and a group of the test's own: a running worker never takes their entries."""
    tag = uuid.uuid4().hex[:8]
    return Streams(
        events=f"test:{tag}:events", results=f"test:{tag}:results", dead=f"test:{tag}:dead", group=f"test-{tag}"
    )


QUIET = Tuning(claim_every_s=3600, sweep_every_s=3600, rescan_every_s=3600)


async def new_ingest(db: Database, redis: Redis, streams: Streams) -> Ingest:
    consumer = Ingest(db, redis, streams=streams, tuning=QUIET, consumer="test")
    await consumer.group.create()
    return consumer


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    client = Redis.from_url(settings.redis_url or "")
    yield client
    await client.aclose()


@pytest.fixture
def streams() -> Streams:
    return own_streams()


@pytest.fixture
async def ingest(db: Database, redis: Redis, streams: Streams) -> Ingest:
    return await new_ingest(db, redis, streams)


async def dead_letters(redis: Redis, streams: Streams) -> list[dict[bytes, bytes]]:
    return [fields for _, fields in await redis.xrange(streams.dead)]


async def compartment_row(db: Database, tenant: uuid.UUID, compartment_id: uuid.UUID) -> Any:
    async with db.tenant(tenant) as scope:
        return await scope.connection.fetchrow("SELECT * FROM lockers_compartment WHERE id = $1", compartment_id)


async def count(db: Database, tenant: uuid.UUID, sql: str, *args: Any) -> int:
    async with db.tenant(tenant) as scope:
        return int(await scope.connection.fetchval(sql, *args))


async def test_the_same_event_twice_is_stored_once(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    event = telemetry(a.endpoint_id, 1, 4.5)
    await push(redis, streams.events, [event, event])  # a resend in the same batch
    await ingest.drain()
    await push(redis, streams.events, [event])  # and a resend later
    await ingest.drain()
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event WHERE event_id = $1", event.event_id) == 1
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_temperature_sample") == 1
    assert await redis.xpending(streams.events, streams.group) == {
        "pending": 0,
        "min": None,
        "max": None,
        "consumers": [],
    }


async def test_an_older_seq_does_not_overwrite_newer_state_but_is_kept_in_the_history(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    now = datetime.now(UTC)
    await push(redis, streams.events, [state(a.endpoint_id, 10, door_open=True, temperature_c=6.0, at=now)])
    await ingest.drain()
    late = state(a.endpoint_id, 7, door_open=False, temperature_c=3.0, at=now - timedelta(seconds=5))
    await push(redis, streams.events, [late, telemetry(a.endpoint_id, 8, 3.5, at=now - timedelta(seconds=4))])
    await ingest.drain()
    row = await compartment_row(db, a.tenant, a.compartments["1"])
    assert (row["door_open"], row["state_seq"], row["temperature_c"], row["temperature_seq"]) == (True, 10, 6.0, 10)
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event WHERE locker_id = $1", a.locker_id) == 3
    # Within one batch too: the newest seq wins, whatever the order of arrival.
    await push(redis, streams.events, [telemetry(a.endpoint_id, 12, 7.0), telemetry(a.endpoint_id, 11, 1.0)])
    await ingest.drain()
    assert (await compartment_row(db, a.tenant, a.compartments["1"]))["temperature_c"] == 7.0


async def test_a_batch_of_ten_thousand_telemetry_events_is_persisted_completely(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id, keys=[str(i) for i in range(1, 21)])
    start = datetime.now(UTC) - timedelta(hours=1)
    events = [
        telemetry(
            a.endpoint_id, i, 4.0 + (i % 30) / 10, compartment=str(i % 20 + 1), at=start + timedelta(milliseconds=i)
        )
        for i in range(10_000)
    ]
    for chunk in range(0, len(events), 2000):
        await push(redis, streams.events, events[chunk : chunk + 2000])
    began = time.perf_counter()
    await ingest.drain()
    elapsed = time.perf_counter() - began
    print(f"\ningested 10,000 telemetry events in {elapsed:.2f} s: {10_000 / elapsed:,.0f} events/s")
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event") == 10_000
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_temperature_sample") == 10_000
    last = await compartment_row(db, a.tenant, a.compartments["20"])
    assert last["temperature_seq"] == 9_999 and last["temperature_c"] == pytest.approx(4.0 + (9_999 % 30) / 10)
    assert (await redis.xpending(streams.events, streams.group))["pending"] == 0


async def test_an_event_naming_a_tenant_where_its_endpoint_is_not_registered_is_dead_lettered(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    await install(db, world.a.id)
    b = await install(db, world.b.id, endpoint="kylbox-b")
    forged = f"{world.b.id.hex}.kylbox-1"  # names B, but B registered only kylbox-b
    await push(redis, streams.events, [state(forged, 1, door_open=True), telemetry("no-tenant-here", 1, 5.0)])
    await ingest.drain()
    reasons = [f[b"reason"].decode() for f in await dead_letters(redis, streams)]
    assert any("not registered in tenant" in r for r in reasons) and any("not an endpoint id" in r for r in reasons)
    for tenant in (world.a.id, world.b.id):
        assert await count(db, tenant, "SELECT count(*) FROM lockers_event") == 0
    assert (await compartment_row(db, b.tenant, b.compartments["1"]))["door_open"] is None
    assert (await redis.xpending(streams.events, streams.group))["pending"] == 0


async def test_an_endpoint_registered_in_a_touches_only_a_even_when_it_names_bs_locker(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id, locker="A-only")
    b = await install(db, world.b.id, locker="L1")
    await push(redis, streams.events, [state(a.endpoint_id, 1, locker="L1", door_open=True)])
    await ingest.drain()
    assert (await compartment_row(db, b.tenant, b.compartments["1"]))["door_open"] is None
    assert await count(db, b.tenant, "SELECT count(*) FROM lockers_event") == 0
    # A keeps it in its history, attached to no locker (A has no locker 'L1').
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event WHERE locker_id IS NULL") == 1


async def test_events_of_a_tenant_that_has_not_enabled_the_plugin_are_acknowledged_and_dropped(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    async with db.tenant(a.tenant) as scope:
        await plugin_state.disable(scope, PluginRegistry.discover(), "lockers", actor=ACTOR)
    await push(redis, streams.events, [telemetry(a.endpoint_id, 1, 5.0)])
    await ingest.drain()
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event") == 0
    assert (await redis.xpending(streams.events, streams.group))["pending"] == 0
    assert await dead_letters(redis, streams) == []


async def test_entries_left_pending_by_a_crashed_consumer_are_reclaimed_and_stored(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    await push(redis, streams.events, [telemetry(a.endpoint_id, i, 5.0) for i in range(3)])
    # A consumer reads them and dies before acknowledging.
    await redis.xreadgroup(streams.group, "crashed", {streams.events: ">"}, count=10)
    assert await ingest.drain() == 0  # nothing new to read; the pending entries are not idle long enough
    reclaiming = Ingest(db, redis, streams=streams, tuning=Tuning(claim_idle_ms=0), consumer="survivor")
    assert await reclaiming.claim() == 3
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event") == 3
    assert (await redis.xpending(streams.events, streams.group))["pending"] == 0


async def test_an_entry_delivered_too_often_is_dead_lettered_and_a_poisoned_one_does_not_hold_back_its_batch(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    await push(redis, streams.events, [telemetry(a.endpoint_id, 1, 5.0)])
    [[_, [(entry_id, _)]]] = await redis.xreadgroup(streams.group, "crashing", {streams.events: ">"}, count=1)
    for _ in range(5):  # delivered again and again, never acknowledged
        await redis.xclaim(streams.events, streams.group, "crashing", min_idle_time=0, message_ids=[entry_id])
    reclaiming = Ingest(db, redis, streams=streams, tuning=Tuning(claim_idle_ms=0), consumer="survivor")
    await reclaiming.claim()
    [letter] = await dead_letters(redis, streams)
    assert b"deliveries" in letter[b"reason"] and letter[b"id"] == entry_id

    poisoned = state(a.endpoint_id, 2, door_open=True).__replace__(
        state=CompartmentState(
            compartment="1\u0000", temperature_class=TemperatureClass.CHILLED, size_class=SizeClass.M
        )
    )  # PostgreSQL's jsonb refuses U+0000
    good = [telemetry(a.endpoint_id, 3, 5.0), telemetry(a.endpoint_id, 4, 5.5)]
    await push(redis, streams.events, [good[0], poisoned, good[1]])
    await ingest.drain()
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event") == 2
    assert b"cannot be stored" in (await dead_letters(redis, streams))[-1][b"reason"]
    assert (await redis.xpending(streams.events, streams.group))["pending"] == 0


async def test_a_door_left_open_raises_an_alarm_that_clears_when_the_door_closes(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    now = datetime.now(UTC)
    await push(redis, streams.events, [state(a.endpoint_id, 1, door_open=True, at=now - timedelta(seconds=10))])
    await ingest.drain()
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_alarm") == 0  # 10 s < the 60 s limit
    later = Ingest(db, redis, streams=streams, tuning=QUIET, consumer="test", clock=lambda: now + timedelta(seconds=61))
    await later.sweep(everyone=True)
    async with db.tenant(a.tenant) as scope:
        alarm = await scope.connection.fetchrow("SELECT * FROM lockers_alarm")
    assert (alarm["kind"], alarm["source"], alarm["cleared_at"]) == ("door_ajar", "backend", None)
    assert a.tenant in later.watch
    await later.sweep()  # raised once per open door, however often the timer runs
    await push(redis, streams.events, [state(a.endpoint_id, 2, door_open=False)])
    await ingest.drain()
    async with db.tenant(a.tenant) as scope:
        alarms = await scope.connection.fetch("SELECT * FROM lockers_alarm")
    assert len(alarms) == 1 and alarms[0]["cleared_at"] is not None


async def test_a_chilled_compartment_above_eight_degrees_for_too_long_raises_a_temperature_alarm(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    now = datetime.now(UTC)
    await push(
        redis,
        streams.events,
        [
            telemetry(a.endpoint_id, 1, 9.5, at=now - timedelta(seconds=90)),
            telemetry(a.endpoint_id, 2, 7.5, compartment="2", at=now - timedelta(seconds=90)),
        ],
    )
    await ingest.drain()
    async with db.tenant(a.tenant) as scope:
        rows = await scope.connection.fetch("SELECT kind, severity, compartment_id, value FROM lockers_alarm")
    assert [tuple(r) for r in rows] == [("temperature_high", "critical", a.compartments["1"], 9.5)]
    await push(redis, streams.events, [telemetry(a.endpoint_id, 3, 6.0)])
    await ingest.drain()
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_alarm WHERE cleared_at IS NULL") == 0


async def test_gateway_alarms_health_and_openings_are_stored_and_audited(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    a = await install(db, world.a.id)
    await push(
        redis,
        streams.events,
        [
            alarm_raised(a.endpoint_id, 1, "al-1"),
            health(a.endpoint_id, 1, Connectivity.ONLINE),
            opened(a.endpoint_id, 2, by="code:1234"),
        ],
    )
    await ingest.drain()
    await push(
        redis, streams.events, [alarm_cleared(a.endpoint_id, 3, "al-1"), health(a.endpoint_id, 0, Connectivity.OFFLINE)]
    )
    await ingest.drain()
    async with db.tenant(a.tenant) as scope:
        alarm = await scope.connection.fetchrow("SELECT * FROM lockers_alarm")
        locker = await scope.connection.fetchrow("SELECT * FROM lockers_locker")
        audit = await scope.connection.fetchrow("SELECT * FROM audit_log WHERE action = 'lockers.opened'")
    assert (alarm["kind"], alarm["message"], alarm["raised_at"] is not None, alarm["cleared_at"] is not None) == (
        "vendor",
        "Leverantörslarm",
        True,
        True,
    )
    assert locker["connectivity"] == "online"  # the older health event (seq 0) changed nothing
    assert audit["actor_kind"] == "system" and '"by": "code:1234"' in audit["details"]


async def test_re_delivered_entries_that_fail_together_are_stored_one_by_one_and_the_bad_one_is_parked(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await install(db, world.a.id)
    events = [telemetry(a.endpoint_id, i, 5.0) for i in range(3)]
    await push(redis, streams.events, events)
    await redis.xreadgroup(streams.group, "crashed", {streams.events: ">"}, count=10)
    real_store = ingest_store.store

    async def store_with_a_bug(scope: Any, batch: Any, *args: Any) -> Any:
        if any(e.event_id == events[1].event_id for e, _ in batch):
            raise RuntimeError("a bug that this one entry triggers")
        return await real_store(scope, batch, *args)

    monkeypatch.setattr(ingest_store, "store", store_with_a_bug)
    reclaiming = Ingest(db, redis, streams=streams, tuning=Tuning(claim_idle_ms=0), consumer="survivor")
    await reclaiming.claim()
    assert await count(db, a.tenant, "SELECT count(*) FROM lockers_event") == 2
    [letter] = await dead_letters(redis, streams)
    assert b"a bug that this one entry triggers" in letter[b"reason"]
    assert (await redis.xpending(streams.events, streams.group))["pending"] == 0
