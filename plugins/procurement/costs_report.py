"""The allocation report: per municipality its cost (pro rata per day under the keys in force),
its use, and its savings where the deliveries plugin has data. Plain Python over what
``costs_use`` counted."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from plugins.procurement.costs_rules import (
    HUNDRED,
    ORE,
    Method,
    Segment,
    fractions,
    prorated,
    round_lines,
)
from plugins.procurement.costs_use import Counts, MemberUse


@dataclass(frozen=True)
class Line:
    municipality_id: UUID
    municipality: str
    cost_sek: Decimal
    share_percent: Decimal | None  # of the period's total (None when it is 0)
    deliveries: int | None  # None: the deliveries plugin is not enabled there
    lockers: int | None  # None: the lockers plugin is not enabled there
    call_off_quantity: Decimal
    minutes_per_delivery: Decimal | None
    staff_hours_saved: Decimal | None


@dataclass(frozen=True)
class SegmentCost:
    valid_from: date
    method: Method
    parameters: dict[str, Any]
    start: date
    end: date
    days: int
    annual_cost_sek: Decimal
    cost_sek: Decimal
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Allocation:
    contract_id: UUID
    contract: str
    start: date
    end: date
    total_cost_sek: Decimal
    lines: tuple[Line, ...]
    segments: tuple[SegmentCost, ...]

    def only(self, municipality_id: UUID) -> Allocation:
        """One municipality's own view: its line, and no other member's shares."""
        own = tuple(x for x in self.lines if x.municipality_id == municipality_id)
        segments = tuple(replace(s, parameters=_own_parameters(s.parameters, municipality_id)) for s in self.segments)
        return replace(self, lines=own, segments=segments)


def _own_parameters(parameters: dict[str, Any], municipality_id: UUID) -> dict[str, Any]:
    if "shares" not in parameters:
        return parameters
    mine = {k: v for k, v in parameters["shares"].items() if k == str(municipality_id)}
    return {**parameters, "shares": mine}


def allocate(
    contract_id: UUID,
    contract: str,
    segments: list[Segment],
    members: list[UUID],
    lines: list[UUID],
    towns: Mapping[UUID, Any],
    use: Mapping[UUID, MemberUse],
    start: date,
    end: date,
) -> Allocation:
    """``members`` share by population and use; ``lines`` are everyone reported (members first)."""
    exact = {m: Decimal(0) for m in lines}
    costs = []
    population = {m: towns[m]["population"] for m in members}
    for s in segments:
        days = (s.start, s.end)
        amount = prorated(s.key.annual_cost_sek, s.start, s.end)
        params = s.key.parameters
        counts = {m: use[m].counts.get(days, Counts()).of(params.use) for m in members} if params.use else {}
        shares, notes = fractions(s.key.method, params, members, population, counts)
        for m, share in shares.items():
            exact[m] = exact.get(m, Decimal(0)) + amount * share
        costs.append(
            SegmentCost(
                s.key.valid_from,
                s.key.method,
                params.as_json(),
                s.start,
                s.end,
                s.days,
                s.key.annual_cost_sek,
                amount.quantize(ORE),
                tuple(notes),
            )
        )
    rounded = round_lines(exact)
    total = sum(rounded.values(), Decimal(0))
    return Allocation(
        contract_id,
        contract,
        start,
        end,
        total,
        tuple(_line(m, towns[m]["name"], rounded[m], total, use[m], (start, end)) for m in lines),
        tuple(costs),
    )


def _line(mid: UUID, name: str, cost: Decimal, total: Decimal, use: MemberUse, period: tuple[date, date]) -> Line:
    counts = use.counts.get(period, Counts())
    deliveries = counts.deliveries if use.deliveries_enabled else None
    saved = None
    if deliveries is not None and use.minutes_per_delivery is not None:
        saved = (Decimal(deliveries) * use.minutes_per_delivery / 60).quantize(ORE)
    return Line(
        mid,
        name,
        cost,
        (cost * HUNDRED / total).quantize(ORE) if total else None,
        deliveries,
        counts.lockers if use.lockers_enabled else None,
        counts.call_off_quantity,
        use.minutes_per_delivery,
        saved,
    )
