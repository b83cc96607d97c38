"""The medication log's pages and kept verdict on real PostgreSQL: pages are newest first, keep
their filters and do not shift while entries are appended; a full check (on demand or by the
worker's timer function) keeps its verdict, and a view checks only the entries after its head,
finding an entry altered after it, a broken link at it, or the end cut off; a municipality sees
only its own checks."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import pytest

from backend.lib import PageRequest, ValidationFailed, utcnow
from plugins.medicine_cabinets import chain, log, log_checks, log_pages, timers
from tenants.database import Database, Scope
from tests.conftest import World
from tests.integration import test_medicine_cabinets_scale as scale
from tests.integration.test_medicine_cabinets_scale import START, load

as_owner = scale.as_owner  # the fixture: the owner's transaction in A, append-only triggers off, rolled back

COUNT = "SELECT count(*) FROM medicine_cabinets_log_check"


@pytest.fixture
async def log_of_250(db: Database, world: World) -> None:
    await load(db, world, 250)


def seqs(rows: object) -> list[int]:
    return [r["seq"] for r in rows]  # type: ignore[attr-defined]


async def append(scope: Scope, n: int) -> None:
    for _ in range(n):
        await log.append(scope, kind="opened", at=utcnow())


async def test_pages_are_newest_first_keep_the_period_and_do_not_shift_while_entries_are_appended(
    db: Database, world: World, log_of_250: None
) -> None:
    period = log.Narrowing(since=START + timedelta(seconds=42 * 100), until=START + timedelta(seconds=42 * 200))
    async with db.tenant(world.a.id) as scope:
        first = await log_pages.page(scope, log.Narrowing(), PageRequest(100))
        assert (seqs(first.items), first.has_next) == (list(range(250, 150, -1)), True)
        await append(scope, 5)
        second = await log_pages.page(scope, log.Narrowing(), PageRequest(100, first.cursors[-1]))
        assert seqs(second.items) == list(range(150, 50, -1))
        narrowed = await log_pages.page(scope, period, PageRequest(60))
        assert seqs(narrowed.items) == list(range(199, 139, -1))
        rest = await log_pages.page(scope, period, PageRequest(60, narrowed.cursors[-1]))
        assert (seqs(rest.items), rest.has_next) == (list(range(139, 99, -1)), False)
        with pytest.raises(ValidationFailed):
            await log_pages.page(scope, log.Narrowing(), PageRequest(10, "bm90LWEtc2Vx"))  # "not-a-seq"


async def test_the_web_window_goes_older_and_back_newer(db: Database, world: World, log_of_250: None) -> None:
    async with db.tenant(world.a.id) as scope:
        newest = await log_pages.window(scope, log.Narrowing(), size=100)
        assert (newest.rows[0]["seq"], newest.newer_than, newest.older_than) == (250, None, 151)
        older = await log_pages.window(scope, log.Narrowing(), size=100, older_than=151)
        assert (seqs(older.rows), older.newer_than, older.older_than) == (list(range(150, 50, -1)), 150, 51)
        back = await log_pages.window(scope, log.Narrowing(), size=100, newer_than=150)
        assert seqs(back.rows) == seqs(newest.rows)


async def test_a_full_check_keeps_its_verdict_and_a_view_checks_only_the_newer_entries(
    db: Database, world: World, log_of_250: None
) -> None:
    async with db.tenant(world.a.id) as scope:
        assert (await log_checks.status(scope)).intact is None  # never checked whole
        verdict = await log_checks.full(scope, source="api")
        assert (verdict.intact, verdict.head and verdict.head.seq) == (True, 250)
        await append(scope, 3)
        rows = await scope.connection.fetchval(COUNT)
        status = await log_checks.status(scope)
        assert await scope.connection.fetchval(COUNT) == rows  # a view writes no check
    assert status.kept is not None and (status.kept.source, status.kept.verdict.checked) == ("api", 250)
    assert status.newer is not None and (status.newer.intact, status.newer.checked, status.newer_count) == (
        True,
        253,
        3,
    )
    assert status.intact is True


async def test_the_worker_runs_the_check_when_due_and_soon_after_a_request(
    db: Database, world: World, log_of_250: None
) -> None:
    async with db.tenant(world.a.id) as scope:
        assert await timers.check_if_due(scope) is not None  # none kept yet, the log has entries
        assert await timers.check_if_due(scope) is None  # kept today: nothing due
        assert await log_checks.due(scope, utcnow() + log_checks.FULL_EVERY) == "daily"
        user = UUID(int=7)
        assert await log_checks.request(scope, now=utcnow(), by=user)
        assert not await log_checks.request(scope, now=utcnow(), by=user)  # one waits already
        assert (await log_checks.status(scope)).requested_at is not None
        verdict = await timers.check_if_due(scope)
        status = await log_checks.status(scope)
        sources = [r["source"] for r in await scope.connection.fetch("SELECT source FROM medicine_cabinets_log_check")]
    assert verdict is not None and verdict.intact
    assert status.kept is not None and status.kept.source == "requested" and status.requested_at is None
    assert sorted(sources) == ["daily", "requested"]


async def keep_head_at(scope: Scope, seq: int) -> None:
    """A kept full check that ended at entry ``seq``."""
    row = await scope.connection.fetchrow(log.ENTRY, scope.tenant, seq)
    verdict = chain.Verdict(True, seq, head=chain.Head(seq, row["hash"]))
    await log_checks.record(scope, verdict, source="daily", started=utcnow(), done=utcnow())


async def test_the_incremental_check_finds_an_entry_altered_after_the_kept_head(
    log_of_250: None, as_owner: Scope
) -> None:
    await keep_head_at(as_owner, 200)
    assert (await log_checks.status(as_owner)).newer_count == 50
    await as_owner.connection.execute("UPDATE medicine_cabinets_log SET detail = 'nurse_only' WHERE seq = 230")
    status = await log_checks.status(as_owner)
    assert status.newer is not None
    assert (status.intact, status.newer.broken_seq, status.newer.reason, status.newer_count) == (
        False,
        230,
        "entry 230 was altered",
        29,
    )


async def test_the_incremental_check_finds_a_broken_link_at_the_kept_head(log_of_250: None, as_owner: Scope) -> None:
    await keep_head_at(as_owner, 200)
    await as_owner.connection.execute(f"UPDATE medicine_cabinets_log SET prev_hash = '{'f' * 64}' WHERE seq = 201")
    newer = (await log_checks.status(as_owner)).newer
    assert newer is not None and (newer.broken_seq, newer.reason) == (201, "entry 201 does not follow entry 200")


async def test_the_incremental_check_finds_the_kept_head_entry_changed(log_of_250: None, as_owner: Scope) -> None:
    await keep_head_at(as_owner, 200)
    await as_owner.connection.execute("UPDATE medicine_cabinets_log SET detail = 'x' WHERE seq = 200")
    newer = (await log_checks.status(as_owner)).newer
    assert newer is not None
    assert (newer.broken_seq, newer.reason) == (200, "entry 200 does not match the last full check")


async def test_the_incremental_check_finds_the_end_cut_off_before_the_kept_head(
    log_of_250: None, as_owner: Scope
) -> None:
    await keep_head_at(as_owner, 200)
    await as_owner.connection.execute("DELETE FROM medicine_cabinets_log WHERE seq >= 150")
    newer = (await log_checks.status(as_owner)).newer
    assert newer is not None and (newer.intact, newer.truncated, newer.checked) == (False, True, 149)


async def test_a_municipality_sees_only_its_own_checks(db: Database, world: World, log_of_250: None) -> None:
    async with db.tenant(world.a.id) as scope:
        await log_checks.full(scope, source="api")
        assert await log_checks.request(scope, now=utcnow(), by=None)
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval(COUNT) == 0
        status = await log_checks.status(scope)
    assert (status.kept, status.requested_at, status.intact) == (None, None, None)
