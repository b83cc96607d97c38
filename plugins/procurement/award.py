"""The award decision (tilldelningsbeslut): the rank-1 qualified bid of each lot wins, the standstill
period (avtalsspärr) starts, and every bidding vendor is told by e-mail.

The decision is written in the federation's transaction; the e-mails go to the kernel's
notification outbox afterwards, in the transaction of the municipality that sends them (the lead
municipality, else the first participant), because notifications belong to a municipality.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from plugins.procurement import federation, rules
from plugins.procurement.bidding_buyer import buyer_procurement
from plugins.procurement.bidding_text import local, sek_en, sek_sv
from plugins.procurement.federation import Caller
from tenants.database import Database

TOPIC = "procurement.award"
Dispatch = Callable[[api.Scope, list[UUID]], Awaitable[None]]  # hands notification ids to the job queue


@dataclass(frozen=True)
class AwardRecord:
    id: UUID
    procurement_id: UUID
    lot_id: UUID
    lot_number: int
    lot_title: str
    vendor_id: UUID
    vendor: str
    bid_id: UUID
    value_sek: Decimal
    decided_at: datetime
    standstill_ends_at: datetime

    @classmethod
    def of(cls, r: Any) -> AwardRecord:
        return cls(
            r["id"],
            r["procurement_id"],
            r["lot_id"],
            r["lot_number"],
            r["lot_title"],
            r["vendor_id"],
            r["vendor"],
            r["bid_id"],
            r["value_sek"],
            r["decided_at"],
            r["standstill_ends_at"],
        )


@dataclass(frozen=True)
class Notice:
    vendor_id: UUID
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Decision:
    procurement_id: UUID
    decided_at: datetime
    standstill_ends_at: datetime
    awards: list[AwardRecord]
    unawarded_lots: list[UUID]
    notices: list[Notice]
    sender: UUID | None  # the municipality whose outbox sends the notices


AWARDS = """
SELECT a.*, l.number AS lot_number, l.title AS lot_title, v.name AS vendor FROM procurement_award a
JOIN procurement_lot l ON l.federation_id = a.federation_id AND l.id = a.lot_id
JOIN procurement_vendor v ON v.federation_id = a.federation_id AND v.id = a.vendor_id
"""


async def awards(scope: api.Scope, procurement_id: UUID) -> list[AwardRecord]:
    rows = await scope.connection.fetch(AWARDS + " WHERE a.procurement_id = $1 ORDER BY l.number", procurement_id)
    return [AwardRecord.of(r) for r in rows]


def _refusal(status: str) -> api.Conflict:
    if status == "published":
        return api.Conflict("Evaluate the bids first (mutation evaluateProcurement), then award.")
    if status in ("awarded", "contracted"):
        return api.Conflict("The procurement is already awarded; an award decision is made once.")
    return api.Conflict(f"The procurement is {status}: it cannot be awarded.")


async def _sender(scope: api.Scope, p: Any) -> UUID | None:
    if p["lead_municipality_id"] is not None:
        return UUID(str(p["lead_municipality_id"]))
    first = await scope.connection.fetchval(
        """SELECT municipality_id FROM procurement_participant WHERE procurement_id = $1
           ORDER BY withdrawn_at IS NOT NULL, joined_at, municipality_id LIMIT 1""",
        p["id"],
    )
    if first is None:
        first = await scope.connection.fetchval(
            "SELECT id FROM municipality WHERE federation_id = $1 ORDER BY created_at, id LIMIT 1", p["federation_id"]
        )
    return None if first is None else UUID(str(first))


async def award(scope: api.Scope, c: Caller, procurement_id: UUID, *, now: datetime) -> Decision:
    """Award every lot that has a qualified bid to its rank-1 bid; status ``awarded``; logged."""
    p = await buyer_procurement(scope, c, procurement_id, lock=True)
    if p["status"] != "evaluated":
        raise _refusal(p["status"])
    conn = scope.connection
    results = await conn.fetch(
        """SELECT e.lot_id, e.bid_id, e.vendor_id, e.qualified, e.rank, e.explanation, b.price_sek,
                  v.name AS vendor, v.contact_email
           FROM procurement_evaluation e
           JOIN procurement_bid b ON b.federation_id = e.federation_id AND b.id = e.bid_id
           JOIN procurement_vendor v ON v.federation_id = e.federation_id AND v.id = e.vendor_id
           WHERE e.procurement_id = $1""",
        procurement_id,
    )
    winners = [r for r in results if r["qualified"] and r["rank"] == 1]
    if not winners:
        raise api.Conflict(
            "No lot has a qualified bid, so there is nothing to award: cancel the procurement or procure again."
        )
    ends = rules.standstill_end(now, p["electronic"])
    await conn.executemany(
        """INSERT INTO procurement_award (federation_id, id, procurement_id, lot_id, vendor_id, bid_id, value_sek,
                                          decided_at, standstill_ends_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        [
            (
                scope.federation_id,
                uuid4(),
                procurement_id,
                w["lot_id"],
                w["vendor_id"],
                w["bid_id"],
                w["price_sek"],
                now,
                ends,
            )
            for w in winners
        ],
    )
    await conn.execute(
        """UPDATE procurement SET status = 'awarded', award_decided_at = $2, standstill_ends_at = $3
           WHERE id = $1""",
        procurement_id,
        now,
        ends,
    )
    decided = await awards(scope, procurement_id)
    lots = await conn.fetch(
        "SELECT id, number, title FROM procurement_lot WHERE procurement_id = $1 ORDER BY number", procurement_id
    )
    won = {a.lot_id for a in decided}
    notices = _notices(p, lots, decided, results, ends)
    sender = await _sender(scope, p)
    await federation.log(
        scope,
        c,
        "procurement.awarded",
        procurement_id=procurement_id,
        details={
            "awards": [{"lot_id": a.lot_id, "vendor_id": a.vendor_id, "value_sek": a.value_sek} for a in decided],
            "standstill_ends_at": ends,
            "electronic": p["electronic"],
            "notified_vendors": [n.vendor_id for n in notices],
            "notices_sent_by_municipality": sender,
        },
    )
    return Decision(
        procurement_id, now, ends, decided, [lot["id"] for lot in lots if lot["id"] not in won], notices, sender
    )


def _notices(
    p: Any, lots: Sequence[Any], decided: Sequence[AwardRecord], results: Sequence[Any], ends: datetime
) -> list[Notice]:
    """One e-mail per bidding vendor: the winner of each lot, its own outcome, the standstill."""
    by_lot = {a.lot_id: a for a in decided}
    sv = [f"Tilldelningsbeslut i upphandlingen {p['title']} ({p['ocid']})."]
    en = [f"Award decision in the procurement {p['title']} ({p['ocid']})."]
    for lot in lots:
        a = by_lot.get(lot["id"])
        if a is None:
            sv.append(f"Delområde {lot['number']} ({lot['title']}): inget kvalificerat anbud, tilldelas inte.")
            en.append(f"Lot {lot['number']} ({lot['title']}): no qualified bid; not awarded.")
        else:
            sv.append(f"Delområde {lot['number']} ({lot['title']}): tilldelas {a.vendor}, {sek_sv(a.value_sek)}.")
            en.append(f"Lot {lot['number']} ({lot['title']}): awarded to {a.vendor}, {sek_en(a.value_sek)}.")
    number = {lot["id"]: lot["number"] for lot in lots}
    mine: dict[UUID, list[Any]] = {}
    for r in results:
        mine.setdefault(r["vendor_id"], []).append(r)
    notices = []
    for vendor_id, own in mine.items():
        own_sv = [f"Ert anbud, delområde {number[r['lot_id']]}: {_summary(r, 'sv')}" for r in own]
        own_en = [f"Your bid, lot {number[r['lot_id']]}: {_summary(r, 'en')}" for r in own]
        body = "\n".join(
            [
                *sv,
                *own_sv,
                f"Avtalsspärren löper till {local(ends)}; avtal tecknas tidigast då. Den som vill ansöka om "
                "överprövning gör det hos förvaltningsrätten innan avtalsspärren löpt ut.",
                "",
                *en,
                *own_en,
                f"The standstill period runs until {local(ends)} (Swedish time); no contract is signed before then. "
                "An application for review goes to the administrative court before the standstill ends.",
            ]
        )
        subject = f"Tilldelningsbeslut: {p['title']}"[:300]
        notices.append(Notice(vendor_id, own[0]["contact_email"], subject, body))
    return notices


def _summary(r: Any, language: str) -> str:
    explanation = r["explanation"]
    if isinstance(explanation, str):
        explanation = json.loads(explanation)
    return str(explanation.get("summary", {}).get(language, ""))


async def send_notices(db: Database, decision: Decision, dispatch: Dispatch | None = None) -> list[UUID]:
    """Queue the decision's e-mails in the sending municipality's outbox (after the award committed);
    the worker sends them once this transaction commits, or the sweeper does later."""
    if decision.sender is None or not decision.notices:
        return []
    async with db.tenant(decision.sender) as scope:
        ids = [
            await api.notify(
                scope,
                channel="email",
                to=n.to,
                subject=n.subject,
                body=n.body,
                topic=TOPIC,
                subject_kind="procurement",
                subject_id=decision.procurement_id,
            )
            for n in decision.notices
        ]
        if dispatch is not None:
            await dispatch(scope, ids)
    return ids
