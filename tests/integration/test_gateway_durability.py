"""No event is lost or duplicated when Redis goes away or the gateway is killed mid-stream."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from opcua_gateway.contracts import LockerEvent, StateChanged, Telemetry
from opcua_gateway.forwarder import Forwarder
from opcua_gateway.outbox import Outbox
from tests.integration.gateway_support import (
    KylboxServer,
    RedisHandle,
    endpoint_id,
    eventually,
    running_gateway,
    write_config,
)

ROOT = Path(__file__).resolve().parents[2]


def assert_complete(events: list[LockerEvent]) -> None:
    """Every event once, and per (locker, compartment) the seqs 1..n without a gap."""
    ids = [e.event_id for e in events]
    assert len(ids) == len(set(ids)), "an event_id arrived twice"
    seqs: dict[tuple[str, str | None], list[int]] = defaultdict(list)
    for event in events:
        seqs[(event.locker, event.compartment)].append(event.seq)
    for key, found in seqs.items():
        assert sorted(found) == list(range(1, len(found) + 1)), f"{key}: seqs {sorted(found)} have a gap"


@contextlib.asynccontextmanager
async def churning(kylbox: KylboxServer) -> AsyncIterator[list[float]]:
    """Keep changing compartment 1's temperature (by more than the dead band) until the block ends."""
    written: list[float] = []

    async def churn() -> None:
        while True:
            value = 4.0 + (len(written) % 7)
            await kylbox.set("KB-0001", 1, "Temperature", value)
            written.append(value)
            await asyncio.sleep(0.05)

    task = asyncio.create_task(churn())
    try:
        yield written
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def last_temperature(redis: RedisHandle, eid: str, value: float) -> bool:
    states = [e for e in await redis.events(eid) if isinstance(e, StateChanged) and e.compartment == "1"]
    return bool(states) and states[-1].state.temperature_c == value


async def test_events_wait_in_the_outbox_while_redis_is_down_and_arrive_once(tmp_path: Path) -> None:
    redis = RedisHandle(tmp_path / "redis")
    kylbox = KylboxServer()
    await kylbox.start()
    eid = endpoint_id("kylbox-durable")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    try:
        async with running_gateway(config) as gateway:
            await eventually(lambda: last_temperature(redis, eid, 4.0), what="the first state")
            assert gateway.outbox is not None
            outbox = gateway.outbox
            redis.stop()
            async with churning(kylbox) as written:
                await asyncio.sleep(1.5)
            await kylbox.set("KB-0001", 2, "Occupied", True)
            await asyncio.sleep(0.5)
            waiting = await outbox.pending()
            assert waiting > 10, "events were not kept while Redis was down"
            redis.start()

            async def drained() -> bool:
                return await outbox.pending() == 0

            await eventually(drained, within=20, what="the outbox to drain")
            await eventually(lambda: last_temperature(redis, eid, written[-1]), what="the last temperature")
        events = await redis.events(eid)
        assert_complete(events)
        occupied = [e for e in events if isinstance(e, StateChanged) and e.compartment == "2"]
        assert occupied[-1].state.occupied is True
    finally:
        await kylbox.stop()
        redis.stop()


def start_gateway(config: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "opcua_gateway.cli", "run", "--config", str(config)],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


async def test_a_gateway_killed_mid_stream_loses_and_duplicates_nothing_after_a_restart(tmp_path: Path) -> None:
    redis = RedisHandle(tmp_path / "redis")
    kylbox = KylboxServer()
    await kylbox.start()
    eid = endpoint_id("kylbox-killed")
    config = write_config(tmp_path, redis.url, [{"id": eid, "url": kylbox.url, "profile": "kylbox"}])
    log = tmp_path / "gateway.log"
    gateway = start_gateway(config, log)
    try:
        async with churning(kylbox) as written:
            async def flowing() -> bool:
                return len(await redis.events(eid)) > 20

            await eventually(flowing, within=30, what=f"events to flow; log: {log}")
            gateway.send_signal(signal.SIGKILL)
            await asyncio.to_thread(gateway.wait, 10)
            await asyncio.sleep(0.5)  # changes the dead gateway does not see
            gateway = start_gateway(config, log)
            count = len(await redis.events(eid))

            async def flowing_again() -> bool:
                return len(await redis.events(eid)) > count + 20

            await eventually(flowing_again, within=30, what=f"events after the restart; log: {log}")
        await eventually(lambda: last_temperature(redis, eid, written[-1]), what="the last temperature")
        gateway.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(gateway.wait, 15) == 0
        with sqlite3.connect(tmp_path / "outbox.sqlite3") as db:
            assert db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
        assert_complete(await redis.events(eid))
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
        await kylbox.stop()
        redis.stop()


async def test_a_batch_sent_again_after_a_lost_reply_is_not_added_twice(tmp_path: Path) -> None:
    redis = RedisHandle(tmp_path / "redis")
    outbox = await Outbox.open(tmp_path / "outbox.sqlite3")
    eid = endpoint_id("resend")
    try:
        await outbox.append([Telemetry(event_id="", seq=0, endpoint_id=eid, locker="L", compartment="1",
                                       at=datetime.now(UTC), temperature_c=float(n)) for n in range(3)])
        batch = await outbox.claim(10)
        assert batch is not None
        forwarder = Forwarder(outbox, redis.url)
        async with redis.client() as client:
            assert await forwarder.send(client, batch) is True
            assert await forwarder.send(client, batch) is False  # the reply was lost: the gateway sends again
        events = await redis.events(eid)
        assert [e.temperature_c for e in events if isinstance(e, Telemetry)] == [0.0, 1.0, 2.0]
    finally:
        await outbox.close()
        redis.stop()
