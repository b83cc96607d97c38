"""Chaos, end to end, proven at the database.

A real Kylbox simulator (fast physics, so temperatures keep changing) -> ``samverka gateway run``
(a subprocess) -> Redis -> ``samverka worker`` -> PostgreSQL, while:

* the gateway is SIGKILLed mid-stream at a moment Redis already has a batch its outbox has not
  released; the batch's de-duplication key is dropped (as if its hour had passed, ADR 0006) and
  the gateway is started again: it sends that batch a second time, so the stream holds those
  events twice;
* the simulator is restarted (new sessions) and taken offline for a few seconds, with a door
  left open long enough for a gateway alarm;
* an extra ``samverka worker`` (a second consumer in the lockers group) is SIGKILLed after it
  committed a batch but before it acknowledged it; the shared worker re-claims those entries
  and stores them again, which must be a no-op. (Time travel: instead of waiting the 30 s idle
  time of ``plugins/lockers/ingest.Tuning.claim_idle_ms``, the test marks the dead consumer's
  entries idle for an hour with ``XCLAIM ... IDLE``; the re-claim itself is the worker's own.)

Then, at the database (tenant A, through row-level security): for every (endpoint, locker,
compartment) the stored seqs are exactly 1..n, where n is the last seq the gateway's outbox
assigned for that key (the outbox is fresh, and it assigns seq in the transaction that stores
the event, so a gap or a short tail is a lost event); every event the gateway put on the stream
is stored exactly once, although some were XADDed twice and others delivered twice; tenant B
has nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
import yaml
from redis.asyncio import Redis

from opcua_gateway.contracts import EVENTS_STREAM, HealthChanged, LockerEvent, StateChanged, Telemetry, decode_event
from opcua_gateway.forwarder import DEDUPE_PREFIX
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from plugins.lockers.streams import DEAD_LETTERS, GROUP
from tenants.database import Database
from tests.conftest import Server, World, login
from tests.e2e.test_lockers_api import CONFIG, ENABLE, ENDPOINT, LOCKER, SITE, data

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[2]
COMPARTMENTS = 4


# -- small helpers ------------------------------------------------------------------------------


class Proc:
    """A child process with its output in a log file (shown when the test fails)."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.args, self.env, self.log = name, args, env, log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        with self.log.open("ab") as out:
            out.write(f"\n===== {self.name} started {time.strftime('%X')} =====\n".encode())
            out.flush()
            self.popen = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        assert self.popen is not None
        self.popen.send_signal(signal.SIGKILL)
        await asyncio.to_thread(self.popen.wait, 10)

    async def terminate(self) -> int:
        assert self.popen is not None
        self.popen.send_signal(signal.SIGTERM)
        return await asyncio.to_thread(self.popen.wait, 20)

    def stop_quietly(self) -> None:
        if self.alive():
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait(10)

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])


async def until(check: Callable[[], Awaitable[T]], within: float, what: str, *procs: Proc) -> T:
    """Poll ``check`` until it returns something truthy; fail with the processes' logs."""
    deadline = time.monotonic() + within
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(p.tail() for p in procs)
            raise AssertionError(f"timed out after {within:g} s waiting for {what}\n{logs}")
        await asyncio.sleep(0.2)


def read_outbox(path: Path) -> tuple[str, list[tuple[int | None, str]], dict[tuple[str, str, str], int]]:
    """(the outbox's uuid, its rows as (batch, event_id), the last seq per key), read-only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=0.5)
    try:
        outbox_uuid = con.execute("SELECT value FROM meta WHERE key = 'uuid'").fetchone()[0]
        rows = [(b, m) for b, m in con.execute("SELECT batch, message_id FROM outbox")]
        seqs = {(e, lk, c): int(v)
                for e, lk, c, v in con.execute("SELECT endpoint_id, locker, compartment, value FROM seq")}
    finally:
        con.close()
    return str(outbox_uuid), rows, seqs


async def stored_ids(db: Database, tenant: uuid.UUID, endpoint_id: str) -> list[str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT event_id FROM lockers_event WHERE endpoint_id = $1", endpoint_id)
    return [r["event_id"] for r in rows]


async def consumers(redis: Redis) -> dict[str, int]:
    """The lockers group's consumers on the events stream and what each has pending."""
    return {_text(c["name"]): int(c["pending"]) for c in await redis.xinfo_consumers(EVENTS_STREAM, GROUP)}


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _id_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


async def stream_events(redis: Redis, after: str, endpoint_id: str) -> list[tuple[str, LockerEvent]]:
    """(stream id, event) of every entry of this endpoint after ``after``, in stream order."""
    out: list[tuple[str, LockerEvent]] = []
    start = f"({after}"
    while True:
        chunk: Any = await redis.xrange(EVENTS_STREAM, min=start, max="+", count=1000)
        if not chunk:
            return out
        for entry_id, fields in chunk:
            event = decode_event(fields[b"m"])
            if event.endpoint_id == endpoint_id:
                out.append((_text(entry_id), event))
        start = f"({_text(chunk[-1][0])}"


@contextlib.asynccontextmanager
async def audit_group(redis: Redis) -> AsyncIterator[str]:
    """A second consumer group that never reads: while it exists the lockers ingest does not trim
    the stream (it trims only as the stream's only reader), so the test can count every XADD."""
    name = f"chaos-audit-{uuid.uuid4().hex[:8]}"
    await redis.xgroup_create(EVENTS_STREAM, name, id="$", mkstream=True)
    info = await redis.xinfo_stream(EVENTS_STREAM)
    try:
        yield _text(info["last-generated-id"])
    finally:
        await redis.xgroup_destroy(EVENTS_STREAM, name)


# -- set-up -----------------------------------------------------------------------------------


@dataclass
class Registered:
    endpoint_id: str
    locker_id: str


async def register(server: Server, world: World, sim: KylboxSimulator) -> Registered:
    """What ``samverka up`` does (backend/demo.py): as A's admin, enable the plugin, register a
    site, the simulator's endpoint and its lockers with their compartments."""
    admin = await login(server, world.a.admin_email)
    assert data(await admin(ENABLE, {"config": CONFIG}), "enablePlugin")["__typename"] == "PluginInfo"
    site = data(await admin(SITE, {"input": {"name": "Kaoslabbet", "latitude": 58.5, "longitude": 13.1}}),
                "registerSite")
    endpoint = data(await admin(ENDPOINT, {"input": {"name": "kylbox-chaos", "vendor": "kylbox", "url": sim.url}}),
                    "registerEndpoint")
    assert endpoint["__typename"] == "LockerEndpoint", endpoint
    [(locker_key, locker)] = sim.model.lockers.items()
    compartments = [{"key": str(n), "temperatureClass": c.temperature_class.value.upper(), "sizeClass": c.size.value}
                    for n, c in locker.compartments.items()]
    result = data(await admin(LOCKER, {"input": {"siteId": site["id"], "endpointId": endpoint["id"],
                                                 "vendorLockerId": locker_key, "name": "Kaosskåpet",
                                                 "compartments": compartments}}), "registerLocker")
    assert result["__typename"] == "LockerRegistered", result
    return Registered(endpoint["id"], result["locker"]["id"])


def write_gateway_config(directory: Path, redis_url: str, endpoint_id: str, url: str) -> Path:
    """Like backend/demo.gateway_config, but chatty: telemetry every 0.5 s and a tiny dead band."""
    config = {
        "redis_url": redis_url,
        "outbox": str(directory / "outbox.sqlite3"),
        "pki_dir": str(directory / "pki"),
        "telemetry_interval_s": 0.5,
        "temperature_deadband_c": 0.05,
        "tick_s": 0.25,
        "request_timeout_s": 2.0,
        "reconnect_max_delay_s": 1.0,
        "alarms": {"door_ajar_s": 1.0, "stale_after_s": 5.0},
        "endpoints": [{"id": endpoint_id, "url": url, "profile": "kylbox"}],
    }
    path = directory / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


# -- the chaos --------------------------------------------------------------------------------


@dataclass
class Evidence:
    """What the chaos did, to be checked against the database at the end."""

    worker_consumer: str = ""
    stored_not_acked: dict[str, str] = field(default_factory=dict)  # stream id -> event_id
    resent_batch: list[str] = field(default_factory=list)  # event_ids of the batch sent twice
    waiting_at_kill: list[str] = field(default_factory=list)  # event_ids in the outbox when it was killed
    redelivered: dict[str, tuple[str, int]] = field(default_factory=dict)  # stream id -> (consumer, deliveries)


async def kill_worker_between_commit_and_ack(
    worker: Proc, owner: asyncpg.Connection, redis: Redis, db: Database, tenant: uuid.UUID, endpoint_id: str,
    evidence: Evidence,
) -> None:
    """Make ``worker`` commit a batch and die before its XACK.

    The locker's row is locked, so every ingest transaction of this tenant waits inside
    ``ingest_store`` (``FOR UPDATE OF l``) while holding its entries unacknowledged. Once the extra
    worker holds some, Redis pauses writes (XACK is one), the row lock goes, the worker commits,
    and it is killed while its XACK waits: its entries stay pending, owned by a dead consumer.
    """
    consumer = evidence.worker_consumer
    paused = False
    tx = owner.transaction()
    await tx.start()
    try:
        await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
        locked = await owner.fetch("SELECT id FROM lockers_locker WHERE tenant_id = $1 FOR UPDATE", tenant)
        assert len(locked) == 1

        async def held() -> set[str]:
            pending = await redis.xpending_range(EVENTS_STREAM, GROUP, min="-", max="+", count=10_000,
                                                 consumername=consumer)
            return {_text(p["message_id"]) for p in pending}

        async def holding() -> set[str]:
            """The same entries pending a while: the worker waits for the row lock with them."""
            before = await held()
            await asyncio.sleep(0.3)
            return before if before and before == await held() else set()

        ids = await until(holding, 30, "the extra worker to hold entries while the locker row is locked", worker)
        await redis.client_pause(15_000, all=False)  # WRITE mode; the timeout is a safety net, unpaused below
        paused = True
        assert await held() == ids
        for entry_id in ids:
            found: Any = await redis.xrange(EVENTS_STREAM, min=entry_id, max=entry_id)
            [(_, fields)] = found
            event = decode_event(fields[b"m"])
            assert event.endpoint_id == endpoint_id
            evidence.stored_not_acked[entry_id] = event.event_id
    except BaseException:
        await tx.rollback()
        if paused:
            await redis.client_unpause()
        raise
    await tx.commit()  # the workers go on: they commit, then wait in XACK
    try:
        wanted = set(evidence.stored_not_acked.values())

        async def committed() -> bool:
            return wanted <= set(await stored_ids(db, tenant, endpoint_id))

        await until(committed, 12, "the extra worker to commit its batch", worker)
        await worker.kill()
        await asyncio.sleep(0.5)  # Redis drops the dead client (and its blocked XACK) before the unpause
    finally:
        await redis.client_unpause()
    pending = await redis.xpending_range(EVENTS_STREAM, GROUP, min="-", max="+", count=10_000, consumername=consumer)
    assert {_text(p["message_id"]) for p in pending} == set(evidence.stored_not_acked), (
        "the killed worker's entries should stay pending (stored, not acknowledged)")


async def kill_gateway_with_a_batch_in_flight(gateway: Proc, outbox: Path, redis: Redis, evidence: Evidence) -> None:
    """SIGKILL the gateway while its outbox holds a claimed batch that Redis already has (XADDed,
    not yet released); then drop the batch's de-duplication key, as if its hour had passed.

    Redis holds writes (``CLIENT PAUSE WRITE``) until the forwarder has claimed a batch and waits
    in its XADD script; then the test takes the outbox's write lock (the gateway's transactions
    wait for it, as SQLite does), so the batch cannot be released, lets Redis go on, and kills
    the gateway once the batch's key is in Redis. (Freezing the process with SIGSTOP at random
    is not enough: frozen inside the commit that releases the batch, the release is in the WAL
    and counts.)"""
    outbox_uuid = read_outbox(outbox)[0]
    con = sqlite3.connect(outbox, timeout=3.0, isolation_level=None)
    await redis.client_pause(10_000, all=False)
    paused = True
    try:
        async def claimed() -> int | None:
            rows = (await asyncio.to_thread(read_outbox, outbox))[1]
            return min((b for b, _ in rows if b is not None), default=None)

        number = await until(claimed, 8, "the forwarder to claim a batch", gateway)
        con.execute("BEGIN IMMEDIATE")  # from here on nothing commits in the outbox
        try:
            assert con.execute("SELECT count(*) FROM outbox WHERE batch = ?", (number,)).fetchone()[0]
            await redis.client_unpause()
            paused = False
            key = f"{DEDUPE_PREFIX}{outbox_uuid}:{number}"

            async def sent() -> bool:
                return bool(await redis.exists(key))

            await until(sent, 8, "the claimed batch to reach Redis", gateway)
            await gateway.kill()
        finally:
            con.execute("ROLLBACK")
    finally:
        con.close()
        if paused:
            await redis.client_unpause()
    _, rows, _ = read_outbox(outbox)  # what the dead gateway left
    evidence.waiting_at_kill = [m for _, m in rows]
    evidence.resent_batch = [m for b, m in rows if b == number]
    assert evidence.resent_batch, "the claimed batch is still in the outbox after the kill"
    assert await redis.delete(key) == 1


async def redeliver_and_catch_it(owner: asyncpg.Connection, redis: Redis, tenant: uuid.UUID, evidence: Evidence,
                                 *procs: Proc) -> None:
    """Let the shared worker re-claim the dead consumer's entries, and catch it in the act.

    The entries are marked idle for an hour (so the next re-claim round, every 5 s, takes them)
    while the locker's row is locked: the worker then holds them, claimed and delivered a second
    time, inside the transaction that stores them again, until the lock goes."""
    dead, ids = evidence.worker_consumer, list(evidence.stored_not_acked)
    tx = owner.transaction()
    await tx.start()
    try:
        await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
        await owner.fetch("SELECT id FROM lockers_locker WHERE tenant_id = $1 FOR UPDATE", tenant)
        kept = await redis.xclaim(EVENTS_STREAM, GROUP, dead, min_idle_time=0, message_ids=list[Any](ids),
                                  idle=3_600_000, justid=True)  # JUSTID: the delivery count stays as it is
        assert sorted(_text(i) for i in kept) == sorted(ids)

        async def redelivered() -> dict[str, tuple[str, int]]:
            pending = await redis.xpending_range(EVENTS_STREAM, GROUP, min="-", max="+", count=10_000)
            held = {_text(p["message_id"]): (_text(p["consumer"]), int(p["times_delivered"])) for p in pending}
            ok = all(i in held and held[i][0] != dead and held[i][1] >= 2 for i in ids)
            return {i: held[i] for i in ids} if ok else {}

        evidence.redelivered = await until(redelivered, 20, "the shared worker to re-claim the entries", *procs)
    finally:
        await tx.commit()


# -- the test ---------------------------------------------------------------------------------


@pytest.fixture
async def sim() -> AsyncIterator[KylboxSimulator]:
    spec = SimulatorSpec(vendor="kylbox", lockers=1, compartments=COMPARTMENTS, tick_s=0.2,
                         physics=PhysicsParams(noise_c=0.1))
    simulator = KylboxSimulator(spec)
    await simulator.start()
    yield simulator
    await simulator.stop()


async def test_killed_and_restarted_gateway_simulator_and_worker_lose_nothing_and_store_nothing_twice(
    server: Server, world: World, db: Database, owner: asyncpg.Connection, sim: KylboxSimulator, tmp_path: Path
) -> None:
    started = time.monotonic()
    a = world.a.id
    reg = await register(server, world, sim)
    eid = reg.endpoint_id
    redis = Redis.from_url(server.settings.redis_url or "")
    env = {**os.environ, **server.settings.child_environment(), "SAMVERKA_ENV": "test"}
    cli = [sys.executable, "-m", "backend.cli"]
    config = write_gateway_config(tmp_path, server.settings.redis_url or "", eid, sim.url)
    outbox = tmp_path / "outbox.sqlite3"
    gateway = Proc("gateway", [*cli, "gateway", "run", "--config", str(config)], env, tmp_path / "gateway.log")
    worker = Proc("extra worker", [*cli, "worker", "--threads", "1"], env, tmp_path / "worker.log")
    evidence = Evidence()
    phases: list[str] = []

    def phase(name: str) -> None:
        phases.append(f"{name} {time.monotonic() - started:.1f}s")

    try:
        async with audit_group(redis) as stream_start:
            worker.start()
            gateway.start()

            # 1. Events flow into the database, and the extra worker reads too.
            def flowing(n: int) -> Callable[[], Awaitable[bool]]:
                async def check() -> bool:
                    return len(await stored_ids(db, a, eid)) >= n
                return check

            await until(flowing(20), 40, "events in the database", gateway, worker)

            async def extra_consumer() -> str:
                return next((c for c in await consumers(redis) if c.endswith(f"-{worker.pid}")), "")

            evidence.worker_consumer = await until(extra_consumer, 30, "the extra worker to read", worker)
            phase("flowing")

            # 2. The gateway dies with a batch in flight; the restarted gateway sends it again.
            await kill_gateway_with_a_batch_in_flight(gateway, outbox, redis, evidence)
            await sim.open_door(1, by="code:1234")  # seen only by the next gateway; alarms after 1 s open
            await asyncio.sleep(0.5)  # changes nobody sees
            gateway.start()
            count = len(await stored_ids(db, a, eid))
            await until(flowing(count + 30), 40, "events after the gateway restart", gateway)
            phase("gateway killed and back")

            # 3. The simulator restarts (new sessions), then goes offline for 3 s.
            await sim.restart()
            count = len(await stored_ids(db, a, eid))
            await until(flowing(count + 20), 30, "events after the simulator restart", gateway)
            await sim.go_offline(3.0)
            await sim.close_door(1, occupied=True)
            count = len(await stored_ids(db, a, eid))
            await until(flowing(count + 20), 30, "events after the simulator outage", gateway)
            phase("simulator restarted and back from offline")

            # 4. The extra worker dies after its commit, before its XACK.
            await kill_worker_between_commit_and_ack(worker, owner, redis, db, a, eid, evidence)
            phase("worker killed")

            # 5. The gateway stops cleanly with an empty outbox; the shared worker ingests the
            #    rest, then re-claims the dead worker's entries (stored already) and acknowledges them.
            assert await gateway.terminate() == 0, gateway.tail()
            _, rows, last_seq = read_outbox(outbox)
            assert rows == [], f"the gateway stopped with {len(rows)} events in its outbox"
            stream = await stream_events(redis, stream_start, eid)

            async def pending_since_start() -> dict[str, str]:
                held = await redis.xpending_range(EVENTS_STREAM, GROUP, min=f"({stream_start}", max="+", count=10_000)
                return {_text(p["message_id"]): _text(p["consumer"]) for p in held}

            async def only_the_dead_pending() -> bool:
                """Every entry delivered, and acknowledged (the worker acknowledges after commit)
                unless the dead worker holds it."""
                [group] = [g for g in await redis.xinfo_groups(EVENTS_STREAM) if _text(g["name"]) == GROUP]
                delivered = _id_key(_text(group["last-delivered-id"])) >= _id_key(stream[-1][0])
                return delivered and set((await pending_since_start()).values()) <= {evidence.worker_consumer}

            await until(only_the_dead_pending, 30, "the worker to ingest the whole stream")
            await redeliver_and_catch_it(owner, redis, a, evidence)

            async def all_acknowledged() -> bool:
                return not await pending_since_start()

            await until(all_acknowledged, 20, "the re-claimed entries to be acknowledged")
            phase("settled")
            letters: Any = await redis.xrange(DEAD_LETTERS, min=stream_start)
            dead_letters = [f for _, f in letters
                            if eid.encode() in f.get(b"m", b"")]
            assert not dead_letters, dead_letters

        # -- the proof, at the database ---------------------------------------------------------
        async with db.tenant(a) as scope:
            rows = await scope.connection.fetch(
                """SELECT event_id, kind, locker_key, coalesce(compartment_key, '') AS compartment, seq,
                          body->>'event_id' AS body_event_id, (body->>'seq')::bigint AS body_seq,
                          body->>'kind' AS body_kind, body->>'endpoint_id' AS body_endpoint
                   FROM lockers_event WHERE endpoint_id = $1""", eid)
            now = await scope.connection.fetch(
                "SELECT compartment_key, state_seq, temperature_seq FROM lockers_compartment WHERE locker_id = $1",
                uuid.UUID(reg.locker_id))
            locker_health_seq = await scope.connection.fetchval(
                "SELECT health_seq FROM lockers_locker WHERE id = $1", uuid.UUID(reg.locker_id))
            samples = await scope.connection.fetchval(
                """SELECT count(*) FROM lockers_temperature_sample s JOIN lockers_compartment c
                     ON c.tenant_id = s.tenant_id AND c.id = s.compartment_id WHERE c.locker_id = $1""",
                uuid.UUID(reg.locker_id))
        async with db.tenant(world.b.id) as scope:
            in_b = await scope.connection.fetchval("SELECT count(*) FROM lockers_event")

        ids = [r["event_id"] for r in rows]
        assert len(ids) == len(set(ids))
        assert all((r["body_event_id"], r["body_seq"], r["body_kind"], r["body_endpoint"])
                   == (r["event_id"], r["seq"], r["kind"], eid) for r in rows)

        # Nothing lost: per key the seqs are 1..n, n being the last seq the outbox assigned.
        seqs: dict[tuple[str, str, str], list[int]] = defaultdict(list)
        for r in rows:
            seqs[(eid, r["locker_key"], r["compartment"])].append(r["seq"])
        assert set(seqs) == set(last_seq), (set(seqs), set(last_seq))
        assert len(seqs) == COMPARTMENTS + 1  # the compartments, and the locker (health)
        for key, found in seqs.items():
            missing = sorted(set(range(1, last_seq[key] + 1)) - set(found))
            assert not missing, f"{key}: seqs {missing} were assigned by the gateway but never stored"
            assert sorted(found) == list(range(1, last_seq[key] + 1)), f"{key}: a seq stored twice"

        # Everything the gateway XADDed is stored once, although some of it was XADDed twice ...
        on_stream = Counter(e.event_id for _, e in stream)
        assert set(on_stream) == set(ids)
        twice = {event_id for event_id, n in on_stream.items() if n > 1}
        assert twice == set(evidence.resent_batch), "exactly the batch in flight at the kill went to Redis twice"
        assert len(stream) == len(ids) + len(twice)
        # ... or delivered twice (stored by the killed worker, re-claimed by the living and stored again),
        assert evidence.stored_not_acked and set(evidence.stored_not_acked.values()) <= set(ids)
        assert all(c != evidence.worker_consumer and n >= 2 for c, n in evidence.redelivered.values())
        # ... and what waited in the killed gateway's outbox arrived.
        assert set(evidence.waiting_at_kill) <= set(ids)

        # Side effects once too: one temperature sample per telemetry event with a temperature.
        telemetry = [e for _, e in stream if isinstance(e, Telemetry) and e.temperature_c is not None]
        assert samples == len({e.event_id for e in telemetry})

        # The current state is the newest by seq, whatever order the chaos delivered things in.
        events = {e.event_id: e for _, e in stream}.values()
        states = [e for e in events if isinstance(e, StateChanged)]
        readings = [*(e for e in states if e.state.temperature_c is not None or "temperature_c" in e.changed),
                    *(e for e in events if isinstance(e, Telemetry))]
        for c in now:
            assert c["state_seq"] == max(e.seq for e in states if e.compartment == c["compartment_key"])
            assert c["temperature_seq"] == max(e.seq for e in readings if e.compartment == c["compartment_key"])
        assert locker_health_seq == max(e.seq for e in events if isinstance(e, HealthChanged) and not e.compartment)

        # The chaos happened: offline and online health around the restarts, a door alarm.
        health = [e.health.connectivity.value for _, e in stream if isinstance(e, HealthChanged)]
        assert health.count("offline") >= 3 and health.count("online") >= 3, health
        kinds = Counter(r["kind"] for r in rows)
        assert kinds["alarm_raised"] >= 1 and kinds["alarm_cleared"] >= 1, kinds

        assert in_b == 0, "tenant B has locker events"
        print(f"\nchaos: {len(ids)} events stored once; {len(twice)} XADDed twice, "
              f"{len(evidence.stored_not_acked)} stored-then-redelivered; {len(evidence.waiting_at_kill)} waited in "
              f"the killed gateway's outbox; kinds {dict(kinds)}; {', '.join(phases)}")
    finally:
        gateway.stop_quietly()
        worker.stop_quietly()
        await redis.aclose()


pytestmark = pytest.mark.usefixtures("server")
