"""Medication log benchmark: append throughput under the per-tenant lock, and verify and export of
a log of a municipality's years (200 cabinets opened ~10 times a day is ~750,000 entries a year).

Self-contained: starts embedded PostgreSQL (+ Redis, unused) in a temp dir, migrates, provisions
municipalities, then measures
  (a) ``log.append`` with 1, 4 and 16 concurrent writers, all of one tenant and spread over 4;
  (b) ``log.verify`` over 10k, 100k and 1M entries (bulk-loaded with correct hashes and anchors by
      COPY), streamed (now) and the earlier path kept here for comparison (every entry and anchor
      fetched into lists, a hash per entry kept), time and peak memory (tracemalloc, RSS);
  (c) the web export of 100k entries streamed (``log.export_stream``) and built whole as before;
  (d) what a view of the log costs at each size: the kept verdict with the incremental check of a
      day's newer entries (``log_checks.status``) and one page of 100, newest first and filtered.
Informational: prints a table and exits 0.

    .venv/bin/python tests/bench/bench_cabinets.py [--max 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID, uuid5

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from backend.database import make_engine  # noqa: E402
from backend.embedded import EmbeddedServers  # noqa: E402
from backend.lib import PageRequest, utcnow  # noqa: E402
from backend.migrate import migrate  # noqa: E402
from backend.settings import Settings  # noqa: E402
from plugins.medicine_cabinets import chain, log, log_checks, log_pages  # noqa: E402
from tenants import provisioning  # noqa: E402
from tenants.access import Actor  # noqa: E402
from tenants.database import Database  # noqa: E402
from tenants.tables import KERNEL_TABLES  # noqa: E402

WRITERS, APPEND_SECONDS = (1, 4, 16), 4.0
SIZES = (10_000, 100_000, 1_000_000)
DAY = 2_000  # entries a municipality writes in a day (750,000 a year)
EXPORT_SIZE = 100_000
LOG_COLUMNS = ("tenant_id", *chain.FIELDS, "prev_hash", "hash")
KINDS = (("opened", ""), ("opened", ""), ("refused", "not_assigned"), ("door_ajar", ""))


def chained(
    tenant_id: UUID, n: int, *, start: datetime = datetime(2024, 1, 1, tzinfo=UTC)
) -> Iterator[tuple[Any, ...]]:
    """``n`` log rows (``LOG_COLUMNS``) of a valid chain from entry 1, one every 42 s from ``start``,
    spread over 200 cabinets; the anchors are ``(row[0], row[1], row[-1])``."""
    cabinets = [uuid5(tenant_id, f"cabinet-{i}") for i in range(200)]
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        kind, detail = KINDS[seq % len(KINDS)]
        entry = {"seq": seq, "at": start + timedelta(seconds=42 * seq), "kind": kind,
                 "cabinet_id": cabinets[seq % 200], "detail": detail}  # fmt: skip
        digest = chain.entry_hash(tenant_id, entry, prev)
        yield (tenant_id, *(entry.get(f) for f in chain.FIELDS), prev, digest)
        prev = digest


async def bulk_load(superuser: asyncpg.Connection, tenant_id: UUID, n: int) -> None:
    """COPY as the superuser (RLS does not apply to it; the app role may not COPY into RLS tables)."""
    batch: list[tuple[Any, ...]] = []
    for row in chained(tenant_id, n):
        batch.append(row)
        if len(batch) == 50_000:
            await _copy(superuser, batch)
            batch = []
    if batch:
        await _copy(superuser, batch)


async def _copy(superuser: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await superuser.copy_records_to_table("medicine_cabinets_log", records=rows, columns=LOG_COLUMNS)
    await superuser.copy_records_to_table(
        "medicine_cabinets_log_anchor",
        records=[(r[0], r[1], r[-1]) for r in rows],
        columns=("tenant_id", "seq", "hash"),
    )


async def old_verify(scope: Any) -> chain.Verdict:
    """The earlier ``log.verify``: every anchor and every entry in lists, a hash per entry kept."""
    anchors = [chain.Head(r["seq"], r["hash"]) for r in await scope.connection.fetch(log.ANCHORS, scope.tenant)]
    rows = await scope.connection.fetch("SELECT * FROM medicine_cabinets_log WHERE tenant_id = $1 ORDER BY seq",
                                        scope.tenant)  # fmt: skip
    return chain.verify(scope.tenant, [dict(r) for r in rows], anchors)


async def new_export(scope: Any, verdict: chain.Verdict) -> int:
    size = 0
    async for piece in log.export_stream(scope.tenant, verdict, log.batches(scope)):
        size += len(piece)  # sent on and forgotten, as the web download does
    return size


async def old_export(scope: Any, verdict: chain.Verdict) -> int:
    rows = await scope.connection.fetch("SELECT * FROM medicine_cabinets_log WHERE tenant_id = $1 ORDER BY seq",
                                        scope.tenant)  # fmt: skip
    body = log.export(scope.tenant, [dict(r) for r in rows], verdict)
    return len(json.dumps(body, ensure_ascii=False, indent=2).encode())


def rss_mb() -> tuple[float, float]:
    """Current and high-water resident set size of this process, in MB (Linux /proc)."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


async def measure(work: Callable[[], Awaitable[Any]]) -> tuple[float, float, float, float, Any]:
    """Wall time untraced, then peak traced Python memory, RSS growth and high-water growth (MB)."""
    gc.collect()
    started = time.perf_counter()
    result = await work()
    seconds = time.perf_counter() - started
    gc.collect()
    rss0, hwm0 = rss_mb()
    tracemalloc.start()
    await work()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss1, hwm1 = rss_mb()
    return seconds, peak, rss1 - rss0, hwm1 - hwm0, result


async def appends(db: Database, tenants: list[UUID], writers: int) -> tuple[int, float]:
    """``writers`` tasks appending for APPEND_SECONDS, writer i to tenant i mod len(tenants)."""
    done = 0
    stop = time.perf_counter() + APPEND_SECONDS

    async def writer(tenant: UUID) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            async with db.tenant(tenant) as scope:
                await log.append(scope, kind="opened", at=utcnow(), detail="bench")
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(tenants[i % len(tenants)]) for i in range(writers)))
    return done, time.perf_counter() - started


async def views(db: Database, big: dict[int, UUID]) -> None:
    """(d): a full check kept up to DAY entries before the end, then what one view of the log costs."""
    print(f"\n(d) a view: kept verdict + incremental check of the last {DAY:,} entries; one page of 100")
    print(f"  {'entries':>10} {'status s':>9} {'page s':>8} {'filtered page s':>16}")
    for n, tenant in big.items():
        async with db.tenant(tenant) as scope:
            row = await scope.connection.fetchrow(log.ENTRY, tenant, n - DAY)
            kept = chain.Verdict(True, n - DAY, head=chain.Head(n - DAY, row["hash"]))
            await log_checks.record(scope, kept, source="daily", started=utcnow(), done=utcnow())
            cabinet = log.Narrowing(cabinet_id=uuid5(tenant, "cabinet-7"))
            status_s = (await measure(partial(log_checks.status, scope)))[0]
            page_s = (await measure(partial(log_pages.page, scope, log.Narrowing(), PageRequest(100))))[0]
            filtered_s = (await measure(partial(log_pages.page, scope, cabinet, PageRequest(100))))[0]
        print(f"  {n:>10,} {status_s:>9.3f} {page_s:>8.3f} {filtered_s:>16.3f}", flush=True)


async def run(settings: Settings, superuser_url: str, sizes: list[int]) -> None:
    db = Database(make_engine(settings.resolved_app_database_url()))  # the app role, as served
    db.bind(KERNEL_TABLES)
    await db.start(max_size=20)
    superuser = await asyncpg.connect(superuser_url)
    try:
        async with db.shared() as scope:
            fed = await provisioning.ensure_federation(scope, slug="bench", name="Benchförbundet")
        made = [await provisioning.create_municipality(db, federation_id=fed, name=f"Benchkommun {n}", code="1494",
                                                       slug=f"bench-{n}", actor=Actor.system("bench"))
                for n in range(4 + len(sizes))]  # fmt: skip
        ids = [m.id for m in made]
        print(f"\n(a) log.append, {APPEND_SECONDS:.0f} s each (each append its own transaction)")
        print(f"  {'writers':>8} {'tenants':>8} {'appends':>9} {'per s':>9} {'ms each':>9}")
        for tenants in (1, 4):
            for writers in WRITERS:
                done, seconds = await appends(db, ids[:tenants], writers)
                print(f"  {writers:>8} {tenants:>8} {done:>9,} {done / seconds:>9,.0f} "
                      f"{seconds * 1000 * writers / max(done, 1):>9.2f}", flush=True)  # fmt: skip
        big = dict(zip(sizes, ids[4:], strict=True))
        for n, tenant in big.items():
            started = time.perf_counter()
            await bulk_load(superuser, tenant, n)
            print(f"  loaded {n:,} entries with anchors in {time.perf_counter() - started:.1f} s", flush=True)
        await superuser.execute("VACUUM ANALYZE medicine_cabinets_log, medicine_cabinets_log_anchor")
        print("\n(b) log.verify: time untraced; peak Python memory (tracemalloc); RSS growth and high-water growth")
        print(f"  {'path':8} {'entries':>10} {'seconds':>8} {'entries/s':>10} {'py peak MB':>11} {'RSS +MB':>8} "
              f"{'HWM +MB':>8}  verdict")  # fmt: skip
        for name, verify in (("streamed", log.verify), ("earlier", old_verify)):  # streamed first: HWM grows after
            for n, tenant in big.items():
                async with db.tenant(tenant) as scope:
                    seconds, peak, rss, hwm, verdict = await measure(partial(verify, scope))
                print(f"  {name:8} {n:>10,} {seconds:>8.2f} {n / seconds:>10,.0f} {peak:>11.1f} {rss:>8.1f} "
                      f"{hwm:>8.1f}  {'intact' if verdict.intact else verdict.reason}", flush=True)  # fmt: skip
        await views(db, big)
        exported = big.get(EXPORT_SIZE)
        if exported is None:
            return
        print(f"\n(c) export of {EXPORT_SIZE:,} entries (verdict computed before, not counted)")
        for name, export in (("streamed", new_export), ("earlier", old_export)):
            async with db.tenant(exported) as scope:
                verdict = await log.verify(scope)
                seconds, peak, rss, hwm, size = await measure(partial(export, scope, verdict))
            print(f"  {name:8} {seconds:>6.2f} s  {size / 2**20:>6.1f} MB of JSON  py peak {peak:>7.1f} MB  "
                  f"RSS +{rss:.1f} MB  HWM +{hwm:.1f} MB", flush=True)  # fmt: skip
    finally:
        await superuser.close()
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=SIZES[-1], help="largest log to verify (default 1,000,000)")
    sizes = [n for n in SIZES if n <= parser.parse_args().max]
    tmp = Path(tempfile.mkdtemp(prefix="samverka-bench-cabinets-"))
    servers = EmbeddedServers(tmp / "data")
    try:
        print(f"Starting embedded PostgreSQL + Redis in {tmp} ...", flush=True)
        database_url, redis_url = servers.start()
        settings = Settings(data_dir=tmp / "data", database_url=database_url, redis_url=redis_url,
                            environment="production")  # fmt: skip
        asyncio.run(migrate(settings))
        asyncio.run(run(settings, servers.postgres.url("postgres"), sizes))
        print(f"\n(peak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)")
    finally:
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
