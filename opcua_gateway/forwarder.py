"""Drain the outbox into Redis streams; delete only what Redis has accepted.

Each batch goes in one Lua script that first sets a de-duplication key for the batch
(``SET NX EX``) and then XADDs every message (field ``m``); Redis runs a script
atomically, so a batch is either all in the streams with its key, or not at all. A batch
resent after a lost reply or a gateway crash finds its key and adds nothing: no duplicate
entries within ``dedupe_ttl_s`` (after that, at-least-once; the backend ingests by event_id).
Redis being down only delays delivery. The streams are not trimmed here: a producer-side
MAXLEN would drop events a stopped backend has not read yet.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as redis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from opcua_gateway.outbox import Batch, Outbox

log = logging.getLogger(__name__)
DEDUPE_PREFIX = "samverka:lockers:outbox-batch:"
_SCRIPT = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
for i = 2, #ARGV, 2 do
  redis.call('XADD', KEYS[tonumber(ARGV[i])], '*', 'm', ARGV[i + 1])
end
return 1
"""


class Forwarder:
    def __init__(self, outbox: Outbox, redis_url: str, *, batch_size: int = 200, dedupe_ttl_s: int = 3600,
                 linger_s: float = 0.02) -> None:
        self.outbox = outbox
        self.redis_url = redis_url
        self.batch_size = batch_size
        self.dedupe_ttl_s = dedupe_ttl_s  # one small key per batch lives this long
        self.linger_s = linger_s  # wait this long for more messages: fewer, larger batches
        self.connected = False

    async def run(self) -> None:
        """Forward until cancelled."""
        client = redis.from_url(self.redis_url, socket_timeout=5, socket_connect_timeout=5)
        delay = 0.2
        try:
            while True:
                self.outbox.added.clear()
                batch = await self.outbox.claim(self.batch_size)
                if batch is None:
                    try:
                        await asyncio.wait_for(self.outbox.added.wait(), timeout=1.0)
                    except TimeoutError:
                        continue
                    await asyncio.sleep(self.linger_s)
                    continue
                try:
                    fresh = await self.send(client, batch)
                except (RedisError, OSError) as exc:
                    if self.connected or delay == 0.2:
                        log.warning("Redis is unavailable (%s); %d messages wait in the outbox", exc,
                                    await self.outbox.pending())
                    self.connected = False
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
                    continue
                if not self.connected:
                    log.info("Redis accepts messages")
                self.connected, delay = True, 0.2
                if not fresh:
                    log.info("batch %s was already in Redis (a resend); not added again", batch.key)
                await self.outbox.release(batch)
        finally:
            await client.aclose()

    async def send(self, client: redis.Redis, batch: Batch) -> bool:
        """XADD the batch unless it is already in Redis; True when it was added now."""
        script: AsyncScript = client.register_script(_SCRIPT)
        streams = list(dict.fromkeys(stream for stream, _ in batch.messages))
        keys = [DEDUPE_PREFIX + batch.key, *streams]
        args: list[bytes | str | int] = [self.dedupe_ttl_s]
        for stream, payload in batch.messages:
            args += [streams.index(stream) + 2, payload]
        return bool(await script(keys=keys, args=args))
