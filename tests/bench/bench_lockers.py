"""Lockers benchmark (issue 4): simulators -> gateway -> Redis -> worker -> PostgreSQL, and openCompartment.

Self-contained (embedded PostgreSQL + Redis in a temp dir; ``samverka serve``, ``samverka worker`` and
``samverka gateway run`` as processes; Kylbox simulators in a helper process, tests/bench/lockers_load.py;
lockers registered through GraphQL). Measures (a) a bare asyncua client's DataChange notifications/s,
(b) the gateway's events/s XADDed to EVENTS_STREAM (a never-read consumer group 'bench' keeps the worker
from trimming the stream), (c) lockers_event rows/s persisted by the worker and, once everything drained,
every event the gateway's outbox numbered (seq per endpoint/locker/compartment) looked up in the stream
and in lockers_event, (d) openCompartment latency (GraphQL mutation -> CompartmentOpened), quiet and
under load. Informational: exits 0 whether targets are met or not; about 4 minutes.

    .venv/bin/python tests/bench/bench_lockers.py [--tick 0.05] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import pstats
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402
import msgspec  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from backend.database import open_database  # noqa: E402
from backend.embedded import EmbeddedServers  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.settings import Settings  # noqa: E402
from opcua_gateway.contracts import EVENTS_STREAM  # noqa: E402
from opcua_gateway.simulators.spec import free_port  # noqa: E402
from tenants import accounts, provisioning  # noqa: E402
from tenants.access import Actor, Role  # noqa: E402
from tests.bench.lockers_load import Helper, count_datachanges, cpu_s, machine_s, stat  # noqa: E402

SIMS, LOCKERS, COMPARTMENTS, NOISE_C, PUBLISH_MS = 4, 4, 20, 0.05, 50
RAW_S, WARMUP_S, LOAD_S, OPENS, OPENS_LOADED, TIME_LIMIT_S = 15, 5, 30, 200, 50, 1200
EMAIL, PASSWORD = "admin@bench-lockers.example", "bench-horse-battery-staple"
LOGIN = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess { token } } }"
ENABLE = 'mutation($c: JSON) { enablePlugin(pluginId: "lockers", config: $c) { __typename } }'
SITE = "mutation($i: RegisterSiteInput!) { registerSite(input: $i) { ... on Site { id } } }"
ENDPOINT = "mutation($i: RegisterEndpointInput!) { registerEndpoint(input: $i) { ... on LockerEndpoint { id } } }"
LOCKER = """mutation($i: RegisterLockerInput!) { registerLocker(input: $i) {
  ... on LockerRegistered { compartments { id key } } } }"""
OPEN = """mutation($id: ID!) { openCompartment(compartmentId: $id) { __typename
  ... on CommandFailed { reason message } ... on Error { code message } } }"""
PLUGIN_CONFIG = {"door_ajar_limit_s": 3600, "temperature_excursion_limit_s": 3600, "open_timeout_s": 5}
COUNTS = """SELECT count(*) e, count(*) FILTER (WHERE kind = 'state') st,
  (SELECT count(*) FROM lockers_temperature_sample) s FROM lockers_event"""


def say(text: str) -> None:
    print(text, flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def entry_id(raw: bytes) -> tuple[int, int]:
    ms, _, seq = raw.decode().partition("-")
    return int(ms), int(seq)


class Bench:
    def __init__(self, tmp: Path, settings: Settings, servers: EmbeddedServers, args: argparse.Namespace) -> None:
        self.tmp, self.settings, self.servers, self.args = tmp, settings, servers, args
        self.env = {**os.environ, **settings.child_environment(),
                    "SAMVERKA_RATE_LIMIT_PER_MINUTE": str(settings.rate_limit_per_minute)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.r: dict[str, Any] = {"ids": []}  # results
        self.outbox = tmp / "gateway/outbox.sqlite3"

    def spawn(self, name: str, args: list[str]) -> None:
        with (self.tmp / f"{name}.log").open("wb") as log:
            self.procs[name] = subprocess.Popen([sys.executable, *args], env=self.env, cwd=ROOT, stdout=log,
                                                stderr=subprocess.STDOUT)

    async def until(self, what: str, check: Any, seconds: float, every: float = 0.5) -> None:
        deadline = time.monotonic() + seconds
        while not await check():
            for name, proc in self.procs.items():
                if proc.poll() is not None and name != "gateway (stopped)":
                    tail = (self.tmp / f"{name}.log").read_text(errors="replace").splitlines()[-20:]
                    raise RuntimeError(f"{name} exited with {proc.returncode}:\n" + "\n".join(tail))
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what}")
            await asyncio.sleep(every)

    async def gql(self, query: str, variables: dict[str, Any], field: str) -> Any:
        body = (await self.http.post("/graphql", json={"query": query, "variables": variables})).json()
        if body.get("errors") or not (body.get("data") or {}).get(field):
            raise RuntimeError(f"{field}: {body}")
        return body["data"][field]

    async def tenant(self) -> None:
        db = open_database(self.settings)
        await db.start(max_size=2)
        try:
            actor = Actor.system("bench")
            async with db.shared() as scope:
                fed = await provisioning.ensure_federation(scope, slug="bench", name="Benchförbundet")
            m = await provisioning.create_municipality(db, federation_id=fed, name="Benchkommun", code="1494",
                                                       slug="bench-lockers", actor=actor)
            async with db.tenant(m.id) as scope:
                user = await accounts.create_user(scope, email=EMAIL, name="Bench", password=PASSWORD,
                                                  federation_id=fed)
                await accounts.grant_membership(scope, user_id=user.id, role=Role.TENANT_ADMIN, actor=actor)
        finally:
            await db.close()

    async def register(self, sims: list[Any]) -> list[tuple[int, str, int, str]]:
        """Lockers registered as an admin would; writes the gateway's config. The compartments to open."""
        self.http.headers["Authorization"] = "Bearer " + (await self.gql(LOGIN, {"e": EMAIL, "p": PASSWORD},
                                                                          "login"))["token"]
        assert (await self.gql(ENABLE, {"c": PLUGIN_CONFIG}, "enablePlugin"))["__typename"] == "PluginInfo"
        site = await self.gql(SITE, {"i": {"name": "Benchplatsen"}}, "registerSite")
        profile = (ROOT / "opcua_gateway/profiles/kylbox.yaml").read_text()
        assert "publishing_interval_ms: 250" in profile
        (self.tmp / "kylbox-bench.yaml").write_text(profile.replace("publishing_interval_ms: 250",
                                                                    f"publishing_interval_ms: {PUBLISH_MS}"))
        endpoints, targets = [], []
        for i, sim in enumerate(sims):
            ep = await self.gql(ENDPOINT, {"i": {"name": f"kylbox-{i + 1}", "vendor": "kylbox", "url": sim["url"]}},
                                "registerEndpoint")
            endpoints.append({"id": ep["id"], "url": sim["url"], "profile": str(self.tmp / "kylbox-bench.yaml")})
            for locker in sim["lockers"]:
                comps = [{"key": c["key"], "temperatureClass": c["temperature_class"].upper(),
                          "sizeClass": c["size_class"]} for c in locker["compartments"]]
                reg = await self.gql(LOCKER, {"i": {"siteId": site["id"], "endpointId": ep["id"], "name": locker["id"],
                                                    "vendorLockerId": locker["id"], "compartments": comps}},
                                     "registerLocker")
                targets += [(int(c["key"]), locker["id"], i, c["id"]) for c in reg["compartments"]]
        config = {"redis_url": self.settings.redis_url, "outbox": str(self.outbox), "pki_dir": str(self.tmp / "pki"),
                  "telemetry_interval_s": 1.0, "temperature_deadband_c": 0.0,
                  "alarms": {"door_ajar_s": 3600, "temperature_delay_s": 3600}, "endpoints": endpoints}
        (self.tmp / "gateway.yaml").write_text(json.dumps(config, indent=2))
        return sorted(targets)  # by compartment number: consecutive opens go to different lockers

    async def opens(self, targets: list[Any], offset: int, count: int, label: str) -> None:
        latencies: list[float] = []
        outcomes: Counter[str] = Counter()
        for k in range(count):
            number, locker, sim, compartment_id = targets[(offset + k) % len(targets)]
            t0 = time.perf_counter()
            answer = await self.gql(OPEN, {"id": compartment_id}, "openCompartment")
            elapsed = time.perf_counter() - t0
            outcomes[answer["__typename"] + (f":{answer['reason']}" if "reason" in answer else "")] += 1
            if answer["__typename"] == "CompartmentOpened":
                latencies.append(elapsed)
            await self.helper.ask(f"close {sim} {locker} {number}")  # not timed; the next open is elsewhere
            if (k + 1) % 50 == 0:
                say(f"  (d) {label}: {k + 1}/{count}, p50 {pct(latencies, 50) * 1000:.0f} ms, "
                    f"p99 {pct(latencies, 99) * 1000:.0f} ms, {dict(outcomes)}")
        self.r[label] = latencies, outcomes

    def pids(self) -> dict[str, list[int]]:
        postmaster = int((self.tmp / "data/postgres/postmaster.pid").read_text().split()[0])
        backends = [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and stat(p.name)[1:2] == [
            str(postmaster)]]
        assert self.servers.redis.process is not None
        return {**{name: [p.pid] for name, p in self.procs.items()}, "simulators": [self.helper.process.pid],
                "postgres": [postmaster, *backends], "redis": [self.servers.redis.process.pid],
                "benchmark": [os.getpid()]}

    async def load_window(self) -> None:
        async def sample() -> tuple[float, ...]:
            row = await self.pg.fetchrow(COUNTS)
            changes = (await self.helper.ask("stats"))["changes"]
            self.r["ids"].append((await self.redis.xinfo_stream(EVENTS_STREAM))["last-generated-id"])
            return time.monotonic(), await self.redis.xlen(EVENTS_STREAM), row["e"], row["st"], row["s"], changes

        pids = self.pids()
        cpu0, machine0 = {k: cpu_s(v) for k, v in pids.items()}, machine_s()
        first = last = await sample()
        for step in range(LOAD_S // 5):
            await asyncio.sleep(first[0] + 5 * (step + 1) - time.monotonic())
            now = await sample()
            dt = now[0] - last[0]
            say(f"  (b/c) {now[0] - first[0]:3.0f} s: sensors {(now[5] - last[5]) / dt:5.0f}/s, gateway "
                f"{(now[1] - last[1]) / dt:5.0f} ev/s, persisted {(now[2] - last[2]) / dt:5.0f} ev/s, "
                f"backlog in Redis {now[1] - now[2]:,}")
            last = now
        dt, machine1 = last[0] - first[0], machine_s()
        self.r["window"] = dict(zip(("gateway", "persisted", "states", "samples", "sensors"),
                                    [(b - a) / dt for a, b in zip(first[1:], last[1:], strict=True)], strict=True))
        self.r["window"]["seconds"] = dt
        cpu = {k: (cpu_s(v) - cpu0[k]) / dt for k, v in pids.items()}
        busy = (machine1[0] - machine0[0]) / dt
        self.r["cpu"] = cpu | {"(not this benchmark)": max(0.0, busy - sum(cpu.values())), "machine busy": busy,
                               "machine cores": (machine1[1] - machine0[1]) / dt}

    async def caught_up(self) -> bool:
        last = (await self.redis.xinfo_stream(EVENTS_STREAM))["last-generated-id"]
        group = next(g for g in await self.redis.xinfo_groups(EVENTS_STREAM) if g["name"] == b"samverka-lockers")
        return bool(group["pending"] == 0 and group["last-delivered-id"] == last)

    async def outbox_small(self) -> bool:
        db = sqlite3.connect(f"file:{self.outbox}?mode=ro", uri=True, timeout=5)
        try:
            return bool(db.execute("SELECT count(*) FROM outbox").fetchone()[0] < 1000)
        finally:
            db.close()

    async def verify(self) -> None:
        """Every event the outbox numbered must be in the stream and in lockers_event, once."""
        db = sqlite3.connect(self.outbox)
        seqs = db.execute("SELECT endpoint_id, locker, compartment, value FROM seq").fetchall()
        unsent = db.execute("SELECT count(*) FROM outbox WHERE stream = ?", (EVENTS_STREAM,)).fetchone()[0]
        db.close()
        numbered = {((e, lk, c), s) for e, lk, c, top in seqs for s in range(1, top + 1)}
        ids: Counter[str] = Counter()
        keys, start, window = set(), "-", Counter[str]()
        first, last = entry_id(self.r["ids"][0]), entry_id(self.r["ids"][-1])
        xrange: Any = self.redis.xrange
        while entries := await xrange(EVENTS_STREAM, min=start, count=20_000):
            for raw_id, fields in entries:
                m = msgspec.json.decode(fields[b"m"])
                ids[m["event_id"]] += 1
                keys.add(((m["endpoint_id"], m["locker"], m["compartment"] or ""), m["seq"]))
                if first < entry_id(raw_id) <= last:
                    window[m["kind"]] += 1
            start = "(" + entries[-1][0].decode()
        rows = await self.pg.fetch("SELECT event_id, endpoint_id, locker_key, coalesce(compartment_key, '') c, seq "
                                   "FROM lockers_event")
        stored = {((r["endpoint_id"], r["locker_key"], r["c"]), r["seq"]) for r in rows}
        kinds = await self.pg.fetch("SELECT kind, count(*) n FROM lockers_event GROUP BY kind ORDER BY n DESC")
        self.r["window"]["gateway states"] = window["state"] / self.r["window"]["seconds"]
        self.r["lost"] = len(numbered - stored)
        self.r["dups"] = len(rows) - len(stored)
        self.r["verify"] = {
            "events numbered by the gateway's outbox": len(numbered),
            "still in the outbox (unsent)": unsent,
            "stream entries (XADDs) / distinct event_ids": f"{sum(ids.values()):,} / {len(ids):,}",
            "rows in lockers_event": len(rows),
            "lost before Redis (numbered, not in the stream, not unsent)": len(numbered - keys) - unsent,
            "lost in ingest (in the stream, not in lockers_event)": len(set(ids) - {r["event_id"] for r in rows}),
            "LOST (numbered, not persisted)": self.r["lost"],
            "DUPLICATES persisted (an endpoint/locker/compartment/seq twice)": self.r["dups"],
            "persisted but never numbered": len(stored - numbered),
            "dead letters": await self.redis.xlen("samverka:lockers:dead"),
            "persisted by kind": ", ".join(f"{r['kind']} {r['n']:,}" for r in kinds),
        }
        times = await self.pg.fetch("SELECT extract(epoch FROM completed_at - requested_at)::float8 s "
                                    "FROM lockers_command ORDER BY requested_at")
        self.r["confirm"] = [r["s"] for r in times]

    async def run(self) -> None:
        say("Creating a municipality and its admin; starting samverka serve and worker ...")
        await self.tenant()
        self.spawn("serve", ["-m", "backend.cli", "serve"])
        self.spawn("worker", ["-m", "backend.cli", "worker", "--threads", "2"])
        say(f"Starting {SIMS} Kylbox simulators x {LOCKERS} lockers x {COMPARTMENTS} compartments "
            f"(tick {self.args.tick} s, noise {NOISE_C} °C) ...")
        self.helper = await Helper.start(SIMS, LOCKERS, COMPARTMENTS, self.args.tick, NOISE_C)
        self.redis = Redis.from_url(self.settings.redis_url or "")
        self.http = httpx.AsyncClient(base_url=self.settings.public_url, timeout=60)
        try:
            self.pg = await asyncpg.connect(self.servers.postgres.url("postgres"))  # superuser: counts across RLS
            try:
                await self.steps((await self.helper.read())["ready"])
            finally:
                await self.pg.close()
        finally:
            await self.http.aclose()
            await self.redis.aclose()
            await self.helper.stop()

    async def steps(self, sims: list[Any]) -> None:
        async def healthy() -> bool:
            try:
                return (await self.http.get("/healthz", timeout=2)).status_code == 200
            except httpx.HTTPError:
                return False

        async def all_states() -> bool:
            return bool(await self.pg.fetchval("SELECT count(*) FROM lockers_compartment WHERE state_seq IS NOT "
                                               "NULL") >= len(targets))

        await self.until("samverka serve", healthy, 60)
        targets = await self.register(sims)
        await self.redis.xgroup_create(EVENTS_STREAM, "bench", id="$", mkstream=True)  # keeps the stream whole
        say(f"Registered {len(targets)} compartments on {len(sims)} endpoints via GraphQL.")
        say(f"(a) bare asyncua client, {RAW_S} s window, publishing interval {PUBLISH_MS} ms, queue size 1 ...")
        before = await self.helper.ask("stats")
        count, seconds, nodes = await count_datachanges(sims, PUBLISH_MS, RAW_S, say)
        after = await self.helper.ask("stats")
        self.r["raw"] = count / seconds, nodes, (after["changes"] - before["changes"]) / (after["t"] - before["t"])
        prof = ["-m", "cProfile", "-o", str(self.tmp / "gateway.prof")] if self.args.profile else []
        self.spawn("gateway", [*prof, "-m", "backend.cli", "gateway", "run", "--config", str(self.tmp / "gateway.yaml"),
                               "--log-level", "warning"])
        say("Gateway started; waiting until every compartment's state is in PostgreSQL ...")
        await self.until("every compartment's state", all_states, 180)
        await self.helper.ask("noise 0")
        await asyncio.sleep(3)
        say(f"(d) {OPENS} sequential openCompartment, quiet sensors (telemetry only) ...")
        await self.opens(targets, 0, OPENS, "quiet")
        await self.helper.ask(f"noise {NOISE_C}")
        await asyncio.sleep(WARMUP_S)
        say(f"(b)+(c) full load, {LOAD_S} s window ...")
        await self.load_window()
        say(f"(d) {OPENS_LOADED} openCompartment under the same load ...")
        await self.opens(targets, OPENS, OPENS_LOADED, "loaded")
        await self.helper.ask("noise 0")
        say("Load off; waiting for the outbox to drain, then stopping the gateway (SIGTERM) ...")
        await self.until("the outbox", self.outbox_small, 180, every=1)
        self.procs["gateway (stopped)"] = gateway = self.procs.pop("gateway")
        gateway.terminate()
        await asyncio.to_thread(gateway.wait, 60)
        say("Waiting for the worker to ingest everything in the stream ...")
        await self.until("the worker", self.caught_up, 600, every=1)
        await self.verify()


def report(r: dict[str, Any], args: argparse.Namespace) -> None:
    raw, nodes, raw_sensors = r["raw"]
    w = r["window"]
    print(f"\nLoad: {SIMS} Kylbox simulators x {LOCKERS} lockers x {COMPARTMENTS} compartments = "
          f"{SIMS * LOCKERS * COMPARTMENTS}, tick {args.tick} s, noise {NOISE_C} °C, publishing interval "
          f"{PUBLISH_MS} ms (queue size 1); gateway deadband 0 °C, telemetry 1 s. One machine, {os.cpu_count()} cores "
          "shared by everything below.")
    for label, value in (("simulated sensors: temperature changes (during (a))", raw_sensors),
                         (f"(a) bare asyncua client: DataChange notifications ({nodes} nodes)", raw),
                         ("simulated sensors: temperature changes (during (b)/(c))", w["sensors"]),
                         ("(b) gateway: events XADDed to " + EVENTS_STREAM, w["gateway"]),
                         ("      of which state (value changes)", w["gateway states"]),
                         ("(c) worker: lockers_event rows persisted", w["persisted"]),
                         ("      of which state (value changes)", w["states"]),
                         ("    worker: lockers_temperature_sample rows (telemetry)", w["samples"])):
        print(f"  {label:64}{value:8.0f} /s")
    print(f"  ((b)/(c) window {w['seconds']:.0f} s. Notifications of one compartment that reach the gateway in one "
          f"batch become one event. (b) state events / sensor changes in the same window: "
          f"{w['gateway states'] / w['sensors'] * 100:.0f} %.)")
    print("\nZero-loss check (load off, outbox drained, gateway stopped, worker caught up):")
    for key, value in r["verify"].items():
        print(f"  {key:66} {value:,}" if isinstance(value, int) else f"  {key:66} {value}")
    print("\nCPU during the (b)/(c) window, in cores (1.0 = one core busy):")
    for name, cores in sorted(r["cpu"].items(), key=lambda kv: -kv[1]):
        print(f"  {name:24}{cores:6.2f}")
    if r["cpu"]["(not this benchmark)"] > 0.2:
        print(f"  DISTURBED: other processes used {r['cpu']['(not this benchmark)']:.2f} cores during the window.")
    confirm = {"quiet": r["confirm"][:OPENS], "loaded": r["confirm"][OPENS:]}
    for key in ("quiet", "loaded"):
        lat, outcomes = r[key]
        print(f"\n(d) openCompartment, {key}: {len(lat)} confirmed: p50 {pct(lat, 50) * 1000:.0f} ms, "
              f"p90 {pct(lat, 90) * 1000:.0f} ms, p99 {pct(lat, 99) * 1000:.0f} ms, "
              f"max {max(lat, default=0) * 1000:.0f} ms; "
              f"outcomes {dict(outcomes)}\n    of which request stored -> gateway confirmed (lockers_command "
              f"requested_at -> completed_at): p50 {pct(confirm[key], 50) * 1000:.0f} ms, "
              f"p99 {pct(confirm[key], 99) * 1000:.0f} ms")
    quiet = pct(r["quiet"][0], 99)
    print(f"\n{'target':40}{'measured':>30}{'goal':>28}  result")
    for label, value, goal, ok in (
            ("(b) gateway state events / (a) raw", f"{w['gateway states'] / raw * 100:.0f} %", ">= 80 %",
             w["gateway states"] >= 0.8 * raw),
            ("(c) persisted events, zero loss", f"{w['persisted']:.0f}/s, lost {r['lost']}, dup {r['dups']}",
             ">= 5,000/s, 0 lost, 0 dup", w["persisted"] >= 5000 and r["lost"] == 0 and r["dups"] == 0),
            ("(d) openCompartment p99, quiet", f"{quiet * 1000:.0f} ms", "< 250 ms",
             quiet < 0.25 and set(r["quiet"][1]) == {"CompartmentOpened"})):
        print(f"{label:40}{value:>30}{goal:>28}  {'PASS' if ok else 'MISS'}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Lockers benchmark (issue 4)")
    parser.add_argument("--tick", type=float, default=0.05, help="simulator physics tick (s): the offered load")
    parser.add_argument("--profile", action="store_true", help="run the gateway under cProfile; print its top 25")
    args = parser.parse_args()
    logging.getLogger("asyncua").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="samverka-bench-lockers-"))
    servers = EmbeddedServers(tmp / "data")
    bench: Bench | None = None
    try:
        say(f"Starting embedded PostgreSQL + Redis in {tmp} ...")
        database_url, redis_url = servers.start()
        settings = Settings(data_dir=tmp / "data", database_url=database_url, redis_url=redis_url,
                            environment="production", port=free_port(), rate_limit_per_minute=10_000_000)
        asyncio.run(migrate(settings))
        bench = Bench(tmp, settings, servers, args)
        asyncio.run(asyncio.wait_for(bench.run(), TIME_LIMIT_S))
        report(bench.r, args)
        if args.profile:
            print("\nGateway main thread, cProfile top 25 by own time (the SQLite outbox thread is not profiled):")
            pstats.Stats(str(tmp / "gateway.prof")).sort_stats("tottime").print_stats(25)
    finally:
        for proc in bench.procs.values() if bench else ():
            if proc.poll() is None:
                proc.terminate()
        for proc in bench.procs.values() if bench else ():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
