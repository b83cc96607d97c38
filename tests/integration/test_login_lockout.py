"""Sign-in lock-out: five failed tries for an address within 15 minutes lock it for 15 minutes,
counted in Redis inside the kernel's sign-in, so the web form and GraphQL ``login`` share it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from backend.lib import RateLimited, Unauthenticated
from backend.settings import Settings
from tenants import accounts
from tenants.database import Database
from tests.conftest import PASSWORD, World

TTL = timedelta(minutes=5)


@pytest.fixture
async def redis(settings: Settings) -> AsyncIterator[Redis]:
    assert settings.redis_url
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


async def fail(db: Database, redis: Redis, email: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(Unauthenticated):
            await accounts.sign_in(db, email=email, password="wrong-password", ttl=TTL, attempts=redis)


async def test_the_fifth_wrong_password_locks_the_account_even_against_the_right_one(
    db: Database, redis: Redis, world: World
) -> None:
    await fail(db, redis, world.a.staff_email, 4)
    with pytest.raises(RateLimited) as locked:
        await accounts.sign_in(db, email=world.a.staff_email, password="wrong-password", ttl=TTL, attempts=redis)
    assert locked.value.message == accounts.LOCKED_MESSAGE and locked.value.retry_after_s == 15 * 60
    with pytest.raises(RateLimited) as still:
        await accounts.sign_in(db, email=world.a.staff_email.upper(), password=PASSWORD, ttl=TTL, attempts=redis)
    assert 0 < still.value.retry_after_s <= 15 * 60


async def test_the_lock_ends_after_fifteen_minutes(db: Database, redis: Redis, world: World) -> None:
    await fail(db, redis, world.a.admin_email, 4)
    with pytest.raises(RateLimited):
        await accounts.sign_in(db, email=world.a.admin_email, password="wrong-password", ttl=TTL, attempts=redis)
    _, lock_key = accounts._attempt_keys(world.a.admin_email)
    assert 895 <= await redis.ttl(lock_key) <= 900
    await redis.delete(lock_key)  # what fifteen minutes do
    session = await accounts.sign_in(db, email=world.a.admin_email, password=PASSWORD, ttl=TTL, attempts=redis)
    assert session.token.startswith(accounts.SESSION_PREFIX)


async def test_failures_are_forgotten_after_a_successful_sign_in(db: Database, redis: Redis, world: World) -> None:
    await fail(db, redis, world.b.admin_email, 4)
    await accounts.sign_in(db, email=world.b.admin_email, password=PASSWORD, ttl=TTL, attempts=redis)
    await fail(db, redis, world.b.admin_email, 4)  # a fresh count: four more are still only failures
    await accounts.sign_in(db, email=world.b.admin_email, password=PASSWORD, ttl=TTL, attempts=redis)


async def test_failures_are_counted_within_a_fifteen_minute_window(db: Database, redis: Redis, world: World) -> None:
    await fail(db, redis, world.b.staff_email, 1)
    failures_key, _ = accounts._attempt_keys(world.b.staff_email)
    assert 895 <= await redis.ttl(failures_key) <= 900
    await fail(db, redis, world.b.staff_email, 1)
    assert await redis.ttl(failures_key) <= 900 and int(await redis.get(failures_key) or 0) == 2


async def test_an_unknown_address_locks_alike_so_the_lock_reveals_no_account(db: Database, redis: Redis) -> None:
    nobody = f"nobody-{uuid.uuid4().hex[:8]}@test.example"
    await fail(db, redis, nobody, 4)
    with pytest.raises(RateLimited) as locked:
        await accounts.sign_in(db, email=nobody, password="wrong-password", ttl=TTL, attempts=redis)
    assert locked.value.message == accounts.LOCKED_MESSAGE


async def test_one_account_locked_leaves_the_others_alone(db: Database, redis: Redis, world: World) -> None:
    world_b_admin = world.b.admin_email
    await fail(db, redis, world.federation_admin_email, 5 - 1)
    with pytest.raises(RateLimited):
        await accounts.sign_in(db, email=world.federation_admin_email, password="x", ttl=TTL, attempts=redis)
    session = await accounts.sign_in(db, email=world_b_admin, password=PASSWORD, ttl=TTL, attempts=redis)
    assert session.user.email == world_b_admin
