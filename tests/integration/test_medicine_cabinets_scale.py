"""The medication log at scale, on real PostgreSQL: verify walks a chain longer than one batch (here
batches of 100) and still names an entry altered in a later batch, an anchor no longer matched and
a cut-off end; the streamed export is valid JSON with every entry; and ``exportMedicationLog`` on a
running server refuses a period of more than 10,000 entries with VALIDATION_FAILED and exports a
narrowed one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import asyncpg
import pytest

from plugins.medicine_cabinets import chain, log
from plugins.medicine_cabinets.graphql_api import EXPORT_LIMIT
from tenants.database import Database, Scope
from tests.bench.bench_cabinets import LOG_COLUMNS, chained
from tests.conftest import Server, World
from tests.e2e.test_lockers_api import codes, data, register
from tests.e2e.test_medicine_cabinets_api import ENABLE
from tests.integration.test_medicine_cabinets_anchor import UNGUARD_ANCHORS, UNGUARD_LOG

START = datetime(2024, 1, 1, tzinfo=UTC)  # entry n is written at START + 42 s * n
INSERT = f"""INSERT INTO medicine_cabinets_log ({", ".join(LOG_COLUMNS)})
SELECT $1, * FROM unnest($2::bigint[], $3::timestamptz[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[],
                         $8::uuid[], $9::uuid[], $10::text[], $11::text[], $12::text[])"""
ANCHORS = """INSERT INTO medicine_cabinets_log_anchor (tenant_id, seq, hash)
SELECT $1, * FROM unnest($2::bigint[], $3::text[])"""
EXPORT = """query($from: DateTime, $to: DateTime) { exportMedicationLog(from: $from, to: $to) }"""


async def load(db: Database, world: World, n: int) -> None:
    """``n`` chained entries and their anchors in municipality A, through the app role."""
    rows = list(chained(world.a.id, n, start=START))
    columns = [list(c) for c in zip(*rows, strict=True)][1:]
    async with db.tenant(world.a.id) as scope:
        await scope.connection.execute(INSERT, world.a.id, *columns)
        await scope.connection.execute(ANCHORS, world.a.id, columns[0], columns[-1])


@pytest.fixture
async def long_log(db: Database, world: World) -> None:
    await load(db, world, 250)


@pytest.fixture
async def as_owner(world: World, owner: asyncpg.Connection) -> AsyncIterator[Scope]:
    """The owner's transaction in municipality A with both append-only triggers off, rolled back."""
    tx = owner.transaction()
    await tx.start()
    await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(world.a.id))
    await owner.execute(UNGUARD_LOG)
    await owner.execute(UNGUARD_ANCHORS)
    try:
        yield Scope(tenant_id=world.a.id, connection=owner)
    finally:
        await tx.rollback()


async def head(scope: Scope) -> chain.Head:
    row = await scope.connection.fetchrow(log.HEAD, scope.tenant)
    return chain.Head(row["seq"], row["hash"])


async def test_verify_walks_batches_and_names_an_entry_altered_in_a_later_one(long_log: None, as_owner: Scope) -> None:
    assert await log.verify(as_owner, batch=100) == chain.Verdict(True, 250, head=(await head(as_owner)))
    await as_owner.connection.execute("UPDATE medicine_cabinets_log SET detail = 'nurse_only' WHERE seq = 230")
    verdict = await log.verify(as_owner, batch=100)
    assert (verdict.intact, verdict.checked, verdict.broken_seq, verdict.reason) == (
        False,
        229,
        230,
        "entry 230 was altered",
    )
    assert verdict == chain.verify(as_owner.tenant, await log.entries(as_owner))  # the same verdict as in Python


async def test_verify_in_batches_finds_a_cut_off_end_and_a_chain_rewritten_after_an_anchor(
    long_log: None, as_owner: Scope
) -> None:
    await as_owner.connection.execute("DELETE FROM medicine_cabinets_log WHERE seq > 240")
    cut = await log.verify(as_owner, batch=100)
    assert (cut.intact, cut.truncated, cut.checked, cut.broken_seq) == (False, True, 240, 241)
    assert (
        cut.reason == "the log ends at entry 240 but entry 250 existed (its anchor): entries were deleted from the end"
    )
    rows = await log.entries(as_owner)
    rows[149]["detail"] = "offline"  # entry 150 changed and every hash after it recomputed: a chain that holds
    for before, e in pairwise(rows[148:]):
        e["prev_hash"], e["hash"] = before["hash"], chain.entry_hash(as_owner.tenant, e, before["hash"])
    await as_owner.connection.executemany(
        "UPDATE medicine_cabinets_log SET detail = $2, prev_hash = $3, hash = $4 WHERE seq = $1",
        [(e["seq"], e["detail"], e["prev_hash"], e["hash"]) for e in rows[149:]],
    )
    assert chain.verify(as_owner.tenant, rows).intact
    rewritten = await log.verify(as_owner, batch=100)  # the first anchor that differs wins over the cut end
    assert (rewritten.intact, rewritten.broken_seq, rewritten.reason) == (
        False,
        150,
        "entry 150 does not match its anchor",
    )


async def test_the_streamed_export_is_valid_json_with_every_entry_and_the_verdict(
    db: Database, world: World, long_log: None
) -> None:
    async with db.tenant(world.a.id) as scope:
        verdict = await log.verify(scope)
        pieces = [p async for p in log.export_stream(world.a.id, verdict, log.batches(scope, batch=100))]
        whole = log.export(world.a.id, await log.entries(scope), verdict)
    assert len(pieces) == 2 + 3  # the verdict, three batches of entries, the end
    streamed: dict[str, Any] = json.loads(b"".join(pieces))
    assert streamed == whole
    assert [e["seq"] for e in streamed["entries"]] == list(range(1, 251))
    assert streamed["head"] == {"seq": 250, "hash": streamed["entries"][-1]["hash"]} and streamed["intact"]


async def test_graphql_export_refuses_a_period_of_too_many_entries_and_exports_a_narrowed_one(
    server: Server, db: Database, world: World
) -> None:
    await load(db, world, EXPORT_LIMIT + 1)
    admin = (await register(server, world.a.admin_email, locker="M1")).admin  # lockers first
    assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    refused = await admin(EXPORT)
    assert codes(refused) == ["VALIDATION_FAILED"] and "web download" in refused["errors"][0]["message"]
    assert codes(await admin(EXPORT, {"to": (START + timedelta(days=30)).isoformat()})) == ["VALIDATION_FAILED"]
    period = {"from": (START + timedelta(seconds=42 * 101)).isoformat(), "to": (START + timedelta(hours=2)).isoformat()}
    exported = json.loads(data(await admin(EXPORT, period), "exportMedicationLog"))
    assert [e["seq"] for e in exported["entries"]] == list(range(101, 172))  # 42 s apart: 101 .. 171 within 2 h
    assert exported["intact"] is True and exported["head"]["seq"] == EXPORT_LIMIT + 1
    backwards = await admin(EXPORT, {"from": period["to"], "to": period["from"]})
    assert codes(backwards) == ["VALIDATION_FAILED"]
