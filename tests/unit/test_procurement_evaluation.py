"""The evaluation arithmetic, checked against results computed by hand for each model."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from plugins.procurement.bidding_scoring import Bid, Model, ModelError, Requirement, Scored, score

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
MANDATORY = Requirement(uuid.uuid4(), "mandatory", "Skåpen larmar vid temperaturavvikelse")


def bid(
    vendor: str, price: int, *, met: tuple[Requirement, ...] = (MANDATORY,), minute: int = 0, cost: int | None = None
) -> Bid:
    return Bid(
        uuid.uuid4(),
        uuid.uuid4(),
        vendor,
        Decimal(price),
        None if cost is None else Decimal(cost),
        frozenset(r.id for r in met),
        T0 + timedelta(minutes=minute),
    )


def outcome(results: list[Scored]) -> list[tuple[str, bool, int | None, Decimal | None]]:
    return [(s.bid.vendor, s.qualified, s.rank, s.compared_value) for s in results]


def test_lowest_price_ranks_by_price_and_leaves_out_a_bid_missing_a_mandatory_requirement() -> None:
    bids = [bid("A", 1_000_000, minute=1), bid("B", 900_000, minute=2), bid("C", 800_000, met=(), minute=3)]
    results = score(Model("lowest_price"), [MANDATORY], bids)
    assert outcome(results) == [
        ("B", True, 1, Decimal("900000.0000")),
        ("A", True, 2, Decimal("1000000.0000")),
        ("C", False, None, None),
    ]
    c = results[2].explanation
    assert c["unmet_mandatory"] == [{"requirement_id": str(MANDATORY.id), "text": MANDATORY.text}]
    assert "Skåpen larmar" in c["summary"]["sv"] and "does not meet" in c["summary"]["en"]
    assert results[0].explanation["summary"]["en"] == "Qualified. Rank 1 of 2 with the compared value SEK 900,000.00."


def test_lowest_cost_ranks_by_the_stated_total_cost_not_the_price() -> None:
    bids = [bid("A", 900_000, cost=1_300_000), bid("B", 1_000_000, cost=1_200_000, minute=1), bid("C", 1, minute=2)]
    results = score(Model("lowest_cost"), [MANDATORY], bids)
    assert outcome(results) == [
        ("B", True, 1, Decimal("1200000.0000")),
        ("A", True, 2, Decimal("1300000.0000")),
        ("C", False, None, None),  # states no total cost
    ]
    assert "ingen totalkostnad" in results[2].explanation["summary"]["sv"]


def test_deduction_model_subtracts_each_met_quality_requirement_and_breaks_ties_by_submission_time() -> None:
    d1 = Requirement(uuid.uuid4(), "deduction", "Kundtjänst på svenska dygnet runt", deduction_sek=Decimal(50_000))
    d2 = Requirement(uuid.uuid4(), "deduction", "Fossilfria servicebilar", deduction_sek=Decimal(120_000))
    bids = [
        bid("A", 1_000_000, met=(MANDATORY, d1, d2), minute=1),  # 1 000 000 - 170 000 = 830 000
        bid("B", 900_000, minute=2),  # no deduction: 900 000
        bid("C", 950_000, met=(MANDATORY, d2), minute=3),  # 950 000 - 120 000 = 830 000, later than A
    ]
    results = score(Model("best_price_quality", "deduction"), [MANDATORY, d1, d2], bids)
    assert outcome(results) == [
        ("A", True, 1, Decimal("830000.0000")),
        ("C", True, 2, Decimal("830000.0000")),
        ("B", True, 3, Decimal("900000.0000")),
    ]
    a, c = results[0].explanation, results[1].explanation
    assert a["deduction_total_sek"] == "170000" and len(a["deductions"]) == 2
    assert a["tie_broken_by_submission_time"] and c["tie_broken_by_submission_time"]
    assert any("rangordnas före" in s["sv"] for s in a["steps"])
    assert any("ranked after it because this bid was submitted later" in s["en"] for s in c["steps"])
    assert "Jämförelsepris = 1 000 000,00 kr - 170 000,00 kr = 830 000,00 kr." in [s["sv"] for s in a["steps"]]


def test_weighted_model_gives_price_points_relative_to_the_lowest_price_plus_quality_weights() -> None:
    w1 = Requirement(uuid.uuid4(), "weighted", "Servicefönster dygnet runt", weight=Decimal(25))
    w2 = Requirement(uuid.uuid4(), "weighted", "Reservdelar inom 24 h", weight=Decimal(15))
    bids = [
        bid("A", 1_000_000, met=(MANDATORY, w1, w2)),  # 60 x 800 000 / 1 000 000 = 48 + 40 = 88
        bid("B", 800_000, met=(MANDATORY, w2), minute=1),  # 60 + 15 = 75
        bid("C", 1_200_000, met=(MANDATORY, w1), minute=2),  # 60 x 800 000 / 1 200 000 = 40 + 25 = 65
        bid("D", 900_000, minute=3),  # 60 x 800 000 / 900 000 = 53.33333... -> 53.3333
    ]
    results = score(Model("best_price_quality", "weighted", Decimal(60)), [MANDATORY, w1, w2], bids)
    assert outcome(results) == [
        ("A", True, 1, Decimal("88.0000")),
        ("B", True, 2, Decimal("75.0000")),
        ("C", True, 3, Decimal("65.0000")),
        ("D", True, 4, Decimal("53.3333")),
    ]
    a = results[0].explanation
    assert a["price_points"] == "48.0000" and a["quality_points"] == "40" and a["lowest_price_sek"] == "800000"
    assert not a["lower_is_better"]
    assert results[3].explanation["summary"]["sv"] == "Kvalificerat. Plats 4 av 4 med jämförelsevärdet 53,3333 poäng."


def test_a_free_offer_gets_every_price_point_and_the_others_none() -> None:
    w = Requirement(uuid.uuid4(), "weighted", "Utbildning ingår", weight=Decimal(30))
    results = score(
        Model("best_price_quality", "weighted", Decimal(70)), [w], [bid("A", 0, met=()), bid("B", 10, met=(w,))]
    )
    assert outcome(results) == [("A", True, 1, Decimal("70.0000")), ("B", True, 2, Decimal("30.0000"))]


def test_equal_prices_rank_the_earlier_submission_first() -> None:
    late, early = bid("Sen AB", 500_000, minute=10), bid("Tidig AB", 500_000, minute=5)
    results = score(Model("lowest_price"), [MANDATORY], [late, early])
    assert [(s.bid.vendor, s.rank) for s in results] == [("Tidig AB", 1), ("Sen AB", 2)]


def test_the_same_bids_in_any_order_give_the_same_result() -> None:
    d = Requirement(uuid.uuid4(), "deduction", "Miljöcertifiering", deduction_sek=Decimal("12345.67"))
    bids = [
        bid(f"V{i}", 100_000 + 1_000 * (i % 4), met=(MANDATORY, d) if i % 3 else (MANDATORY,), minute=i % 5)
        for i in range(12)
    ]
    model = Model("best_price_quality", "deduction")
    first = score(model, [MANDATORY, d], bids)
    shuffled = bids[:]
    random.Random(7).shuffle(shuffled)
    again = score(model, [MANDATORY, d], shuffled)
    assert [(s.bid.id, s.rank, s.compared_value, s.explanation) for s in first] == [
        (s.bid.id, s.rank, s.compared_value, s.explanation) for s in again
    ]


def test_a_weighted_model_whose_weights_do_not_sum_to_100_is_refused() -> None:
    w = Requirement(uuid.uuid4(), "weighted", "Kvalitet", weight=Decimal(30))
    with pytest.raises(ModelError, match="sum to 90, not 100"):
        score(Model("best_price_quality", "weighted", Decimal(60)), [w], [bid("A", 1)])
    with pytest.raises(ModelError, match="needs the price weight"):
        score(Model("best_price_quality", "weighted", None), [w], [bid("A", 1)])
