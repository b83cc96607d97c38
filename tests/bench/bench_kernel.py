"""Kernel benchmark: GraphQL read path vs a hand-written endpoint, and the cost of row-level security.

Self-contained: starts embedded PostgreSQL + Redis in a temp dir, migrates, loads 6 tenants with
10,000 audit entries each, starts ``samverka serve`` and the baseline app (tests/bench/baseline_app.py)
as single uvicorn processes, drives both from an in-process httpx load generator, then times the
same SQL with and without RLS. Informational: exits 0 whether targets are met or not.

    .venv/bin/python tests/bench/bench_kernel.py
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
import httpx  # noqa: E402

from backend.database import make_engine  # noqa: E402
from backend.embedded import EmbeddedServers  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.settings import Settings  # noqa: E402
from tenants import provisioning, tokens  # noqa: E402
from tenants.access import Actor  # noqa: E402
from tenants.database import Database  # noqa: E402
from tenants.tables import KERNEL_TABLES  # noqa: E402

TENANTS, ROWS = 6, 10_000
CONCURRENCY, WARMUP, REQUESTS, SECONDS = 20, 200, 3000, 15.0
RLS_ITERATIONS, RLS_ROUNDS = 5000, 50
GRAPHQL = ("{ auditLog(first: 50) { edges { node { id occurredAt actorKind actorLabel action "
           "targetKind targetId details } } } }")
SET_CONFIG = "SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)"
COLUMNS = "id, occurred_at, actor_kind, actor_label, action, target_kind, target_id, details"
RLS_SQL = f"SELECT {COLUMNS} FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT 50"
# COPY FROM is refused on tables with row-level security, so one INSERT ... SELECT FROM unnest().
BULK_INSERT = """INSERT INTO audit_log (tenant_id, occurred_at, actor_kind, actor_label, action,
  target_kind, target_id, details)
SELECT $1, t, k, l, a, 'device', d, j::jsonb
FROM unnest($2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
  AS u(t, k, l, a, d, j)"""


@dataclass
class Tenant:
    id: UUID
    token: str


@dataclass
class Run:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    server_cpu_s: float
    client_cpu_s: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def load_data(settings: Settings) -> list[Tenant]:
    """Six municipalities under one federation, 10,000 audit rows and an audit:read token each."""
    db = Database(make_engine(settings.resolved_app_database_url()))  # the app role, as served
    db.bind(KERNEL_TABLES)
    await db.start(max_size=2)
    actor = Actor.system("bench")
    tenants = []
    try:
        async with db.shared() as scope:
            fed = await provisioning.ensure_federation(scope, slug="bench", name="Benchförbundet")
        for n in range(TENANTS):
            started = time.perf_counter()
            m = await provisioning.create_municipality(
                db, federation_id=fed, name=f"Benchkommun {n}", code="1494", slug=f"bench-{n}",
                actor=actor)
            base = datetime.now(UTC) - timedelta(days=30)
            stamps = [base + timedelta(seconds=i) for i in range(ROWS)]
            kinds = [("user", "token", "system")[i % 3] for i in range(ROWS)]
            labels = [f"user{i % 97}@bench.example" for i in range(ROWS)]
            actions = [("device.read", "device.updated", "alarm.raised")[i % 3] for i in range(ROWS)]
            targets = [f"dev-{i % 500}" for i in range(ROWS)]
            details = [json.dumps({"seq": i, "value": i * 0.5, "note": "bench"}) for i in range(ROWS)]
            async with db.tenant(m.id) as scope:
                await scope.connection.execute(BULK_INSERT, m.id, stamps, kinds, labels, actions,
                                               targets, details)
                new = await tokens.create_token(scope, name="bench", scopes=["audit:read"],
                                                expires_in_days=30, actor=actor)
            tenants.append(Tenant(m.id, new.token))
            print(f"  tenant {n + 1}/{TENANTS} {m.slug}: {ROWS:,} audit rows + token in "
                  f"{time.perf_counter() - started:.2f} s", flush=True)
    finally:
        await db.close()
    assert settings.database_url
    owner = await asyncpg.connect(settings.database_url)
    await owner.execute("VACUUM ANALYZE audit_log")  # stable plans, as on a settled production table
    await owner.close()
    return tenants


def start(cmd: list[str], env: dict[str, str], url: str, log: Path) -> subprocess.Popen[bytes]:
    """Start a server process (output to ``log``) and wait until ``url``/healthz answers."""
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"{cmd} exited with {process.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{cmd} did not come up in 60 s; see {log}")


async def drive(name: str, url: str, send_args: list[dict[str, object]], pid: int) -> Run:
    """Warm up, then send requests from CONCURRENCY clients until REQUESTS or SECONDS is reached."""
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def burst(total: int, seconds: float) -> tuple[list[float], int, float]:
            latencies: list[float] = []
            errors = 0
            counter = itertools.count()
            end = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal errors
                while (i := next(counter)) < total and time.perf_counter() < end:
                    t0 = time.perf_counter()
                    response = await client.request(**send_args[i % len(send_args)])  # type: ignore[arg-type]
                    latencies.append(time.perf_counter() - t0)
                    errors += response.status_code != 200 or b'"errors"' in response.content

            t0 = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
            return latencies, errors, time.perf_counter() - t0

        await burst(WARMUP, 60)
        server0, client0 = cpu_seconds(pid), time.process_time()
        latencies, errors, seconds = await burst(REQUESTS, SECONDS)
        server_cpu, client_cpu = cpu_seconds(pid) - server0, time.process_time() - client0
    return Run(name, len(latencies), errors, seconds, latencies, server_cpu, client_cpu)


async def http_phase(gql_url: str, base_url: str, tenants: list[Tenant], pids: tuple[int, int]) -> list[Run]:
    body = json.dumps({"query": GRAPHQL}).encode()
    gql = [{"method": "POST", "url": "/graphql", "content": body,
            "headers": {"authorization": f"Bearer {t.token}", "content-type": "application/json"}}
           for t in tenants]
    base = [{"method": "GET", "url": "/audit", "headers": {"x-tenant": str(t.id)}} for t in tenants]
    async with httpx.AsyncClient(base_url=gql_url) as g, httpx.AsyncClient(base_url=base_url) as b:
        edges = (await g.request(**gql[0])).json()["data"]["auditLog"]["edges"]  # type: ignore[arg-type]
        flat = (await b.request(**base[0])).json()  # type: ignore[arg-type]
    assert [e["node"]["id"] for e in edges] == [r["id"] for r in flat] and len(flat) == 50, "differ"
    print("  checked: GraphQL and baseline return the same 50 entries")
    runs = []
    for name, url, args, pid in (("GraphQL (samverka serve)", gql_url, gql, pids[0]),
                                 ("baseline (litestar+asyncpg)", base_url, base, pids[1])):
        runs.append(await drive(name, url, args, pid))
        print(f"  {name}: {runs[-1].requests} requests in {runs[-1].seconds:.1f} s", flush=True)
    return runs


async def rls_phase(app_url: str, su_url: str, tenants: list[Tenant]) -> tuple[dict[str, list[float]], list[list[str]]]:
    """The same SQL as the app role (RLS) and as the superuser (bypasses RLS), interleaved."""
    conns = {"app role (RLS)": await asyncpg.connect(app_url),
             "superuser (no RLS)": await asyncpg.connect(su_url)}
    times: dict[str, list[float]] = {name: [] for name in conns}
    per_round = RLS_ITERATIONS // RLS_ROUNDS
    try:
        for r in range(RLS_ROUNDS + 2):  # two unrecorded warm-up rounds
            for name, conn in (conns.items() if r % 2 else reversed(conns.items())):
                for i in range(per_round):
                    tenant = tenants[i % len(tenants)].id
                    async with conn.transaction():
                        await conn.execute(SET_CONFIG, str(tenant), "")
                        t0 = time.perf_counter()
                        rows = await conn.fetch(RLS_SQL, tenant)
                        if r >= 2:
                            times[name].append(time.perf_counter() - t0)
                    assert len(rows) == 50
        plans = []
        for conn in conns.values():
            async with conn.transaction():
                await conn.execute(SET_CONFIG, str(tenants[0].id), "")
                rows = await conn.fetch(f"EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF, TIMING OFF) {RLS_SQL}",
                                        tenants[0].id)
            plans.append([row[0].replace(f"'{tenants[0].id}'::uuid", "<tenant>") for row in rows
                          if "Index Searches" not in row[0]])
    finally:
        for conn in conns.values():
            await conn.close()
    return times, plans


def report(runs: list[Run], times: dict[str, list[float]], plans: list[list[str]]) -> None:
    ms = 1000
    print("\nHTTP: 20 concurrent clients, tokens/tenants rotating over 6 tenants, one server process each")
    print(f"{'':28}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}{'srv CPU ms/req':>16}"
          f"{'client CPU ms/req':>19}")
    for r in runs:
        print(f"{r.name:28}{r.rps:8.0f}{pct(r.latencies, 50) * ms:9.2f}{pct(r.latencies, 99) * ms:9.2f}"
              f"{r.errors:8}{r.server_cpu_s / r.requests * ms:16.2f}{r.client_cpu_s / r.requests * ms:19.2f}")
    print("  note: the baseline checks no token and has no rate limit (GraphQL: token lookup + Redis\n"
          "  rate-limit per request). Only 2 cores: the Python load generator competes with the server\n"
          "  and PostgreSQL for CPU, so req/s understate both servers; srv CPU ms/req is steadier.")
    print(f"\nRLS: same SQL, {RLS_ITERATIONS} runs per side on one connection each, interleaved in "
          f"{RLS_ROUNDS} rounds\n  {RLS_SQL}")
    stats = {}
    for name, values in times.items():
        stats[name] = (statistics.mean(values), pct(values, 50), pct(values, 99))
        print(f"  {name:20} mean {stats[name][0] * 1e6:7.1f} us   p50 {stats[name][1] * 1e6:7.1f} us"
              f"   p99 {stats[name][2] * 1e6:7.1f} us")
    rls, su = stats.values()
    mean_over, p50_over = (rls[0] / su[0] - 1) * 100, (rls[1] / su[1] - 1) * 100
    print(f"  overhead: mean {mean_over:+.1f} %, p50 {p50_over:+.1f} %")
    for name, plan in zip(times, plans, strict=True):
        print(f"\nEXPLAIN ANALYZE as {name}:\n  " + "\n  ".join(plan))
    ratio = runs[0].rps / runs[1].rps * 100
    capacity = runs[1].server_cpu_s / runs[1].requests / (runs[0].server_cpu_s / runs[0].requests) * 100
    print(f"\n{'target':42}{'measured':>12}{'goal':>10}  result")
    for label, value, goal, ok in (("RLS query overhead (p50)", f"{p50_over:+.1f} %", "< 10 %", p50_over < 10),
                                   ("GraphQL throughput / baseline", f"{ratio:.0f} %", ">= 50 %", ratio >= 50),
                                   ("(info) same, by server CPU per request", f"{capacity:.0f} %", ">= 50 %",
                                    capacity >= 50)):
        print(f"{label:42}{value:>12}{goal:>10}  {'PASS' if ok else 'MISS'}")


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="samverka-bench-"))
    servers = EmbeddedServers(tmp / "data")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        print(f"Starting embedded PostgreSQL + Redis in {tmp} ...", flush=True)
        database_url, redis_url = servers.start()
        settings = Settings(data_dir=tmp / "data", database_url=database_url, redis_url=redis_url,
                            environment="production", port=free_port(), rate_limit_per_minute=10_000_000)
        asyncio.run(migrate(settings))
        print(f"Loading {TENANTS} tenants x {ROWS:,} audit rows (app role, RLS WITH CHECK) ...", flush=True)
        tenants = asyncio.run(load_data(settings))
        env = {**os.environ, **settings.child_environment(),
               "SAMVERKA_RATE_LIMIT_PER_MINUTE": str(settings.rate_limit_per_minute),
               "BENCH_BASELINE_DSN": settings.resolved_app_database_url()}
        base_port = free_port()
        print("Starting samverka serve and the baseline app ...", flush=True)
        processes.append(start([sys.executable, "-m", "backend.cli", "serve"], env, settings.public_url,
                               tmp / "serve.log"))
        processes.append(start([sys.executable, "-m", "uvicorn", "tests.bench.baseline_app:app",
                                "--host", "127.0.0.1", "--port", str(base_port), "--log-level", "info"],
                               env, f"http://127.0.0.1:{base_port}", tmp / "baseline.log"))
        print(f"Load: warm-up {WARMUP}, then {REQUESTS} requests or {SECONDS:.0f} s per target ...",
              flush=True)
        runs = asyncio.run(http_phase(settings.public_url, f"http://127.0.0.1:{base_port}", tenants,
                                      (processes[0].pid, processes[1].pid)))
        print("Timing the RLS query ...", flush=True)
        times, plans = asyncio.run(rls_phase(settings.resolved_app_database_url(),
                                             servers.postgres.url("postgres"), tenants))
        report(runs, times, plans)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
