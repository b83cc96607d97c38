"""The medication log's kept verdict (``medicine_cabinets_log_check``): a full check of the chain
walks years of entries (about 16 s for a municipality's year), so it runs in the worker (daily per
tenant, and soon after someone asks for one) or when ``verifyMedicationLog`` is called, and its
result is kept: when, up to which head, intact or the first finding. A reader is then shown that
verdict with a cheap incremental check of only the entries after its head (``log.verify(since=)``):
"the whole log was checked at T; N newer entries were checked now"."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.medicine_cabinets import chain, log

FULL_EVERY = timedelta(hours=float(os.environ.get("SAMVERKA_MEDICINE_CABINETS_FULL_CHECK_H", "24")))
RESULT = "checked, head_seq, head_hash, intact, broken_seq, reason, truncated"
KEPT = f"""SELECT done_at, source, {RESULT} FROM medicine_cabinets_log_check
WHERE tenant_id = $1 AND done_at IS NOT NULL ORDER BY done_at DESC, id DESC LIMIT 1"""
WAITING = "SELECT min(requested_at) FROM medicine_cabinets_log_check WHERE tenant_id = $1 AND done_at IS NULL"
REQUEST = """INSERT INTO medicine_cabinets_log_check (tenant_id, source, requested_at, requested_by)
SELECT $1, 'requested', $2, $3
WHERE NOT EXISTS (SELECT 1 FROM medicine_cabinets_log_check WHERE tenant_id = $1 AND done_at IS NULL)"""
FINISH = """UPDATE medicine_cabinets_log_check SET done_at = $2, checked = $3, head_seq = $4, head_hash = $5,
  intact = $6, broken_seq = $7, reason = $8, truncated = $9 WHERE tenant_id = $1 AND done_at IS NULL RETURNING id"""
RECORD = f"""INSERT INTO medicine_cabinets_log_check (tenant_id, source, requested_at, requested_by, done_at, {RESULT})
VALUES ($1, $10, $11, $12, $2, $3, $4, $5, $6, $7, $8, $9)"""


@dataclass(frozen=True)
class Kept:
    """The latest full check: when it ended, what ran it (daily, requested, api) and its verdict."""

    at: datetime
    source: str
    verdict: chain.Verdict


@dataclass(frozen=True)
class Status:
    """The kept verdict, the incremental check of the entries after its head (None when there is no
    intact kept verdict to start from), how many entries that check read, and since when a
    requested full check waits for the worker."""

    kept: Kept | None
    newer: chain.Verdict | None
    newer_count: int
    requested_at: datetime | None

    @property
    def intact(self) -> bool | None:
        """Whether the log holds as far as it was checked; None when it was never checked whole."""
        if self.kept is None:
            return None
        return self.kept.verdict.intact and (self.newer is None or self.newer.intact)


def _verdict(row: Any) -> chain.Verdict:
    head = chain.Head(row["head_seq"], row["head_hash"]) if row["head_seq"] is not None else None
    return chain.Verdict(
        row["intact"], row["checked"], row["broken_seq"], row["reason"], row["truncated"], head
    )  # fmt: skip


async def kept(scope: api.Scope) -> Kept | None:
    row = await scope.connection.fetchrow(KEPT, scope.tenant)
    return Kept(row["done_at"], row["source"], _verdict(row)) if row else None


async def status(scope: api.Scope) -> Status:
    """The kept verdict and, if it was intact, the check of what was appended since (never a full walk)."""
    found, waiting = await kept(scope), await scope.connection.fetchval(WAITING, scope.tenant)
    if found is None or not found.verdict.intact:
        return Status(found, None, 0, waiting)
    since = found.verdict.head
    newer = await log.verify(scope, since=since)
    return Status(found, newer, max(newer.checked - (since.seq if since else 0), 0), waiting)


def chain_only(verdict: chain.Verdict) -> chain.Verdict:
    """The verdict on the chain itself: a finding about a reviewer's expected head (checked last,
    after the chain and its anchors held) says nothing against the log, so it is not kept."""
    if verdict.intact or not verdict.of_expected_head:
        return verdict
    return chain.Verdict(True, verdict.checked, head=verdict.head)


async def record(
    scope: api.Scope, verdict: chain.Verdict, *, source: str, started: datetime, done: datetime, by: UUID | None = None
) -> None:
    """Keep a full check's verdict; requests waiting for one are answered by it as well."""
    head = verdict.head
    result = (verdict.checked, head.seq if head else None, head.hash if head else None, verdict.intact,
              verdict.broken_seq, verdict.reason, verdict.truncated)  # fmt: skip
    answered = await scope.connection.fetch(FINISH, scope.tenant, done, *result)
    if source != "requested" or not answered:
        await scope.connection.execute(RECORD, scope.tenant, done, *result, source, started, by)


async def full(
    scope: api.Scope, *, source: str, by: UUID | None = None, clock: Callable[[], datetime] = utcnow
) -> chain.Verdict:
    """Check the whole log now and keep the verdict."""
    started = clock()
    verdict = await log.verify(scope)
    await record(scope, verdict, source=source, started=started, done=clock(), by=by)
    return verdict


async def request(scope: api.Scope, *, now: datetime, by: UUID | None) -> bool:
    """Ask the worker for a full check; False if one already waits."""
    return str(await scope.connection.execute(REQUEST, scope.tenant, now, by)) == "INSERT 0 1"


async def due(scope: api.Scope, now: datetime) -> str | None:
    """Why a full check should run now: one was requested, or the kept one is older than
    ``FULL_EVERY`` (or there is none and the log has entries); None if none is due."""
    if await scope.connection.fetchval(WAITING, scope.tenant) is not None:
        return "requested"
    found = await kept(scope)
    if found is None:
        return "daily" if await scope.connection.fetchrow(log.HEAD, scope.tenant) else None
    return "daily" if found.at <= now - FULL_EVERY else None
