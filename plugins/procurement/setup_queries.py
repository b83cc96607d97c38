"""Reading procurements at federation level: the federation's own (for its members), the
published ones (for vendors), and what hangs off each, read for many procurements at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from backend import plugin_api as api

MAX_LIST = 500


@dataclass
class Details:
    """What hangs off the procurements read, by procurement id."""

    lots: dict[UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    requirements: dict[UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    documents: dict[UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    participants: dict[UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    questions: dict[UUID, list[Any]] = field(default_factory=lambda: defaultdict(list))
    names: dict[UUID, str] = field(default_factory=dict)  # municipality id -> name
    federation_name: str = ""


async def listed(
    scope: api.Scope, *, status: str | None, participant: UUID | None = None, published_only: bool = False
) -> list[Any]:
    """Newest first; with ``participant`` only those it takes part in (now); ``published_only``
    leaves out those never published (drafts)."""
    return list(
        await scope.connection.fetch(
            """SELECT p.* FROM procurement p
               WHERE p.federation_id = $1 AND ($2::text IS NULL OR p.status = $2)
                 AND (NOT $4 OR p.published_at IS NOT NULL)
                 AND ($3::uuid IS NULL OR EXISTS (
                   SELECT 1 FROM procurement_participant pp WHERE pp.federation_id = p.federation_id
                     AND pp.procurement_id = p.id AND pp.municipality_id = $3 AND pp.withdrawn_at IS NULL))
               ORDER BY p.created_at DESC, p.id LIMIT $5""",
            scope.federation_id,
            status,
            participant,
            published_only,
            MAX_LIST,
        )
    )


async def one(scope: api.Scope, pid: UUID, *, published_only: bool = False) -> Any:
    row = await scope.connection.fetchrow(
        "SELECT * FROM procurement WHERE federation_id = $1 AND id = $2", scope.federation_id, pid
    )
    if row is None or (published_only and row["published_at"] is None):
        raise api.NotFound("Procurement", pid)
    return row


async def details(scope: api.Scope, ids: list[UUID], *, vendor: UUID | None = None) -> Details:
    """Lots, requirements, documents, participants (not for a ``vendor``) and questions (for a
    vendor only the answered ones and its own) of these procurements."""
    d = Details()
    conn, fed = scope.connection, scope.federation_id
    order = {
        "procurement_lot": "number",
        "procurement_requirement": "kind, text, id",
        "procurement_document": "published_at, id",
        "procurement_question": "asked_at, id",
    }
    for table, target in (
        ("procurement_lot", d.lots),
        ("procurement_requirement", d.requirements),
        ("procurement_document", d.documents),
        ("procurement_question", d.questions),
    ):
        rows = await conn.fetch(
            f"SELECT * FROM {table} WHERE federation_id = $1 AND procurement_id = ANY($2::uuid[])"
            f" ORDER BY {order[table]}",
            fed,
            ids,
        )
        for r in rows:
            if (
                table == "procurement_question"
                and vendor is not None
                and r["answer"] is None
                and r["vendor_id"] != vendor
            ):
                continue
            target[r["procurement_id"]].append(r)
    d.federation_name = await conn.fetchval("SELECT name FROM federation WHERE id = $1", fed) or ""
    names = await conn.fetch("SELECT id, name FROM municipality WHERE federation_id = $1", fed)
    d.names = {r["id"]: r["name"] for r in names}
    if vendor is None:
        rows = await conn.fetch(
            """SELECT * FROM procurement_participant WHERE federation_id = $1 AND procurement_id = ANY($2::uuid[])
               ORDER BY withdrawn_at NULLS FIRST, joined_at, municipality_id""",
            fed,
            ids,
        )
        for r in rows:
            d.participants[r["procurement_id"]].append(r)
    return d
