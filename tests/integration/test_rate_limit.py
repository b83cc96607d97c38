"""Requests are limited per caller and municipality, counted in Redis so every web process shares it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import msgspec
import pytest
from redis.asyncio import Redis

from backend.auth import _rate_limit
from backend.lib import RateLimited
from backend.services import Services
from backend.settings import Settings
from plugins.registry import PluginRegistry
from tenants.database import Database


@pytest.fixture
async def services(settings: Settings, db: Database) -> AsyncIterator[Services]:
    assert settings.redis_url
    redis = Redis.from_url(settings.redis_url)
    limited = msgspec.structs.replace(settings, rate_limit_per_minute=3)
    yield Services(limited, db, redis, jobs=None, plugins=PluginRegistry([]))  # type: ignore[arg-type]  # no jobs here
    await redis.aclose()


async def test_a_caller_over_the_limit_is_told_to_slow_down_with_when_to_retry(services: Services) -> None:
    tenant, caller = uuid.uuid4(), f"token:{uuid.uuid4()}"
    for _ in range(3):
        await _rate_limit(services, tenant, caller)
    with pytest.raises(RateLimited) as caught:
        await _rate_limit(services, tenant, caller)
    assert 0 < caught.value.retry_after_s <= 60 and "slow down" in caught.value.message


async def test_the_limit_is_counted_per_caller_and_per_municipality(services: Services) -> None:
    tenant, other_tenant, caller = uuid.uuid4(), uuid.uuid4(), f"user:{uuid.uuid4()}"
    for _ in range(3):
        await _rate_limit(services, tenant, caller)
    await _rate_limit(services, other_tenant, caller)
    await _rate_limit(services, tenant, f"user:{uuid.uuid4()}")


async def test_anonymous_requests_are_limited_per_address_and_federation_level_ones_per_user(
    services: Services,
) -> None:
    from backend.auth import authenticate

    address = f"192.0.2.{uuid.uuid4().int % 250}"
    for _ in range(3):
        await authenticate(services, None, None, address)
    with pytest.raises(RateLimited):
        await authenticate(services, None, None, address)
    await authenticate(services, None, None, "198.51.100.7")  # another address has its own count
