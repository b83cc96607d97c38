"""Live updates through Redis pub/sub, one channel per tenant and topic."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from uuid import UUID

from redis.asyncio import Redis

from tenants.audit import AuditRecord


def channel(tenant_id: UUID, topic: str) -> str:
    return f"samverka:live:{tenant_id}:{topic}"


def audit_publisher(redis: Redis) -> Callable[[AuditRecord], Awaitable[None]]:
    async def publish(record: AuditRecord) -> None:
        payload = json.dumps(dataclasses.asdict(record), default=str)
        await redis.publish(channel(record.tenant_id, "audit"), payload)

    return publish


def decode_audit(payload: bytes | str) -> AuditRecord:
    data = json.loads(payload)
    return AuditRecord(
        id=int(data["id"]),
        tenant_id=UUID(data["tenant_id"]),
        occurred_at=datetime.fromisoformat(data["occurred_at"]),
        actor_kind=data["actor_kind"],
        actor_id=UUID(data["actor_id"]) if data["actor_id"] else None,
        actor_label=data["actor_label"],
        action=data["action"],
        target_kind=data["target_kind"],
        target_id=data["target_id"],
        details=data["details"],
    )


async def listen(redis: Redis, name: str) -> AsyncIterator[bytes]:
    """Messages published on one channel, until the consumer stops iterating."""
    pubsub = redis.pubsub()
    await pubsub.subscribe(name)
    try:
        async for message in pubsub.listen():
            if message["type"] == "message":
                yield message["data"]
    finally:
        await pubsub.unsubscribe(name)
        await pubsub.aclose()
