"""Tender evaluation as plain arithmetic: qualification, the compared value of each bid under the
procurement's model, the ranking, and an explanation in plain words and numbers per bid.

Models (docs/design/procurement.md, "Evaluation"): ``lowest_price`` (the price), ``lowest_cost`` (the
total cost the vendor states), ``best_price_quality`` with ``deduction`` (mervärdesavdrag: the price
less a fixed amount for each quality requirement the bid meets; lowest wins) or ``weighted`` (price
points ``price_weight x lowest price / price`` plus the weight of each met quality requirement;
highest wins). Only qualified bids (every mandatory requirement met) are ranked; equal compared
values rank by the earlier submission. Decimal arithmetic, rounded to four places: the same input
always gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

from plugins.procurement.bidding_text import both, points_en, points_sv, sek_en, sek_sv

PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Requirement:
    id: UUID
    kind: str  # 'mandatory' | 'weighted' | 'deduction'
    text: str
    weight: Decimal | None = None
    deduction_sek: Decimal | None = None


@dataclass(frozen=True)
class Bid:
    id: UUID
    vendor_id: UUID
    vendor: str
    price_sek: Decimal
    cost_sek: Decimal | None
    met: frozenset[UUID]  # the requirements the bid answered as met
    submitted_at: datetime


@dataclass(frozen=True)
class Model:
    evaluation_model: str  # 'lowest_price' | 'lowest_cost' | 'best_price_quality'
    quality_method: str = "deduction"  # 'deduction' | 'weighted' (best_price_quality only)
    price_weight: Decimal | None = None  # 'weighted' only

    @property
    def key(self) -> str:
        return (
            f"best_price_quality/{self.quality_method}"
            if self.evaluation_model == "best_price_quality"
            else (self.evaluation_model)
        )

    @property
    def higher_wins(self) -> bool:
        return self.key == "best_price_quality/weighted"


@dataclass(frozen=True)
class Scored:
    bid: Bid
    qualified: bool
    rank: int | None
    compared_value: Decimal | None
    explanation: dict[str, Any]


class ModelError(ValueError):
    """The procurement's model cannot be applied (e.g. weighted without a price weight)."""


def _q(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN)


def check_model(model: Model, requirements: Sequence[Requirement]) -> None:
    if model.key not in ("lowest_price", "lowest_cost", "best_price_quality/deduction", "best_price_quality/weighted"):
        raise ModelError(f"Unknown evaluation model {model.key}.")
    if model.key == "best_price_quality/weighted":
        if model.price_weight is None:
            raise ModelError("A weighted evaluation needs the price weight.")
        total = model.price_weight + sum(
            (r.weight or Decimal(0) for r in requirements if r.kind == "weighted"), Decimal(0)
        )
        if total != 100:
            raise ModelError(f"The price weight and the requirement weights sum to {total}, not 100.")


def _unmet_mandatory(bid: Bid, requirements: Sequence[Requirement]) -> list[Requirement]:
    return [r for r in requirements if r.kind == "mandatory" and r.id not in bid.met]


def _no_cost(model: Model, bid: Bid) -> bool:
    return model.key == "lowest_cost" and bid.cost_sek is None


def _value(
    model: Model, bid: Bid, requirements: Sequence[Requirement], lowest: Decimal
) -> tuple[Decimal, dict[str, Any]]:
    """The compared value of a qualified bid and how it was reached."""
    key = model.key
    if key == "lowest_price":
        return _q(bid.price_sek), {
            "steps": [
                both(
                    f"Jämförelsevärde = anbudspriset {sek_sv(bid.price_sek)}.",
                    f"Compared value = the price {sek_en(bid.price_sek)}.",
                )
            ]
        }
    if key == "lowest_cost":
        cost = bid.cost_sek if bid.cost_sek is not None else bid.price_sek  # qualified bids state it
        return _q(cost), {
            "steps": [
                both(
                    f"Jämförelsevärde = angiven totalkostnad (pris + livscykelkostnad) {sek_sv(cost)}.",
                    f"Compared value = the stated total cost (price + life-cycle) {sek_en(cost)}.",
                )
            ]
        }
    if key == "best_price_quality/deduction":
        met = [r for r in requirements if r.kind == "deduction" and r.id in bid.met]
        total = sum((r.deduction_sek or Decimal(0) for r in met), Decimal(0))
        value = bid.price_sek - total
        steps = [
            both(
                f"Avdrag {sek_sv(r.deduction_sek or Decimal(0))} för uppfyllt krav: {r.text}",
                f"Deduction {sek_en(r.deduction_sek or Decimal(0))} for the met requirement: {r.text}",
            )
            for r in met
        ]
        steps.append(
            both(
                f"Jämförelsepris = {sek_sv(bid.price_sek)} - {sek_sv(total)} = {sek_sv(value)}.",
                f"Compared price = {sek_en(bid.price_sek)} - {sek_en(total)} = {sek_en(value)}.",
            )
        )
        deductions = [{"requirement_id": str(r.id), "text": r.text, "deduction_sek": str(r.deduction_sek)} for r in met]
        return _q(value), {"deductions": deductions, "deduction_total_sek": str(total), "steps": steps}
    weight = model.price_weight or Decimal(0)
    price_points = (
        weight
        if bid.price_sek == lowest
        else (Decimal(0) if bid.price_sek == 0 or lowest == 0 else weight * lowest / bid.price_sek)
    )
    price_points = _q(price_points)
    met_w = [r for r in requirements if r.kind == "weighted" and r.id in bid.met]
    quality = sum((r.weight or Decimal(0) for r in met_w), Decimal(0))
    value = _q(price_points + quality)
    steps = [
        both(
            f"Prispoäng = {weight} x {sek_sv(lowest)} / {sek_sv(bid.price_sek)} = {points_sv(price_points)}.",
            f"Price points = {weight} x {sek_en(lowest)} / {sek_en(bid.price_sek)} = {points_en(price_points)}.",
        )
    ]
    steps += [
        both(f"{r.weight} poäng för uppfyllt krav: {r.text}", f"{r.weight} points for the met requirement: {r.text}")
        for r in met_w
    ]
    steps.append(both(f"Summa = {points_sv(value)} av 100.", f"Total = {points_en(value)} of 100."))
    quality_detail = [
        {"requirement_id": str(r.id), "text": r.text, "weight": str(r.weight), "met": r.id in bid.met}
        for r in requirements
        if r.kind == "weighted"
    ]
    return value, {
        "price_points": str(price_points),
        "quality_points": str(quality),
        "quality": quality_detail,
        "lowest_price_sek": str(lowest),
        "steps": steps,
    }


def score(model: Model, requirements: Sequence[Requirement], bids: Iterable[Bid]) -> list[Scored]:
    """Every bid of one lot, scored and ranked: qualified bids first by rank, then the others."""
    check_model(model, requirements)
    all_bids = sorted(bids, key=lambda b: (b.submitted_at, str(b.id)))
    qualified = [b for b in all_bids if not _unmet_mandatory(b, requirements) and not _no_cost(model, b)]
    lowest = min((b.price_sek for b in qualified), default=Decimal(0))
    values = {b.id: _value(model, b, requirements, lowest) for b in qualified}
    sign = -1 if model.higher_wins else 1
    ranked = sorted(qualified, key=lambda b: (sign * values[b.id][0], b.submitted_at, str(b.id)))
    result: list[Scored] = []
    for i, b in enumerate(ranked):
        value, detail = values[b.id]
        steps = list(detail.pop("steps"))
        ties = [(j, o) for j, o in enumerate(ranked) if o.id != b.id and values[o.id][0] == value]
        steps += [_tie(b, o, ahead=j < i) for j, o in ties]
        summary = both(
            f"Kvalificerat. Plats {i + 1} av {len(ranked)} med jämförelsevärdet {_shown_sv(model, value)}.",
            f"Qualified. Rank {i + 1} of {len(ranked)} with the compared value {_shown_en(model, value)}.",
        )
        explanation = _explanation(model, b, True, i + 1, value, summary, steps, detail, tie=bool(ties))
        result.append(Scored(b, True, i + 1, value, explanation))
    chosen = {b.id for b in qualified}
    result += [_not_qualified(model, b, requirements) for b in all_bids if b.id not in chosen]
    return result


def _tie(b: Bid, other: Bid, *, ahead: bool) -> dict[str, str]:
    """Why ``b`` ranks after (``ahead``: the other is ahead) or before an equal bid."""
    at = b.submitted_at.isoformat()
    if ahead:
        return both(
            f"Samma jämförelsevärde som {other.vendor}; rangordnas efter eftersom anbudet lämnades senare ({at}).",
            f"Same compared value as {other.vendor}; ranked after it because this bid was submitted later ({at}).",
        )
    return both(
        f"Samma jämförelsevärde som {other.vendor}; rangordnas före eftersom anbudet lämnades tidigare ({at}).",
        f"Same compared value as {other.vendor}; ranked before it because this bid was submitted earlier ({at}).",
    )


def _not_qualified(model: Model, b: Bid, requirements: Sequence[Requirement]) -> Scored:
    unmet = _unmet_mandatory(b, requirements)
    if unmet:
        texts = "; ".join(r.text for r in unmet)
        summary = both(
            f"Ej kvalificerat: uppfyller inte ska-kraven: {texts}.",
            f"Not qualified: does not meet the mandatory requirements: {texts}.",
        )
    else:
        summary = both(
            "Ej kvalificerat: anbudet anger ingen totalkostnad, som utvärderingen bygger på.",
            "Not qualified: the bid states no total cost, on which the evaluation is based.",
        )
    detail = {"unmet_mandatory": [{"requirement_id": str(r.id), "text": r.text} for r in unmet]}
    return Scored(b, False, None, None, _explanation(model, b, False, None, None, summary, [], detail))


def _shown_sv(model: Model, value: Decimal) -> str:
    return points_sv(value) if model.higher_wins else sek_sv(value)


def _shown_en(model: Model, value: Decimal) -> str:
    return points_en(value) if model.higher_wins else sek_en(value)


def _explanation(
    model: Model,
    bid: Bid,
    qualified: bool,
    rank: int | None,
    value: Decimal | None,
    summary: dict[str, str],
    steps: list[dict[str, str]],
    detail: dict[str, Any],
    *,
    tie: bool = False,
) -> dict[str, Any]:
    return {
        "model": model.key,
        "vendor": bid.vendor,
        "qualified": qualified,
        "rank": rank,
        "price_sek": str(bid.price_sek),
        "cost_sek": None if bid.cost_sek is None else str(bid.cost_sek),
        "compared_value": None if value is None else str(value),
        "lower_is_better": not model.higher_wins,
        "submitted_at": bid.submitted_at.isoformat(),
        "tie_broken_by_submission_time": tie,
        "summary": summary,
        "steps": steps,
        **detail,
    }
