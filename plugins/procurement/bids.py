"""Sealed bids: a vendor submits and replaces its own bid per lot until the tender deadline.

PostgreSQL seals them (``procurement_bid``'s policies): before the deadline only the bid's own
vendor reads or writes it, after it nobody writes and everyone in the federation reads. These
functions check the same rules first, to answer with a clear error, and rely on the database for
the guarantee: a write it refuses (the deadline passed in between) is answered as the same error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend import plugin_api as api
from backend.lib import FieldError
from plugins.procurement import federation
from plugins.procurement.bidding_input import money_problem, raise_problems, text_problem
from plugins.procurement.bidding_text import when
from plugins.procurement.federation import Caller

MAX_COMMENT = 4000
MAX_ANSWERS = 500


@dataclass(frozen=True)
class Answer:
    requirement_id: str
    met: bool
    comment: str = ""


@dataclass(frozen=True)
class NewBid:
    procurement_id: UUID
    lot_id: UUID
    price_sek: Decimal
    cost_sek: Decimal | None
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class BidRecord:
    id: UUID
    procurement_id: UUID
    lot_id: UUID
    vendor_id: UUID
    price_sek: Decimal
    cost_sek: Decimal | None
    answers: dict[str, dict[str, Any]]  # requirement id -> {"met": bool, "comment": str}
    version: int
    submitted_at: datetime
    deadline: datetime

    @classmethod
    def of(cls, r: Any) -> BidRecord:
        answers = r["answers"]
        return cls(
            r["id"],
            r["procurement_id"],
            r["lot_id"],
            r["vendor_id"],
            r["price_sek"],
            r["cost_sek"],
            json.loads(answers) if isinstance(answers, str) else dict(answers),
            r["version"],
            r["submitted_at"],
            r["deadline"],
        )


def deadline_passed(deadline: datetime) -> api.Conflict:
    return api.Conflict(f"The tender deadline passed at {when(deadline)}; bids can no longer be submitted or changed.")


async def _open_procurement(scope: api.Scope, procurement_id: UUID, now: datetime) -> Any:
    p = await scope.connection.fetchrow(
        "SELECT id, title, status, tender_deadline, evaluation_model FROM procurement WHERE id = $1", procurement_id
    )
    if p is None or p["status"] == "planning":  # drafts are not the vendors' to see
        raise api.NotFound("Procurement", procurement_id)
    deadline: datetime | None = p["tender_deadline"]
    if deadline is not None and now >= deadline:
        raise deadline_passed(deadline)
    if p["status"] != "published" or deadline is None:
        raise api.Conflict(f"The procurement is {p['status']}, not open for bids.")
    return p


def _answers(new: NewBid, requirements: dict[UUID, Any], p: Any) -> tuple[dict[str, dict[str, Any]], list[Any]]:
    """The answers as stored, and every problem with them and with the amounts."""
    price_problem = money_problem("input.priceSek", new.price_sek)
    problems: list[FieldError | None] = [price_problem]
    if new.cost_sek is None:
        if p["evaluation_model"] == "lowest_cost":
            problems.append(
                FieldError(
                    "input.costSek",
                    "This procurement is evaluated on lowest cost: state the total cost "
                    "(the price plus the life-cycle cost).",
                )
            )
    else:
        cost_problem = money_problem("input.costSek", new.cost_sek)
        problems.append(cost_problem)
        if cost_problem is None and price_problem is None and new.cost_sek < new.price_sek:
            problems.append(FieldError("input.costSek", "The total cost includes the price: it cannot be below it."))
    if len(new.answers) > MAX_ANSWERS:
        problems.append(FieldError("input.answers", f"At most {MAX_ANSWERS} answers."))
    stored: dict[str, dict[str, Any]] = {}
    for i, a in enumerate(new.answers):
        where = f"input.answers[{i}]"
        try:
            rid = UUID(a.requirement_id)
        except ValueError:
            rid = None
        if rid is None or rid not in requirements:
            problems.append(FieldError(f"{where}.requirementId", "Not a requirement of this procurement and lot."))
            continue
        if str(rid) in stored:
            problems.append(FieldError(f"{where}.requirementId", "This requirement is answered twice; answer it once."))
            continue
        problems.append(text_problem(f"{where}.comment", a.comment, MAX_COMMENT))
        stored[str(rid)] = {"met": a.met, "comment": a.comment.strip()}
    for rid, r in requirements.items():
        if r["kind"] == "mandatory" and not stored.get(str(rid), {}).get("met", False):
            problems.append(
                FieldError(
                    "input.answers",
                    f"The mandatory requirement '{r['text']}' ({rid}) must be met: answer it with met: true. "
                    "A bid that does not meet every mandatory requirement cannot be submitted.",
                )
            )
    return stored, problems


async def submit(scope: api.Scope, c: Caller, new: NewBid, *, now: datetime) -> BidRecord:
    """Submit the caller's vendor's bid for a lot, or replace it (version + 1); logged without amounts."""
    vendor_id = federation.require_vendor(c)
    p = await _open_procurement(scope, new.procurement_id, now)
    lot = await scope.connection.fetchval(
        "SELECT id FROM procurement_lot WHERE id = $1 AND procurement_id = $2", new.lot_id, new.procurement_id
    )
    if lot is None:
        raise api.NotFound("Lot", new.lot_id)
    rows = await scope.connection.fetch(
        """SELECT id, kind, text FROM procurement_requirement
           WHERE procurement_id = $1 AND (lot_id IS NULL OR lot_id = $2)""",
        new.procurement_id,
        new.lot_id,
    )
    stored, problems = _answers(new, {r["id"]: r for r in rows}, p)
    raise_problems("The bid was not submitted; nothing was stored.", problems)
    try:
        row = await scope.connection.fetchrow(
            """INSERT INTO procurement_bid (federation_id, id, procurement_id, lot_id, vendor_id, deadline, price_sek,
                                            cost_sek, answers, submitted_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10)
               ON CONFLICT (federation_id, procurement_id, lot_id, vendor_id) DO UPDATE
                 SET price_sek = EXCLUDED.price_sek, cost_sek = EXCLUDED.cost_sek, answers = EXCLUDED.answers,
                     version = procurement_bid.version + 1, submitted_at = EXCLUDED.submitted_at
               RETURNING *""",
            scope.federation_id,
            uuid4(),
            new.procurement_id,
            new.lot_id,
            vendor_id,
            p["tender_deadline"],
            new.price_sek,
            new.cost_sek,
            json.dumps(stored),
            now,
        )
    except asyncpg.InsufficientPrivilegeError:  # the sealed policy: the deadline passed meanwhile
        raise deadline_passed(p["tender_deadline"]) from None
    bid = BidRecord.of(row)
    await federation.log(  # no amounts: the log is readable by the whole federation before the deadline
        scope,
        c,
        "procurement.bid_submitted",
        procurement_id=new.procurement_id,
        details={"bid_id": bid.id, "lot_id": new.lot_id, "version": bid.version},
    )
    return bid


async def my_bids(scope: api.Scope, c: Caller, procurement_id: UUID | None = None) -> list[BidRecord]:
    """The caller's vendor's own bids (always readable to it), newest first."""
    vendor_id = federation.require_vendor(c)
    rows = await scope.connection.fetch(
        """SELECT * FROM procurement_bid WHERE vendor_id = $1 AND ($2::uuid IS NULL OR procurement_id = $2)
           ORDER BY submitted_at DESC, id""",
        vendor_id,
        procurement_id,
    )
    return [BidRecord.of(r) for r in rows]
