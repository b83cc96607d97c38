"""Evaluating a procurement's bids after the tender deadline: scored per lot by
``bidding_scoring``, stored in ``procurement_evaluation`` (replacing an earlier run, which gives the
same result), explained per bid. Only the buyer evaluates and reads the evaluation.

The bids are read straight from ``procurement_bid``: once the deadline has passed the database
shows them to the federation; before it, it shows none, and this refuses to evaluate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.procurement import federation
from plugins.procurement.bidding_buyer import buyer_procurement
from plugins.procurement.bidding_scoring import Bid, Model, ModelError, Requirement, Scored, score
from plugins.procurement.bidding_text import when
from plugins.procurement.federation import Caller

EVALUABLE = ("published", "evaluated")


@dataclass(frozen=True)
class Result:
    """One bid's outcome, with the bid itself (readable after the deadline)."""

    lot_id: UUID
    lot_number: int
    lot_title: str
    bid_id: UUID
    vendor_id: UUID
    vendor: str
    price_sek: Decimal
    cost_sek: Decimal | None
    answers: dict[str, Any]
    version: int
    submitted_at: datetime
    qualified: bool
    rank: int | None
    compared_value: Decimal | None
    explanation: dict[str, Any]
    evaluated_at: datetime


@dataclass(frozen=True)
class Evaluation:
    procurement_id: UUID
    status: str
    evaluation_model: str
    quality_method: str
    tender_deadline: datetime | None
    evaluated_at: datetime | None
    results: list[Result]


async def sealed_until(scope: api.Scope, p: Any, now: datetime) -> None:
    """Refuse while the bids are sealed: before the deadline by the caller's clock or the database's."""
    deadline: datetime | None = p["tender_deadline"]
    if deadline is None or p["status"] == "planning":
        raise api.Conflict("The procurement is not published yet: there are no bids to evaluate.")
    db_now: datetime = await scope.connection.fetchval("SELECT now()")
    if now < deadline or db_now < deadline:
        raise api.Conflict(f"The bids are sealed until the tender deadline at {when(deadline)}; evaluate after it.")


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


async def _inputs(scope: api.Scope, procurement_id: UUID) -> tuple[list[Any], list[Any], list[Any]]:
    conn = scope.connection
    lots = await conn.fetch(
        "SELECT id, number FROM procurement_lot WHERE procurement_id = $1 ORDER BY number", procurement_id
    )
    requirements = await conn.fetch(
        "SELECT * FROM procurement_requirement WHERE procurement_id = $1 ORDER BY id", procurement_id
    )
    bids = await conn.fetch(
        """SELECT b.*, v.name AS vendor FROM procurement_bid b
           JOIN procurement_vendor v ON v.federation_id = b.federation_id AND v.id = b.vendor_id
           WHERE b.procurement_id = $1 ORDER BY b.id""",
        procurement_id,
    )
    return lots, requirements, bids


def _score_lot(model: Model, lot_id: UUID, requirements: list[Any], bids: list[Any]) -> list[Scored]:
    reqs = [
        Requirement(r["id"], r["kind"], r["text"], r["weight"], r["deduction_sek"])
        for r in requirements
        if r["lot_id"] is None or r["lot_id"] == lot_id
    ]
    lot_bids = [
        Bid(
            b["id"],
            b["vendor_id"],
            b["vendor"],
            b["price_sek"],
            b["cost_sek"],
            frozenset(UUID(k) for k, a in _json(b["answers"]).items() if a.get("met") is True),
            b["submitted_at"],
        )
        for b in bids
        if b["lot_id"] == lot_id
    ]
    try:
        return score(model, reqs, lot_bids)
    except ModelError as exc:
        raise api.Conflict(f"The bids cannot be evaluated as the procurement is set up: {exc}") from None


async def evaluate(scope: api.Scope, c: Caller, procurement_id: UUID, *, now: datetime) -> Evaluation:
    """Score every lot's bids and store the result, replacing an earlier run; status ``evaluated``."""
    p = await buyer_procurement(scope, c, procurement_id, lock=True)
    await sealed_until(scope, p, now)
    if p["status"] not in EVALUABLE:
        raise api.Conflict(f"The procurement is {p['status']}: its evaluation can no longer change.")
    model = Model(p["evaluation_model"], p["quality_method"], p["price_weight"])
    lots, requirements, bids = await _inputs(scope, procurement_id)
    scored = {lot["id"]: _score_lot(model, lot["id"], requirements, bids) for lot in lots}
    conn = scope.connection
    await conn.execute("DELETE FROM procurement_evaluation WHERE procurement_id = $1", procurement_id)
    await conn.executemany(
        """INSERT INTO procurement_evaluation (federation_id, procurement_id, lot_id, bid_id, vendor_id, qualified,
                                               rank, compared_value, explanation, evaluated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)""",
        [
            (
                scope.federation_id,
                procurement_id,
                lot_id,
                s.bid.id,
                s.bid.vendor_id,
                s.qualified,
                s.rank,
                s.compared_value,
                json.dumps(s.explanation),
                now,
            )
            for lot_id, results in scored.items()
            for s in results
        ],
    )
    await conn.execute(
        "UPDATE procurement SET status = 'evaluated', evaluated_at = $2 WHERE id = $1", procurement_id, now
    )
    summary = {
        str(lot_id): {
            "bids": len(results),
            "qualified": sum(1 for s in results if s.qualified),
            "first": next((str(s.bid.vendor_id) for s in results if s.rank == 1), None),
        }
        for lot_id, results in scored.items()
    }
    await federation.log(
        scope,
        c,
        "procurement.evaluated",
        procurement_id=procurement_id,
        details={"model": model.key, "lots": summary, "rerun": p["status"] == "evaluated"},
    )
    return await read(scope, c, procurement_id, now=now)


async def read(scope: api.Scope, c: Caller, procurement_id: UUID, *, now: datetime) -> Evaluation:
    """The stored evaluation with the bids (the buyer, after the deadline; empty until evaluated)."""
    p = await buyer_procurement(scope, c, procurement_id)
    await sealed_until(scope, p, now)
    rows = await scope.connection.fetch(
        """SELECT e.*, l.number AS lot_number, l.title AS lot_title, v.name AS vendor, b.price_sek, b.cost_sek,
                  b.answers, b.version, b.submitted_at
           FROM procurement_evaluation e
           JOIN procurement_lot l ON l.federation_id = e.federation_id AND l.id = e.lot_id
           JOIN procurement_vendor v ON v.federation_id = e.federation_id AND v.id = e.vendor_id
           JOIN procurement_bid b ON b.federation_id = e.federation_id AND b.id = e.bid_id
           WHERE e.procurement_id = $1
           ORDER BY l.number, e.rank NULLS LAST, b.submitted_at, e.bid_id""",
        procurement_id,
    )
    results = [
        Result(
            r["lot_id"],
            r["lot_number"],
            r["lot_title"],
            r["bid_id"],
            r["vendor_id"],
            r["vendor"],
            r["price_sek"],
            r["cost_sek"],
            _json(r["answers"]),
            r["version"],
            r["submitted_at"],
            r["qualified"],
            r["rank"],
            r["compared_value"],
            _json(r["explanation"]),
            r["evaluated_at"],
        )
        for r in rows
    ]
    return Evaluation(
        procurement_id,
        p["status"],
        p["evaluation_model"],
        p["quality_method"],
        p["tender_deadline"],
        p["evaluated_at"],
        results,
    )
