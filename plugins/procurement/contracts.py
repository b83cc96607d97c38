"""Contracts from award decisions, signed only after the standstill period, and the reads of
contracts. Their service levels are in ``contracts_levels``, call-offs in ``contracts_calloffs``.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from plugins.procurement import federation, rules
from plugins.procurement.access import PEOPLE, READ_SCOPE
from plugins.procurement.bidding_buyer import buyer_procurement
from plugins.procurement.bidding_text import when
from plugins.procurement.federation import Caller


@dataclass(frozen=True)
class NewContract:
    award_id: UUID
    starts_on: date
    ends_on: date
    covers_lockers: bool


@dataclass(frozen=True)
class ContractRecord:
    id: UUID
    ocid: str
    procurement_id: UUID
    lot_id: UUID
    award_id: UUID
    vendor_id: UUID
    vendor: str
    title: str
    value_sek: Decimal
    signed_at: datetime
    starts_on: date
    ends_on: date
    framework: bool
    covers_lockers: bool
    status: str

    @classmethod
    def of(cls, r: Any) -> ContractRecord:
        return cls(
            r["id"],
            r["ocid"],
            r["procurement_id"],
            r["lot_id"],
            r["award_id"],
            r["vendor_id"],
            r["vendor"],
            r["title"],
            r["value_sek"],
            r["signed_at"],
            r["starts_on"],
            r["ends_on"],
            r["framework"],
            r["covers_lockers"],
            r["status"],
        )


CONTRACTS = """
SELECT ct.*, p.ocid, v.name AS vendor FROM procurement_contract ct
JOIN procurement p ON p.federation_id = ct.federation_id AND p.id = ct.procurement_id
JOIN procurement_vendor v ON v.federation_id = ct.federation_id AND v.id = ct.vendor_id
"""


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it has no such day)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_period(starts_on: date, ends_on: date, framework: bool, procured_months: int) -> None:
    """The contract runs forward, a framework at most 48 months, and no longer than was procured."""
    if ends_on <= starts_on:
        raise api.ValidationFailed.on("endsOn", "The contract must end after it starts.")
    limit = add_months(starts_on, rules.FRAMEWORK_MAX_MONTHS)
    if framework and ends_on > limit:
        raise api.ValidationFailed.on(
            "endsOn",
            f"A framework agreement runs at most {rules.FRAMEWORK_MAX_MONTHS} months (LOU 7 kap. 3 §): "
            f"end it on {limit} or earlier.",
        )
    procured = add_months(starts_on, procured_months)
    if ends_on > procured:
        raise api.ValidationFailed.on(
            "endsOn",
            f"The procurement was for {procured_months} months: end the contract on {procured} or earlier.",
        )


async def sign(scope: api.Scope, c: Caller, new: NewContract, *, now: datetime) -> ContractRecord:
    """The contract of one award, once its standstill has ended; the procurement is ``contracted``
    when every awarded lot has its contract. Logged."""
    conn = scope.connection
    a = await conn.fetchrow("SELECT * FROM procurement_award WHERE id = $1", new.award_id)
    if a is None:
        raise api.NotFound("Award", new.award_id)
    p = await buyer_procurement(scope, c, a["procurement_id"], lock=True)
    check_period(new.starts_on, new.ends_on, p["framework"], p["duration_months"])
    if await conn.fetchval("SELECT 1 FROM procurement_contract WHERE award_id = $1", new.award_id):
        raise api.Conflict("This award already has its contract.")
    if now < a["standstill_ends_at"]:
        raise api.Conflict(
            f"The standstill period (avtalsspärr) runs until {when(a['standstill_ends_at'])}: "
            "sign the contract after it ends."
        )
    lot = await conn.fetchrow("SELECT number, title FROM procurement_lot WHERE id = $1", a["lot_id"])
    title = f"{p['title']}: {lot['title']}" if lot and lot["title"] != p["title"] else p["title"]
    cid = uuid4()
    await conn.execute(
        """INSERT INTO procurement_contract (federation_id, id, procurement_id, lot_id, award_id, vendor_id, title,
                                             value_sek, signed_at, starts_on, ends_on, framework, covers_lockers)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)""",
        scope.federation_id,
        cid,
        a["procurement_id"],
        a["lot_id"],
        a["id"],
        a["vendor_id"],
        title[:300],
        a["value_sek"],
        now,
        new.starts_on,
        new.ends_on,
        p["framework"],
        new.covers_lockers,
    )
    await conn.execute(
        """UPDATE procurement SET status = 'contracted' WHERE id = $1 AND NOT EXISTS (
             SELECT 1 FROM procurement_award a WHERE a.procurement_id = $1
             AND NOT EXISTS (SELECT 1 FROM procurement_contract ct WHERE ct.award_id = a.id))""",
        a["procurement_id"],
    )
    await federation.log(
        scope,
        c,
        "procurement.contract_signed",
        procurement_id=a["procurement_id"],
        details={
            "contract_id": cid,
            "award_id": a["id"],
            "vendor_id": a["vendor_id"],
            "starts_on": new.starts_on,
            "ends_on": new.ends_on,
            "covers_lockers": new.covers_lockers,
        },
    )
    return await _load(scope, cid)


def require_reader(c: Caller) -> None:
    """Contracts are read by the federation's admins, the people of its municipalities (and their
    tokens with the read scope), and the contracted vendors (their own)."""
    p = c.principal
    if c.vendor_id is not None or c.federation_admin:
        return
    if p.actor.kind == "token":
        if READ_SCOPE in p.token_scopes:
            return
        raise api.PermissionDenied(f"This needs an API token with the scope '{READ_SCOPE}'.")
    if not any(roles & PEOPLE for roles in p.memberships.values()):
        raise api.PermissionDenied("Contracts are for the federation's municipalities and the contracted vendors.")


async def listing(scope: api.Scope, c: Caller) -> list[ContractRecord]:
    """The federation's contracts for its members; a vendor's own for a vendor."""
    require_reader(c)
    rows = await scope.connection.fetch(
        CONTRACTS + " WHERE ($1::uuid IS NULL OR ct.vendor_id = $1) ORDER BY ct.signed_at DESC, ct.id", c.vendor_id
    )
    return [ContractRecord.of(r) for r in rows]


async def get(scope: api.Scope, c: Caller, contract_id: UUID) -> ContractRecord:
    require_reader(c)
    found = await _load(scope, contract_id)
    if c.vendor_id is not None and found.vendor_id != c.vendor_id:
        raise api.NotFound("Contract", contract_id)
    return found


async def _load(scope: api.Scope, contract_id: UUID) -> ContractRecord:
    row = await scope.connection.fetchrow(CONTRACTS + " WHERE ct.id = $1", contract_id)
    if row is None:
        raise api.NotFound("Contract", contract_id)
    return ContractRecord.of(row)
