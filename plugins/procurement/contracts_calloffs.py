"""Call-offs (avrop) from a framework contract by a participating municipality.

A call-off touches both worlds: the lockers it covers are the municipality's own (checked in its
tenant transaction), the call-off itself is federation-level (``procurement_call_off``), and the
municipality's own audit log records it. The transactions are never nested: lockers first, then
the call-off, then the audit entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from backend.lib import FieldError
from plugins.procurement import federation
from plugins.procurement.bidding_input import MAX_SEK, money_problem, raise_problems, text_problem
from plugins.procurement.bidding_text import LOCAL, local
from plugins.procurement.federation import Caller
from tenants import audit
from tenants.database import Database

MAX_DESCRIPTION = 1000
MAX_LOCKERS = 1000


@dataclass(frozen=True)
class NewCallOff:
    contract_id: UUID
    quantity: Decimal
    value_sek: Decimal
    description: str
    locker_ids: tuple[UUID, ...]


@dataclass(frozen=True)
class CallOffRecord:
    id: UUID
    contract_id: UUID
    municipality_id: UUID
    ocid: str
    description: str
    quantity: Decimal
    value_sek: Decimal
    locker_ids: list[UUID]
    ordered_at: datetime
    ordered_by: str

    @classmethod
    def of(cls, r: Any) -> CallOffRecord:
        return cls(
            r["id"],
            r["contract_id"],
            r["municipality_id"],
            r["ocid"],
            r["description"],
            r["quantity"],
            r["value_sek"],
            list(r["locker_ids"]),
            r["ordered_at"],
            r["ordered_by"],
        )


def check(new: NewCallOff) -> None:
    problems: list[FieldError | None] = [
        money_problem("input.valueSek", new.value_sek),
        text_problem("input.description", new.description, MAX_DESCRIPTION),
    ]
    try:
        exact = new.quantity.is_finite() and new.quantity == new.quantity.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact or not Decimal(0) < new.quantity <= MAX_SEK:
        problems.append(FieldError("input.quantity", "Give a quantity above 0 with at most two decimals."))
    if len(new.locker_ids) > MAX_LOCKERS:
        problems.append(FieldError("input.lockerIds", f"At most {MAX_LOCKERS} lockers in one call-off."))
    elif len(set(new.locker_ids)) != len(new.locker_ids):
        problems.append(FieldError("input.lockerIds", "A locker is named twice: name each once."))
    raise_problems("The call-off was not placed; nothing changed.", problems)


async def own_lockers(scope: api.Scope, locker_ids: tuple[UUID, ...]) -> None:
    """Every locker must be the municipality's own (its tenant transaction shows no others)."""
    if not locker_ids:
        return
    found = {
        r["id"]
        for r in await scope.connection.fetch(
            "SELECT id FROM lockers_locker WHERE id = ANY($1::uuid[])", list(locker_ids)
        )
    }
    for locker_id in locker_ids:
        if locker_id not in found:
            raise api.NotFound("Locker", locker_id)


async def _participation(scope: api.Scope, procurement_id: UUID, municipality_id: UUID) -> None:
    row = await scope.connection.fetchrow(
        "SELECT withdrawn_at FROM procurement_participant WHERE procurement_id = $1 AND municipality_id = $2",
        procurement_id,
        municipality_id,
    )
    if row is None:
        raise api.PermissionDenied(
            "This municipality does not take part in the procurement behind this contract: only its participants "
            "call off from it."
        )
    if row["withdrawn_at"] is not None:
        raise api.PermissionDenied(
            f"This municipality withdrew from the procurement on {local(row['withdrawn_at'])}: it cannot call off "
            "from the contract."
        )


async def record(
    scope: api.Scope, c: Caller, municipality_id: UUID, new: NewCallOff, *, now: datetime
) -> CallOffRecord:
    """The call-off row, numbered within its procurement (``<ocid>-calloff-<n>``); logged."""
    conn = scope.connection
    ct = await conn.fetchrow("SELECT * FROM procurement_contract WHERE id = $1", new.contract_id)
    if ct is None:
        raise api.NotFound("Contract", new.contract_id)
    p = await conn.fetchrow("SELECT id, ocid FROM procurement WHERE id = $1 FOR UPDATE", ct["procurement_id"])
    await _participation(scope, p["id"], municipality_id)
    today = now.astimezone(LOCAL).date()
    if ct["status"] != "active":
        raise api.Conflict(f"The contract is {ct['status']}: nothing can be called off from it.")
    if not ct["starts_on"] <= today <= ct["ends_on"]:
        raise api.Conflict(f"The contract runs from {ct['starts_on']} to {ct['ends_on']}: call off within that period.")
    if new.locker_ids and not ct["covers_lockers"]:
        raise api.ValidationFailed.on("input.lockerIds", "This contract does not cover lockers: leave lockerIds empty.")
    n = await conn.fetchval(
        """SELECT count(*) FROM procurement_call_off co JOIN procurement_contract ct
             ON ct.federation_id = co.federation_id AND ct.id = co.contract_id WHERE ct.procurement_id = $1""",
        p["id"],
    )
    row = await conn.fetchrow(
        """INSERT INTO procurement_call_off (federation_id, id, contract_id, municipality_id, ocid, description,
                                             quantity, value_sek, locker_ids, ordered_at, ordered_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *""",
        scope.federation_id,
        uuid4(),
        ct["id"],
        municipality_id,
        f"{p['ocid']}-calloff-{n + 1}",
        new.description.strip(),
        new.quantity,
        new.value_sek,
        list(new.locker_ids),
        now,
        c.label[:320],
    )
    calloff = CallOffRecord.of(row)
    await federation.log(
        scope,
        c,
        "procurement.call_off_placed",
        procurement_id=p["id"],
        details={
            "call_off_id": calloff.id,
            "ocid": calloff.ocid,
            "contract_id": ct["id"],
            "quantity": calloff.quantity,
            "value_sek": calloff.value_sek,
            "lockers": len(calloff.locker_ids),
        },
    )
    return calloff


async def place(db: Database, c: Caller, new: NewCallOff, *, now: datetime) -> CallOffRecord:
    """Place a call-off for the caller's municipality: its lockers, the call-off, its audit entry."""
    municipality_id = c.municipality_id
    if municipality_id is None:
        raise api.PermissionDenied("Choose the municipality that calls off (header X-Samverka-Tenant).")
    check(new)
    async with db.tenant(municipality_id) as scope:
        await own_lockers(scope, new.locker_ids)
    async with db.federation(c.federation_id) as scope:
        calloff = await record(scope, c, municipality_id, new, now=now)
    async with db.tenant(municipality_id) as scope:
        await audit.record(
            scope,
            actor=c.principal.actor,
            action="procurement.call_off_placed",
            target_kind="procurement_call_off",
            target_id=calloff.id,
            details={
                "ocid": calloff.ocid,
                "contract_id": str(calloff.contract_id),
                "value_sek": str(calloff.value_sek),
                "locker_ids": [str(x) for x in calloff.locker_ids],
            },
        )
    return calloff


async def of_contracts(scope: api.Scope, contract_ids: Sequence[UUID]) -> dict[UUID, list[CallOffRecord]]:
    rows = await scope.connection.fetch(
        "SELECT * FROM procurement_call_off WHERE contract_id = ANY($1::uuid[]) ORDER BY ordered_at, ocid",
        list(contract_ids),
    )
    result: dict[UUID, list[CallOffRecord]] = {cid: [] for cid in contract_ids}
    for r in rows:
        result[r["contract_id"]].append(CallOffRecord.of(r))
    return result
