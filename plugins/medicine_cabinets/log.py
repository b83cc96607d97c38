"""Appending to, reading and verifying the tenant's medication log (inside the caller's
transaction). Appends take a per-tenant transaction lock, so the chain has one order, and anchor
each new head in ``medicine_cabinets_log_anchor`` so that verify finds entries deleted from the end."""

from __future__ import annotations

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


async def entries(
    scope: api.Scope,
    *,
    cabinet_id: UUID | None = None,
    recipient_id: UUID | None = None,
    staff_user_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """The tenant's entries in order, narrowed by any of cabinet, care recipient and staff member."""
    rows = await scope.connection.fetch(
        """SELECT * FROM medicine_cabinets_log WHERE tenant_id = $1
             AND ($2::uuid IS NULL OR cabinet_id = $2) AND ($3::uuid IS NULL OR recipient_id = $3)
             AND ($4::uuid IS NULL OR staff_user_id = $4)
           ORDER BY seq""",
        scope.tenant,
        cabinet_id,
        recipient_id,
        staff_user_id,
    )
    return [dict(r) for r in rows]


async def verify(scope: api.Scope, expected_head: chain.Head | None = None) -> chain.Verdict:
    """Check the whole chain of this tenant against its anchors and, if given, a head a reviewer
    kept from an earlier export. Anchors are read first: each one's entry committed with it."""
    anchors = [chain.Head(r["seq"], r["hash"]) for r in await scope.connection.fetch(ANCHORS, scope.tenant)]
    return chain.verify(scope.tenant, await entries(scope), anchors, expected_head)


def export(tenant_id: UUID, rows: list[dict[str, Any]], verdict: chain.Verdict) -> dict[str, Any]:
    """A review's copy (lex Maria): the entries with their hashes, whether the chain held, and
    its head, which a later review can pass to verify as the expected head."""
    head = verdict.head
    return {
        "tenant_id": str(tenant_id),
        "intact": verdict.intact,
        "broken_seq": verdict.broken_seq,
        "reason": verdict.reason,
        "truncated": verdict.truncated,
        "head": {"seq": head.seq, "hash": head.hash} if head else None,
        "entries": [
            {**{f: chain.plain(r[f]) for f in chain.FIELDS}, "prev_hash": r["prev_hash"], "hash": r["hash"]}
            for r in rows
        ],
    }
