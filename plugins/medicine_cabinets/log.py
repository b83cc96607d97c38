"""Appending to, reading and verifying the tenant's medication log (inside the caller's
transaction). Appends take a per-tenant transaction lock, so the chain has one order, and anchor
each new head in ``medicine_cabinets_log_anchor`` so that verify finds entries deleted from the end."""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.medicine_cabinets import chain

HEAD = "SELECT seq, hash FROM medicine_cabinets_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1"
INSERT = """
INSERT INTO medicine_cabinets_log (tenant_id, seq, at, kind, cabinet_id, compartment_id, recipient_id,
                                   staff_user_id, request_id, detail, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
"""
ANCHOR = "INSERT INTO medicine_cabinets_log_anchor (tenant_id, seq, hash) VALUES ($1, $2, $3)"
ANCHORS = "SELECT seq, hash FROM medicine_cabinets_log_anchor WHERE tenant_id = $1 ORDER BY seq"
LAST_ANCHOR = "SELECT max(seq) FROM medicine_cabinets_log_anchor WHERE tenant_id = $1"
# The first anchor after $3 and up to $2 whose entry is gone or has another hash (a merge of the two primary keys).
ANCHOR_DIFFERS = """
SELECT a.seq, a.hash, l.hash AS found FROM medicine_cabinets_log_anchor a
  LEFT JOIN medicine_cabinets_log l ON l.tenant_id = a.tenant_id AND l.seq = a.seq
 WHERE a.tenant_id = $1 AND a.seq > $3 AND a.seq <= $2 AND l.hash IS DISTINCT FROM a.hash
 ORDER BY a.seq LIMIT 1
"""
ENTRY = "SELECT * FROM medicine_cabinets_log WHERE tenant_id = $1 AND seq = $2"
NARROWED = """tenant_id = $1 AND ($2::uuid IS NULL OR cabinet_id = $2) AND ($3::uuid IS NULL OR recipient_id = $3)
  AND ($4::uuid IS NULL OR staff_user_id = $4) AND ($5::timestamptz IS NULL OR at >= $5)
  AND ($6::timestamptz IS NULL OR at < $6) AND ($7::bigint IS NULL OR seq <= $7)"""
PAGE = f"SELECT * FROM medicine_cabinets_log WHERE {NARROWED} AND seq > $8 ORDER BY seq LIMIT $9"
# At most $8 rows are counted, so a count over a huge range stops early.
COUNT = f"SELECT count(*) FROM (SELECT 1 FROM medicine_cabinets_log WHERE {NARROWED} LIMIT $8) AS narrowed"
BATCH = 2000  # entries per keyset read: memory stays flat however long the log grows


async def append(
    scope: api.Scope,
    *,
    kind: str,
    at: datetime,
    cabinet_id: UUID | None = None,
    compartment_id: UUID | None = None,
    recipient_id: UUID | None = None,
    staff_user_id: UUID | None = None,
    request_id: UUID | None = None,
    detail: str = "",
) -> int:
    """Chain one entry after the tenant's last; its sequence number."""
    await scope.connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('medicine_cabinets_log:' || $1::uuid::text, 0))", scope.tenant
    )
    head = await scope.connection.fetchrow(HEAD, scope.tenant)
    seq, prev = (head["seq"] + 1, head["hash"]) if head else (1, chain.GENESIS)
    entry: dict[str, Any] = {
        "seq": seq,
        "at": at,
        "kind": kind,
        "cabinet_id": cabinet_id,
        "compartment_id": compartment_id,
        "recipient_id": recipient_id,
        "staff_user_id": staff_user_id,
        "request_id": request_id,
        "detail": detail[:500],
    }
    digest = chain.entry_hash(scope.tenant, entry, prev)
    await scope.connection.execute(INSERT, scope.tenant, *(entry[f] for f in chain.FIELDS), prev, digest)
    await scope.connection.execute(ANCHOR, scope.tenant, seq, digest)
    return seq


@dataclass(frozen=True)
class Narrowing:
    """Which entries: by cabinet, care recipient and staff member, written at or after ``since``
    and before ``until``, and up to entry ``upto`` (the log's end as an export began)."""

    cabinet_id: UUID | None = None
    recipient_id: UUID | None = None
    staff_user_id: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    upto: int | None = None

    def args(self) -> tuple[object, ...]:
        return (self.cabinet_id, self.recipient_id, self.staff_user_id, self.since, self.until, self.upto)


async def batches(
    scope: api.Scope, narrowing: Narrowing = Narrowing(), *, batch: int = BATCH, after: int = 0
) -> AsyncIterator[list[dict[str, Any]]]:
    """The narrowed entries after entry ``after`` in ``seq`` order, ``batch`` at a time (keyset reads
    on the primary key or the filter's index), so neither verify nor an export holds the whole log."""
    while rows := await scope.connection.fetch(PAGE, scope.tenant, *narrowing.args(), after, batch):
        yield [dict(r) for r in rows]
        after = rows[-1]["seq"]


async def count(scope: api.Scope, narrowing: Narrowing, *, at_most: int) -> int:
    """How many entries the narrowing holds, counting no further than ``at_most``."""
    return int(await scope.connection.fetchval(COUNT, scope.tenant, *narrowing.args(), at_most))


async def entries(
    scope: api.Scope,
    *,
    cabinet_id: UUID | None = None,
    recipient_id: UUID | None = None,
    staff_user_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """The tenant's entries in order, narrowed by any of cabinet, care recipient and staff member."""
    narrowing = Narrowing(cabinet_id, recipient_id, staff_user_id)
    return [row async for rows in batches(scope, narrowing) for row in rows]


async def verify(
    scope: api.Scope, expected_head: chain.Head | None = None, *, batch: int = BATCH, since: chain.Head | None = None
) -> chain.Verdict:
    """Check the whole chain of this tenant against its anchors and, if given, a head a reviewer
    kept from an earlier export, in constant memory: the entries are walked a batch at a time and
    the anchors compared with the log in SQL. The last anchor is read first (each anchor's entry
    committed with it), so entries appended during the walk are never taken for a truncation.
    Findings in order: the first broken entry, the first anchor whose entry differs or is gone,
    the last anchor beyond the log's end, then the expected head.

    With ``since`` (the head a full check found intact) only what came after it is checked: that
    the entry ``since`` is still there with its hash, then the entries after it, linked from its
    hash, and the anchors after it. ``checked`` is then the last entry that held."""
    last_anchor = await scope.connection.fetchval(LAST_ANCHOR, scope.tenant)
    watch = (expected_head.seq,) if expected_head else ()
    walk = chain.Walk(scope.tenant, watch=watch, start=since)
    if since is not None and (moved := await _still_there(scope, since)):
        return moved
    async for rows in batches(scope, batch=batch, after=since.seq if since else 0):
        for row in rows:
            if broken := walk.step(row):
                return broken
    findings: list[chain.Verdict | None] = []
    if last_anchor is not None:
        upto, after = min(walk.checked, last_anchor), since.seq if since else 0
        differs = await scope.connection.fetchrow(ANCHOR_DIFFERS, scope.tenant, upto, after)
        if differs:
            findings.append(walk.against(chain.Head(differs["seq"], differs["hash"]), "its anchor", differs["found"]))
        if last_anchor > walk.checked:
            findings.append(walk.against(chain.Head(last_anchor, ""), "its anchor", None))
    if expected_head is not None:
        findings.append(walk.against(expected_head, chain.EXPECTED_HEAD, walk.seen.get(expected_head.seq)))
    return next((f for f in findings if f), chain.Verdict(True, walk.checked, head=walk.head))


async def _still_there(scope: api.Scope, kept: chain.Head) -> chain.Verdict | None:
    """The entry a full check ended at, as it found it (its hash, recomputed from its fields), or
    the finding: gone from the end, missing, or another entry now."""
    row = await scope.connection.fetchrow(ENTRY, scope.tenant, kept.seq)
    if row is None:
        end = await scope.connection.fetchrow(HEAD, scope.tenant)
        last = end["seq"] if end else 0
        if last < kept.seq:
            return chain.Verdict(
                False, last, last + 1, f"the log ends at entry {last} but entry {kept.seq} existed (the last full "
                "check): entries were deleted from the end", truncated=True,
            )  # fmt: skip
        return chain.Verdict(False, kept.seq - 1, kept.seq, f"entry {kept.seq} is missing")
    if row["hash"] != kept.hash or chain.entry_hash(scope.tenant, row, row["prev_hash"]) != row["hash"]:
        return chain.Verdict(False, kept.seq - 1, kept.seq, f"entry {kept.seq} does not match the last full check")
    return None


def exported_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {**{f: chain.plain(row[f]) for f in chain.FIELDS}, "prev_hash": row["prev_hash"], "hash": row["hash"]}


def export_header(tenant_id: UUID, verdict: chain.Verdict) -> dict[str, Any]:
    """Whether the chain held, and its head, which a later review can pass to verify."""
    head = verdict.head
    return {
        "tenant_id": str(tenant_id),
        "intact": verdict.intact,
        "broken_seq": verdict.broken_seq,
        "reason": verdict.reason,
        "truncated": verdict.truncated,
        "head": {"seq": head.seq, "hash": head.hash} if head else None,
    }


def export(tenant_id: UUID, rows: list[dict[str, Any]], verdict: chain.Verdict) -> dict[str, Any]:
    """A review's copy (lex Maria): the entries with their hashes, whether the chain held, and
    its head, which a later review can pass to verify as the expected head."""
    return export_header(tenant_id, verdict) | {"entries": [exported_entry(r) for r in rows]}


async def export_stream(
    tenant_id: UUID, verdict: chain.Verdict, pages: AsyncIterable[list[dict[str, Any]]]
) -> AsyncIterator[bytes]:
    """``export`` as JSON text in pieces, one per batch of entries: the verdict (computed before)
    first, then the entries, so a download of years of log holds one batch at a time."""
    header = json.dumps(export_header(tenant_id, verdict), ensure_ascii=False)
    yield (header[:-1] + ', "entries": [').encode()
    first = True
    async for rows in pages:
        text = ",\n".join(json.dumps(exported_entry(r), ensure_ascii=False) for r in rows)
        yield (("\n" if first else ",\n") + text).encode()
        first = False
    yield b"\n]}\n"
