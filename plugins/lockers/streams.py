"""Redis stream plumbing of the ingest consumer: a consumer group over the gateway's streams,
batched reads, acknowledgement after commit, re-claiming entries a crashed consumer left
pending, dead letters, and trimming what every reader has acknowledged."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from opcua_gateway import contracts

log = logging.getLogger(__name__)

GROUP = "samverka-lockers"
DEAD_LETTERS = "samverka:lockers:dead"  # backend-internal: entries that can never be stored, with the reason
DEAD_LETTERS_MAXLEN = 100_000
FIELD = b"m"


@dataclass(frozen=True)
class Streams:
    events: str = contracts.EVENTS_STREAM
    results: str = contracts.RESULTS_STREAM
    dead: str = DEAD_LETTERS
    group: str = GROUP


@dataclass(frozen=True)
class Entry:
    stream: str
    id: str
    data: bytes | None  # the contract message (field ``m``); None when the entry lacks it or was deleted


def consumer_name() -> str:
    """Unique per process; a dead process's pending entries are re-claimed by the living."""
    return f"{socket.gethostname()}-{os.getpid()}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entries(stream: str, items: Iterable[Any]) -> list[Entry]:
    out = []
    for entry_id, fields in items:
        if entry_id is None:
            continue
        out.append(Entry(stream, _text(entry_id), (fields or {}).get(FIELD)))
    return out


class StreamGroup:
    def __init__(self, redis: Redis, streams: Streams, consumer: str) -> None:
        self.redis = redis
        self.streams = streams
        self.consumer = consumer

    @property
    def names(self) -> tuple[str, str]:
        return (self.streams.events, self.streams.results)

    async def create(self) -> None:
        """The group reads each stream from its start (idempotent ingest makes a replay harmless)."""
        for name in self.names:
            try:
                await self.redis.xgroup_create(name, self.streams.group, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def read(self, count: int, block_ms: int | None) -> list[Entry]:
        """New entries of both streams (up to ``count`` each); ``block_ms=None`` does not wait."""
        response = await self.redis.xreadgroup(
            self.streams.group, self.consumer, dict.fromkeys(self.names, ">"), count=count, block=block_ms
        )
        items = response.items() if isinstance(response, dict) else (response or [])
        return [e for stream, entries in items for e in _entries(_text(stream), entries)]

    async def claim(self, count: int, idle_ms: int, max_deliveries: int) -> tuple[list[Entry], list[Entry]]:
        """Entries pending longer than ``idle_ms`` (their consumer crashed or failed), claimed for
        this consumer: (to process again, delivered too often already: dead letters)."""
        again: list[Entry] = []
        poison: list[Entry] = []
        for name in self.names:
            pending = await self.redis.xpending_range(
                name, self.streams.group, min="-", max="+", count=count, idle=idle_ms
            )
            if not pending:
                continue
            ids: list[int | bytes | str | memoryview[int]] = [p["message_id"] for p in pending]
            deliveries = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
            claimed = _entries(
                name,
                await self.redis.xclaim(
                    name, self.streams.group, self.consumer, min_idle_time=idle_ms, message_ids=ids
                ),
            )
            gone = {_text(i) for i in ids} - {e.id for e in claimed}
            if gone:  # deleted from the stream while pending: nothing left to process
                await self.redis.xack(name, self.streams.group, *gone)
            for entry in claimed:
                (poison if deliveries.get(entry.id, 0) >= max_deliveries else again).append(entry)
        return again, poison

    async def ack(self, entries: Sequence[Entry]) -> None:
        for name in self.names:
            ids = [e.id for e in entries if e.stream == name]
            if ids:
                await self.redis.xack(name, self.streams.group, *ids)

    async def dead_letter(self, entries: Sequence[tuple[Entry, str]]) -> None:
        """Keep what cannot be stored, with the reason, and acknowledge it (atomically)."""
        if not entries:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            for entry, reason in entries:
                log.warning("dead letter %s %s: %s", entry.stream, entry.id, reason)
                pipe.xadd(
                    self.streams.dead,
                    {"m": entry.data or b"", "stream": entry.stream, "id": entry.id, "reason": reason[:1000]},
                    maxlen=DEAD_LETTERS_MAXLEN,
                    approximate=True,
                )
                pipe.xack(entry.stream, self.streams.group, entry.id)
            await pipe.execute()

    async def trim(self) -> None:
        """Drop entries every group has acknowledged (only while this group is the stream's only reader)."""
        for name in self.names:
            groups = await self.redis.xinfo_groups(name)
            if len(groups) != 1 or _text(groups[0]["name"]) != self.streams.group:
                continue
            horizon = _text(groups[0]["last-delivered-id"])
            summary = await self.redis.xpending(name, self.streams.group)
            if summary and summary.get("pending") and summary.get("min"):
                horizon = min(horizon, _text(summary["min"]), key=_id_key)
            await self.redis.xtrim(name, minid=horizon, approximate=True)

    async def forget_idle_consumers(self, idle_ms: int) -> None:
        """Remove consumers of dead processes once nothing is pending for them."""
        for name in self.names:
            for c in await self.redis.xinfo_consumers(name, self.streams.group):
                who = _text(c["name"])
                if who != self.consumer and int(c["pending"]) == 0 and int(c["idle"]) > idle_ms:
                    await self.redis.xgroup_delconsumer(name, self.streams.group, who)


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)
