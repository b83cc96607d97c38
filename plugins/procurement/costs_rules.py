"""How the federation's cost of a shared contract is split among members: the keys, their
parameters, the days they are in force, and the arithmetic (plain Python, no I/O).

A key applies from its ``valid_from`` until the next key's; each key's ``annual_cost_sek`` is
spread per day (each calendar year by its own length, so a whole year costs exactly the annual
cost) over the days it is in force within the period asked for and the contract's own period
(``starts_on`` to ``ends_on``, both included). The cost of those days is split by the key:

* ``fixed``: ``{"shares": {municipality id: percent}}``, the percents summing to 100;
* ``per_inhabitant``: by the participating municipalities' population;
* ``per_use``: ``{"use": "deliveries" | "lockers" | "call_off_quantity"}``, by each participant's
  use in those days (no use at all: equal parts, and the report says so);
* ``mix``: ``{"weights": {method: percent}}`` summing to 100, with the parameters the weighted
  methods need, e.g. ``{"weights": {"fixed": 50, "per_use": 50}, "shares": {...}, "use": "lockers"}``.

Amounts are ``Decimal`` throughout and rounded to öre only at the end, by largest remainder, so
the members' lines always add up to the total.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any
from uuid import UUID

from backend import plugin_api as api

ORE = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_PERIOD_DAYS = 3700  # about ten years


class Method(str, Enum):
    FIXED = "fixed"
    PER_INHABITANT = "per_inhabitant"
    PER_USE = "per_use"
    MIX = "mix"


class Use(str, Enum):
    DELIVERIES = "deliveries"
    LOCKERS = "lockers"
    CALL_OFF_QUANTITY = "call_off_quantity"


@dataclass(frozen=True)
class Parameters:
    shares: dict[UUID, Decimal] = field(default_factory=dict)  # percent per municipality
    use: Use | None = None
    weights: dict[Method, Decimal] = field(default_factory=dict)  # percent per method (mix)

    def as_json(self) -> dict[str, Any]:
        """The stored form (``procurement_cost_key.parameters``)."""
        out: dict[str, Any] = {}
        if self.shares:
            out["shares"] = {str(m): _num(p) for m, p in self.shares.items()}
        if self.use is not None:
            out["use"] = self.use.value
        if self.weights:
            out["weights"] = {m.value: _num(p) for m, p in self.weights.items()}
        return out


@dataclass(frozen=True)
class Key:
    valid_from: date
    method: Method
    parameters: Parameters
    annual_cost_sek: Decimal


@dataclass(frozen=True)
class Segment:
    """Consecutive days (both ends included) under one key."""

    key: Key
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _num(value: Decimal) -> int | float:
    # JSON has one number type; a percent with at most two decimals round-trips exactly.
    return int(value) if value == value.to_integral_value() else float(value)


def _percent(value: Any, where: str) -> Decimal:
    try:
        d = Decimal(str(value)) if isinstance(value, int | float | str) and not isinstance(value, bool) else None
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite() or d <= 0 or d > HUNDRED or d != d.quantize(ORE):
        raise api.ValidationFailed.on(where, f"'{value}' is not a percentage above 0 and at most 100 (two decimals).")
    return d


def _sums_to_hundred(values: Mapping[Any, Decimal], where: str, what: str) -> None:
    total = sum(values.values(), Decimal(0))
    if total != HUNDRED:
        raise api.ValidationFailed.on(where, f"The {what} add up to {_num(total)} %, not 100 %: adjust them.")


def parse_parameters(method: Method, raw: Mapping[str, Any], municipalities: set[UUID]) -> Parameters:
    """Checks a key's parameters against its method and the federation's municipalities."""
    weights = _weights(raw.get("weights")) if method is Method.MIX else {}
    needs = set(weights) if method is Method.MIX else {method}
    allowed = {"weights"} if method is Method.MIX else set()
    allowed |= {"shares"} if Method.FIXED in needs else set()
    allowed |= {"use"} if Method.PER_USE in needs else set()
    extra = sorted(set(raw) - allowed)
    if extra:
        raise api.ValidationFailed.on(
            f"parameters.{extra[0]}", f"A '{method.value}' key takes no '{extra[0]}' (it takes: {sorted(allowed)})."
        )
    shares = _shares(raw.get("shares"), municipalities) if Method.FIXED in needs else {}
    use = _use(raw.get("use")) if Method.PER_USE in needs else None
    return Parameters(shares, use, weights)


def _shares(raw: Any, municipalities: set[UUID]) -> dict[UUID, Decimal]:
    if not isinstance(raw, Mapping) or not raw:
        raise api.ValidationFailed.on("parameters.shares", "Give each paying municipality its share in percent.")
    shares: dict[UUID, Decimal] = {}
    for key, value in raw.items():
        try:
            mid = UUID(str(key))
        except ValueError:
            mid = None
        if mid is None or mid not in municipalities:
            raise api.ValidationFailed.on(
                "parameters.shares", f"'{key}' is not a municipality of this federation: use the ids of its members."
            )
        if mid in shares:
            raise api.ValidationFailed.on("parameters.shares", f"Municipality {mid} is listed twice.")
        shares[mid] = _percent(value, "parameters.shares")
    _sums_to_hundred(shares, "parameters.shares", "shares")
    return shares


def _use(raw: Any) -> Use:
    try:
        return Use(raw)
    except ValueError:
        raise api.ValidationFailed.on(
            "parameters.use", f"Count use as one of {[u.value for u in Use]}, not '{raw}'."
        ) from None


def _weights(raw: Any) -> dict[Method, Decimal]:
    if not isinstance(raw, Mapping) or not raw:
        raise api.ValidationFailed.on("parameters.weights", "A mix needs the weight in percent of each method.")
    weights: dict[Method, Decimal] = {}
    for key, value in raw.items():
        try:
            method = Method(key)
        except ValueError:
            method = Method.MIX
        if method is Method.MIX:
            raise api.ValidationFailed.on(
                "parameters.weights", f"'{key}' is not one of fixed, per_inhabitant, per_use."
            )
        weights[method] = _percent(value, "parameters.weights")
    _sums_to_hundred(weights, "parameters.weights", "weights")
    return weights


def stored_parameters(method: Method, raw: Mapping[str, Any]) -> Parameters:
    """A stored key's parameters (checked when they were set)."""
    weights = {Method(k): Decimal(str(v)) for k, v in (raw.get("weights") or {}).items()}
    shares = {UUID(k): Decimal(str(v)) for k, v in (raw.get("shares") or {}).items()}
    use = Use(raw["use"]) if raw.get("use") else None
    return Parameters(shares, use, weights)


def check_period(start: date, end: date) -> None:
    if end < start:
        raise api.ValidationFailed.on("to", "The period ends before it starts.")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise api.ValidationFailed.on("to", "Ask for at most ten years at a time.")


def segments(keys: list[Key], start: date, end: date, contract_start: date, contract_end: date) -> list[Segment]:
    """The days of [start, end] within the contract, cut where another key comes into force."""
    ordered = sorted(keys, key=lambda k: k.valid_from)
    out = []
    for i, key in enumerate(ordered):
        until = ordered[i + 1].valid_from - timedelta(days=1) if i + 1 < len(ordered) else end
        lo, hi = max(start, contract_start, key.valid_from), min(end, contract_end, until)
        if lo <= hi:
            out.append(Segment(key, lo, hi))
    return out


def prorated(annual: Decimal, start: date, end: date) -> Decimal:
    """The annual amount for the days start..end (both included), each year by its own length."""
    total, day = Decimal(0), start
    while day <= end:
        year_end = min(date(day.year, 12, 31), end)
        length = 366 if _leap(day.year) else 365
        total += annual * Decimal((year_end - day).days + 1) / Decimal(length)
        day = year_end + timedelta(days=1)
    return total


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def fractions(
    method: Method,
    params: Parameters,
    members: list[UUID],
    population: Mapping[UUID, int | None],
    use: Mapping[UUID, Decimal],
) -> tuple[dict[UUID, Decimal], list[str]]:
    """Each municipality's fraction (summing to 1) of a segment's cost, and notes on how."""
    if method is Method.MIX:
        result: dict[UUID, Decimal] = {}
        notes: list[str] = []
        for part, weight in params.weights.items():
            shares, said = fractions(part, params, members, population, use)
            notes += said
            for m, share in shares.items():
                result[m] = result.get(m, Decimal(0)) + share * weight / HUNDRED
        return result, notes
    if method is Method.FIXED:
        return {m: p / HUNDRED for m, p in params.shares.items()}, []
    if not members:
        raise api.ValidationFailed.on("method", "The contract has no participating municipalities: use a fixed key.")
    if method is Method.PER_INHABITANT:
        missing = [m for m in members if population.get(m) is None]
        if missing:
            raise api.ValidationFailed.on(
                "method",
                f"Municipality {missing[0]} has no population recorded: record it before splitting per inhabitant.",
            )
        return _proportional({m: Decimal(population[m] or 0) for m in members}, "population")
    counts = {m: use.get(m, Decimal(0)) for m in members}
    return _proportional(counts, f"use ({params.use.value if params.use else 'use'})")


def _proportional(weights: dict[UUID, Decimal], what: str) -> tuple[dict[UUID, Decimal], list[str]]:
    total = sum(weights.values(), Decimal(0))
    if total == 0:
        equal = Decimal(1) / Decimal(len(weights))
        return {m: equal for m in weights}, [f"No {what} in these days: split in equal parts."]
    return {m: w / total for m, w in weights.items()}, []


def round_lines(exact: Mapping[UUID, Decimal]) -> dict[UUID, Decimal]:
    """Each line to öre, by largest remainder, so the lines add up to the rounded total."""
    total = sum(exact.values(), Decimal(0)).quantize(ORE)
    floors = {m: (v / ORE).to_integral_value(rounding="ROUND_FLOOR") * ORE for m, v in exact.items()}
    left = int((total - sum(floors.values(), Decimal(0))) / ORE)
    order = sorted(exact, key=lambda m: (-(exact[m] - floors[m]), str(m)))
    for m in order[: max(left, 0)]:
        floors[m] += ORE
    return floors
