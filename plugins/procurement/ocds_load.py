"""Reads one procurement's rows for its OCDS export.

Federation-level rows are read in a federation transaction *without* a vendor, i.e. the
open-data view: ``procurement_bid`` shows nothing before the tender deadline (its policy), so the
export relies on the database for sealed bids. The needs that participants joined with are
tenant-owned; they are read afterwards, one municipality's tenant transaction at a time (never
nested), and only for the need a participant linked to this procurement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from tenants.database import Database

Row = Mapping[str, Any]


@dataclass
class Snapshot:
    """Everything the release builder needs, as read at ``now``."""

    now: datetime
    federation: Row
    procurement: Row
    lead: Row | None  # the lead municipality; None: the federation leads
    participants: list[Row]
    lots: list[Row]
    requirements: list[Row]
    documents: list[Row]
    questions: int
    bids: list[Row]  # empty before the deadline: sealed by the database
    evaluation: list[Row]
    awards: list[Row]
    contracts: list[Row]
    followups: list[Row]
    call_offs: list[Row]
    vendors: dict[UUID, Row]
    terminations: dict[UUID, datetime]  # contract id -> when the log says it was terminated
    cancelled_at: datetime | None
    needs: dict[UUID, Row] = field(default_factory=dict)  # municipality id -> its need


async def load(db: Database, federation_id: UUID, procurement_id: UUID, now: datetime) -> Snapshot:
    async with db.federation(federation_id) as scope:
        c = scope.connection
        p = await c.fetchrow(
            "SELECT * FROM procurement WHERE federation_id = $1 AND id = $2", federation_id, procurement_id
        )
        if p is None:
            raise api.NotFound("Procurement", procurement_id)
        fed = await c.fetchrow("SELECT id, slug, name FROM federation WHERE id = $1", federation_id)
        lead = None
        if p["lead_municipality_id"] is not None:
            lead = await c.fetchrow(
                "SELECT id, name, code FROM municipality WHERE id = $1 AND federation_id = $2",
                p["lead_municipality_id"],
                federation_id,
            )
        snap = Snapshot(
            now=now,
            federation=fed,
            procurement=p,
            lead=lead,
            participants=await _all(
                c,
                """SELECT pp.*, m.name, m.code FROM procurement_participant pp
                   JOIN municipality m ON m.id = pp.municipality_id AND m.federation_id = pp.federation_id
                   WHERE pp.procurement_id = $1 AND pp.withdrawn_at IS NULL ORDER BY pp.joined_at, m.name""",
                procurement_id,
            ),
            lots=await _all(
                c, "SELECT * FROM procurement_lot WHERE procurement_id = $1 ORDER BY number", procurement_id
            ),
            requirements=await _all(
                c,
                """SELECT r.*, l.number AS lot_number FROM procurement_requirement r
                   LEFT JOIN procurement_lot l ON l.federation_id = r.federation_id AND l.id = r.lot_id
                   WHERE r.procurement_id = $1 ORDER BY l.number NULLS FIRST, r.kind, r.id""",
                procurement_id,
            ),
            documents=await _all(
                c,
                "SELECT * FROM procurement_document WHERE procurement_id = $1 ORDER BY published_at, id",
                procurement_id,
            ),
            questions=await c.fetchval(
                "SELECT count(*) FROM procurement_question WHERE procurement_id = $1", procurement_id
            ),
            bids=await _all(  # the policy hides every bid until the deadline
                c,
                """SELECT b.id, b.lot_id, b.vendor_id, b.price_sek, b.submitted_at, l.number AS lot_number
                   FROM procurement_bid b
                   JOIN procurement_lot l ON l.federation_id = b.federation_id AND l.id = b.lot_id
                   WHERE b.procurement_id = $1 ORDER BY l.number, b.submitted_at, b.id""",
                procurement_id,
            ),
            evaluation=await _all(
                c,
                "SELECT * FROM procurement_evaluation WHERE procurement_id = $1 ORDER BY lot_id, rank",
                procurement_id,
            ),
            awards=await _all(
                c,
                """SELECT a.*, l.number AS lot_number, l.title AS lot_title FROM procurement_award a
                   JOIN procurement_lot l ON l.federation_id = a.federation_id AND l.id = a.lot_id
                   WHERE a.procurement_id = $1 ORDER BY a.decided_at, l.number""",
                procurement_id,
            ),
            contracts=await _all(
                c, "SELECT * FROM procurement_contract WHERE procurement_id = $1 ORDER BY signed_at, id", procurement_id
            ),
            followups=await _all(
                c,
                """SELECT f.*, s.metric, s.unit, s.severity, m.name AS municipality
                   FROM procurement_followup f
                   JOIN procurement_contract k ON k.federation_id = f.federation_id AND k.id = f.contract_id
                   JOIN procurement_service_level s ON s.federation_id = f.federation_id AND s.id = f.service_level_id
                   JOIN municipality m ON m.id = f.municipality_id
                   WHERE k.procurement_id = $1 ORDER BY f.month, m.name, s.metric, f.service_level_id""",
                procurement_id,
            ),
            call_offs=await _all(
                c,
                """SELECT o.id, o.contract_id, o.municipality_id, o.ocid, o.description, o.quantity, o.value_sek,
                          o.ordered_at, m.name AS municipality, m.code
                   FROM procurement_call_off o
                   JOIN procurement_contract k ON k.federation_id = o.federation_id AND k.id = o.contract_id
                   JOIN municipality m ON m.id = o.municipality_id
                   WHERE k.procurement_id = $1 ORDER BY o.ordered_at, o.id""",
                procurement_id,
            ),
            vendors={
                r["id"]: r
                for r in await c.fetch(
                    """SELECT v.id, v.name, v.org_number FROM procurement_vendor v WHERE v.id IN (
                         SELECT vendor_id FROM procurement_bid WHERE procurement_id = $1
                         UNION SELECT vendor_id FROM procurement_award WHERE procurement_id = $1)""",
                    procurement_id,
                )
            },
            terminations={
                UUID(str(r["contract_id"])): r["at"]
                for r in await c.fetch(
                    """SELECT (details->>'contract_id')::uuid AS contract_id, max(at) AS at FROM procurement_log
                       WHERE procurement_id = $1 AND action LIKE '%terminat%'
                         AND details->>'contract_id' ~* '^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$'
                       GROUP BY 1""",
                    procurement_id,
                )
            },
            cancelled_at=await c.fetchval(
                "SELECT max(at) FROM procurement_log WHERE procurement_id = $1 AND action LIKE '%cancel%'",
                procurement_id,
            ),
        )
    snap.needs = await _needs(db, snap.participants)
    return snap


async def _all(c: Any, sql: str, *args: Any) -> list[Row]:
    return list(await c.fetch(sql, *args))


async def _needs(db: Database, participants: list[Row]) -> dict[UUID, Row]:
    """Each participant's linked need, read in that municipality's own transaction."""
    needs: dict[UUID, Row] = {}
    for p in participants:
        if p["need_id"] is None:
            continue
        async with db.tenant(p["municipality_id"]) as scope:
            row = await scope.connection.fetchrow(
                """SELECT id, category, title, estimated_volume, volume_unit FROM procurement_need
                   WHERE tenant_id = $1 AND id = $2""",
                p["municipality_id"],
                p["need_id"],
            )
        if row is not None:
            needs[p["municipality_id"]] = row
    return needs
