"""Live locker events for the ``lockerEvents`` subscription, published after commit."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from redis.asyncio import Redis

from backend import plugin_api as api
from opcua_gateway.contracts import CodeEntered, LockerEvent, encode

TOPIC = "lockers"


def _redact(event: LockerEvent) -> LockerEvent:
    """A typed code is a credential: it is never stored or shown, only its length."""
    return msgspec.structs.replace(event, code="*" * len(event.code)) if isinstance(event, CodeEntered) else event


def redacted(event: LockerEvent, raw: str) -> str:
    """The event's JSON as the history stores it."""
    return encode(_redact(event)).decode() if isinstance(event, CodeEntered) else raw


def event_payload(event: LockerEvent, locker_id: UUID | None, compartment_id: UUID | None) -> dict[str, Any]:
    event = _redact(event)
    return {
        "kind": str(type(event).__struct_config__.tag),
        "event_id": event.event_id,
        "locker_id": str(locker_id) if locker_id else None,
        "compartment_id": str(compartment_id) if compartment_id else None,
        "compartment_key": event.compartment,
        "seq": event.seq,
        "at": event.at.isoformat(),
        "data": msgspec.to_builtins(event),
    }


def backend_payload(kind: str, at: datetime, row: dict[str, Any]) -> dict[str, Any]:
    """An alarm the backend raised or cleared, or a command's result."""
    return {
        "kind": kind,
        "event_id": f"backend:{kind}:{row.get('id') or row.get('request_id')}:{at.timestamp():.6f}",
        "locker_id": str(row["locker_id"]) if row.get("locker_id") else None,
        "compartment_id": str(row["compartment_id"]) if row.get("compartment_id") else None,
        "compartment_key": None,
        "seq": None,
        "at": at.isoformat(),
        "data": json.loads(json.dumps(row, default=str)),
    }


async def publish(redis: Redis, tenant_id: UUID, payloads: Sequence[dict[str, Any]]) -> None:
    if not payloads:
        return
    channel = api.live_channel(tenant_id, TOPIC)
    async with redis.pipeline(transaction=False) as pipe:
        for payload in payloads:
            pipe.publish(channel, json.dumps(payload))
        await pipe.execute()


def command_channel(tenant_id: UUID, request_id: UUID) -> str:
    """Where the consumer says a command's result is stored (the waiting mutation listens)."""
    return api.live_channel(tenant_id, f"lockers.command.{request_id}")
