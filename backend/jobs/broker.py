"""The dramatiq broker: Redis, with the AsyncIO middleware for async actors."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO


def make_broker(redis_url: str) -> dramatiq.Broker:
    broker = RedisBroker(url=redis_url, namespace="samverka")
    broker.add_middleware(AsyncIO())
    dramatiq.set_broker(broker)
    return broker
