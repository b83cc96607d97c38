"""Row-level security holds for every lockers table: SQL written without any tenant filter
sees, changes and creates only the own tenant's rows, and an endpoint id cannot claim another
tenant. (test_rls_coverage checks the policies themselves for every tenant_id table.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from redis.asyncio import Redis

from backend.settings import Settings
from plugins.lockers.ingest import Ingest
from plugins.lockers.streams import Streams
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_lockers_ingest import install, new_ingest, opened, own_streams, push, state, telemetry


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


TABLES = (
    "lockers_site",
    "lockers_endpoint",
    "lockers_locker",
    "lockers_compartment",
    "lockers_temperature_sample",
    "lockers_event",
    "lockers_alarm",
)


async def _fill(db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=5)  # past the alarm limits: alarms are raised too
    for tenant in (world.a.id, world.b.id):
        t = await install(db, tenant)
        await push(
            redis,
            streams.events,
            [
                state(t.endpoint_id, 1, door_open=True, temperature_c=12.0, at=long_ago),
                telemetry(t.endpoint_id, 2, 12.5, at=long_ago),
                opened(t.endpoint_id, 3, by="x"),
            ],
        )
    await ingest.drain()


async def test_a_tenant_sees_only_its_own_lockers_events_samples_and_alarms(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    await _fill(db, world, redis, streams, ingest)
    for table in TABLES:
        async with db.tenant(world.a.id) as scope:
            tenants = {r["tenant_id"] for r in await scope.connection.fetch(f"SELECT tenant_id FROM {table}")}
        assert tenants == {world.a.id}, table
    async with db.shared() as scope:
        for table in TABLES:
            assert await scope.connection.fetchval(f"SELECT count(*) FROM {table}") == 0, table


async def test_a_tenant_cannot_change_or_create_another_tenants_locker_rows(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    await _fill(db, world, redis, streams, ingest)
    async with db.tenant(world.a.id) as scope:
        assert (
            await scope.connection.execute(
                f"UPDATE lockers_compartment SET door_open = false WHERE tenant_id = '{world.b.id}'"
            )
            == "UPDATE 0"
        )
        assert (
            await scope.connection.execute(f"DELETE FROM lockers_site WHERE tenant_id = '{world.b.id}'") == "DELETE 0"
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with db.tenant(world.a.id) as scope:
            await scope.connection.execute(
                "INSERT INTO lockers_site (tenant_id, id, name) VALUES ($1, $2, 'smuggled')", world.b.id, uuid.uuid4()
            )
    async with db.tenant(world.b.id) as scope:
        doors = {r["door_open"] for r in await scope.connection.fetch("SELECT door_open FROM lockers_compartment")}
    assert doors == {True, None}  # compartment 1 opened by its event, 2 never reported


async def test_an_endpoint_id_must_name_the_tenant_it_is_registered_in(db: Database, world: World) -> None:
    with pytest.raises(asyncpg.CheckViolationError):
        async with db.tenant(world.b.id) as scope:
            await scope.connection.execute(
                "INSERT INTO lockers_endpoint (tenant_id, id, name, vendor, url) VALUES ($1, $2, 'x', 'kylbox', "
                "'opc.tcp://h:1')",
                world.b.id,
                f"{world.a.id.hex}.x",
            )


async def test_the_event_history_and_samples_are_append_only_for_the_app(
    db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    await _fill(db, world, redis, streams, ingest)
    for sql in (
        "UPDATE lockers_event SET seq = 0",
        "DELETE FROM lockers_event",
        "DELETE FROM lockers_temperature_sample",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with db.tenant(world.a.id) as scope:
                await scope.connection.execute(sql)
