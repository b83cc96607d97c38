"""Read commands from Redis (``commands_stream(endpoint_id)``) and answer on RESULTS_STREAM.

A consumer group per stream, so a command read by a gateway that dies is re-read from
the pending list by the next start (same ``instance`` name). The result goes into the
outbox (durable, forwarded like events) before the entry is acknowledged; a request
already answered is only acknowledged. A command older than its own timeout (by the
stream entry's time) is not executed any more: nobody waits for it, and opening a
door minutes late is worse than not opening it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError, ResponseError

from opcua_gateway.commands import Outcome, execute
from opcua_gateway.contracts import CommandResult, ContractError, commands_stream, decode_command
from opcua_gateway.endpoint import EndpointRunner
from opcua_gateway.outbox import Outbox

log = logging.getLogger(__name__)
GROUP = "samverka-gateway"


class CommandStream:
    def __init__(self, runners: dict[str, EndpointRunner], outbox: Outbox, redis_url: str, instance: str) -> None:
        self.runners = runners
        self.outbox = outbox
        self.redis_url = redis_url
        self.instance = instance
        self.streams = {commands_stream(endpoint_id): endpoint_id for endpoint_id in runners}
        self._tasks: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        client = redis.from_url(self.redis_url, socket_timeout=10, socket_connect_timeout=5)
        delay = 0.5
        try:
            while True:
                try:
                    await self._groups(client)
                    await self._pending(client)
                    delay = 0.5
                    while True:
                        reply = await client.xreadgroup(GROUP, self.instance, dict.fromkeys(self.streams, ">"),
                                                        count=20, block=1000)
                        self._spawn(client, reply)
                except (RedisError, OSError) as exc:
                    log.warning("commands: Redis unavailable (%s); retrying in %.1f s", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await client.aclose()

    async def _groups(self, client: redis.Redis) -> None:
        for stream in self.streams:
            try:
                await client.xgroup_create(stream, GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def _pending(self, client: redis.Redis) -> None:
        """Entries this instance read earlier but never acknowledged (it stopped mid-command)."""
        after: dict[Any, Any] = dict.fromkeys(self.streams, "0")
        while True:
            reply = await client.xreadgroup(GROUP, self.instance, after, count=50)
            entries = self._spawn(client, reply)
            if not entries:
                break
            for stream, entry_id in entries:
                after[stream] = entry_id
        await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def _spawn(self, client: redis.Redis, reply: Any) -> list[tuple[str, str]]:
        spawned = []
        for raw_stream, found in reply or []:
            stream = _text(raw_stream)
            for raw_id, fields in found:
                entry_id = _text(raw_id)
                spawned.append((stream, entry_id))
                task = asyncio.create_task(self._handle(client, stream, entry_id, fields or {}))
                self._tasks.add(task)
                task.add_done_callback(self._done)
        return spawned

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("commands: handling failed; the entry stays pending", exc_info=task.exception())

    async def _handle(self, client: redis.Redis, stream: str, entry_id: str, fields: dict[bytes, bytes]) -> None:
        endpoint_id = self.streams[stream]
        data = fields.get(b"m", b"")
        try:
            command = decode_command(data)
        except ContractError as exc:
            request_id = _request_id(data)
            log.warning("commands: %s entry %s is not a valid command: %s", stream, entry_id, exc)
            if request_id is not None:
                await self._answer(request_id, endpoint_id, "rejected", f"not a valid command: {exc}")
            await client.xack(stream, GROUP, entry_id)
            return
        if not await self.outbox.answered(command.request_id):
            age = time.time() - int(entry_id.split("-")[0]) / 1000
            if command.endpoint_id != endpoint_id:
                await self._answer(command.request_id, endpoint_id, "rejected",
                                   f"the command names endpoint {command.endpoint_id}, not {endpoint_id}")
            elif age > command.timeout_s:
                await self._answer(command.request_id, endpoint_id, "timeout",
                                   f"expired before execution ({age:.0f} s after it was sent)")
            else:
                deadline = asyncio.get_running_loop().time() + command.timeout_s - max(age, 0)
                result = await execute(self.runners[endpoint_id], command, deadline)
                await self.outbox.append_result(result)
        await client.xack(stream, GROUP, entry_id)

    async def _answer(self, request_id: str, endpoint_id: str, outcome: Outcome, detail: str) -> None:
        await self.outbox.append_result(CommandResult(request_id=request_id, endpoint_id=endpoint_id,
                                                      outcome=outcome, detail=detail, at=datetime.now(UTC)))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _request_id(data: bytes) -> str | None:
    try:
        value = json.loads(data)
    except ValueError:
        return None
    request_id = value.get("request_id") if isinstance(value, dict) else None
    return request_id if isinstance(request_id, str) else None
