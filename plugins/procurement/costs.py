"""Cost allocation among members: dated cost keys per contract (``setCostKey``) and each
municipality's cost, use and savings over a period (``costAllocation``). The arithmetic is in
``costs_rules``; use is counted where it lives: deliveries and lockers in each municipality's
own tenant transaction (one at a time, never nested in the federation's), call-offs at
federation level. Savings follow the deliveries plugin's report: deliveries received through
lockers times the municipality's ``minutes_saved_per_delivery``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend import plugin_api as api
from plugins.procurement import federation
from plugins.procurement.costs_report import Allocation, allocate
from plugins.procurement.costs_rules import Key, Method, check_period, parse_parameters, segments, stored_parameters
from plugins.procurement.costs_use import read_use
from plugins.procurement.federation import Caller
from tenants.database import Database

MAX_ANNUAL = Decimal("999999999999.99")


@dataclass(frozen=True)
class CostKeyRecord:
    id: UUID
    contract_id: UUID
    valid_from: date
    method: Method
    parameters: dict[str, Any]
    annual_cost_sek: Decimal
    created_at: datetime

    @classmethod
    def of(cls, r: Any) -> CostKeyRecord:
        params = r["parameters"]
        return cls(
            r["id"],
            r["contract_id"],
            r["valid_from"],
            Method(r["method"]),
            json.loads(params) if isinstance(params, str) else dict(params),
            r["annual_cost_sek"],
            r["created_at"],
        )

    def key(self) -> Key:
        return Key(self.valid_from, self.method, stored_parameters(self.method, self.parameters), self.annual_cost_sek)


def _annual(value: Decimal) -> Decimal:
    try:
        ok = value.is_finite() and 0 <= value <= MAX_ANNUAL and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:
        ok = False
    if not ok:
        raise api.ValidationFailed.on("annualCostSek", "Give the annual cost in SEK, 0 or more, with at most öre.")
    return value


async def _contract(scope: api.Scope, contract_id: UUID, *, lock: bool = False) -> Any:
    row = await scope.connection.fetchrow(
        """SELECT ct.*, p.title AS procurement_title FROM procurement_contract ct
           JOIN procurement p ON p.federation_id = ct.federation_id AND p.id = ct.procurement_id
           WHERE ct.id = $1"""
        + (" FOR UPDATE OF ct" if lock else ""),
        contract_id,
    )
    if row is None:
        raise api.NotFound("Contract", contract_id)
    return row


async def participants(scope: api.Scope, procurement_id: UUID) -> list[Any]:
    """The municipalities that share the contract: its procurement's participants (not withdrawn)."""
    return list(
        await scope.connection.fetch(
            """SELECT m.id, m.name, m.population FROM procurement_participant pp
               JOIN municipality m ON m.id = pp.municipality_id AND m.federation_id = pp.federation_id
               WHERE pp.procurement_id = $1 AND pp.withdrawn_at IS NULL ORDER BY m.name, m.id""",
            procurement_id,
        )
    )


async def set_key(
    scope: api.Scope,
    c: Caller,
    contract_id: UUID,
    valid_from: date,
    method: Method,
    parameters: dict[str, Any],
    annual_cost_sek: Decimal,
) -> CostKeyRecord:
    """A new cost key for a contract from ``valid_from`` on (federation admins). Logged."""
    federation.require_federation_admin(c)
    annual = _annual(annual_cost_sek)
    contract = await _contract(scope, contract_id, lock=True)  # one key change per contract at a time
    if valid_from > contract["ends_on"]:
        raise api.ValidationFailed.on(
            "validFrom", f"The contract ends on {contract['ends_on']}: a key from a later date would never apply."
        )
    known = {
        r["id"]
        for r in await scope.connection.fetch("SELECT id FROM municipality WHERE federation_id = $1", c.federation_id)
    }
    params = parse_parameters(method, parameters, known)
    members = await participants(scope, contract["procurement_id"])
    needs = set(params.weights) if method is Method.MIX else {method}
    if needs & {Method.PER_INHABITANT, Method.PER_USE} and not members:
        raise api.ValidationFailed.on("method", "The contract has no participating municipalities: use a fixed key.")
    if Method.PER_INHABITANT in needs:
        missing = [m["name"] for m in members if m["population"] is None]
        if missing:
            raise api.ValidationFailed.on(
                "method", f"{missing[0]} has no population recorded: record it before splitting per inhabitant."
            )
    if await scope.connection.fetchval(
        "SELECT 1 FROM procurement_cost_key WHERE contract_id = $1 AND valid_from = $2", contract_id, valid_from
    ):
        raise api.Conflict(
            f"This contract already has a cost key from {valid_from}: choose another date "
            "(the latest key in force applies from its date)."
        )
    try:
        row = await scope.connection.fetchrow(
            """INSERT INTO procurement_cost_key (federation_id, id, contract_id, valid_from, method, parameters,
                                                 annual_cost_sek)
               VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) RETURNING *""",
            c.federation_id,
            uuid4(),
            contract_id,
            valid_from,
            method.value,
            json.dumps(params.as_json()),
            annual,
        )
    except asyncpg.UniqueViolationError:  # the same date set at the same moment
        raise api.Conflict(f"This contract already has a cost key from {valid_from}: choose another date.") from None
    record = CostKeyRecord.of(row)
    await federation.log(
        scope,
        c,
        "procurement.cost_key_set",
        procurement_id=contract["procurement_id"],
        details={
            "contract_id": contract_id,
            "key_id": record.id,
            "valid_from": valid_from,
            "method": method.value,
            "parameters": record.parameters,
            "annual_cost_sek": annual,
        },
    )
    return record


async def keys(scope: api.Scope, contract_id: UUID) -> list[CostKeyRecord]:
    await _contract(scope, contract_id)
    rows = await scope.connection.fetch(
        "SELECT * FROM procurement_cost_key WHERE contract_id = $1 ORDER BY valid_from", contract_id
    )
    return [CostKeyRecord.of(r) for r in rows]


async def allocation(db: Database, federation_id: UUID, contract_id: UUID, start: date, end: date) -> Allocation:
    """Every member's cost, use and savings for the days start..end (both included)."""
    check_period(start, end)
    async with db.federation(federation_id) as scope:
        contract = await _contract(scope, contract_id)
        stored = await keys(scope, contract_id)
        members = [r["id"] for r in await participants(scope, contract["procurement_id"])]
        towns = {
            r["id"]: r
            for r in await scope.connection.fetch(
                "SELECT id, name, population FROM municipality WHERE federation_id = $1", federation_id
            )
        }
    cut = segments([k.key() for k in stored], start, end, contract["starts_on"], contract["ends_on"])
    payers = {m for s in cut for m in s.key.parameters.shares if m in towns}
    lines = members + sorted(payers - set(members), key=lambda m: (towns[m]["name"], str(m)))
    periods = [(s.start, s.end) for s in cut] + [(start, end)]
    use = await read_use(db, federation_id, contract_id, lines, periods)
    return allocate(contract_id, contract["title"], cut, members, lines, towns, use, start, end)
