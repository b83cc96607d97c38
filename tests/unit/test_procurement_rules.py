"""The procedure rules without a database: classification against given threshold rows, tender
periods, standstill, framework duration, weights and cost shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from backend.lib import Conflict, ValidationFailed
from plugins.procurement import rules
from plugins.procurement.rules import ContractKind, Procedure, Rate, Threshold, Thresholds

ON = date(2026, 6, 1)
FROM = date(2026, 1, 1)


def table(eur_sek: str = "11.0", eu_services: int = 216_000) -> Thresholds:
    rows = {
        "direct": Threshold("direct", date(2022, 2, 1), Decimal(700_000), "SEK", "LOU 19:2"),
        "direct_documentation": Threshold("direct_documentation", date(2022, 2, 1), Decimal(100_000), "SEK", "19:30"),
        "eu_services": Threshold("eu_services", FROM, Decimal(eu_services), "EUR", "EU"),
        "eu_supplies": Threshold("eu_supplies", FROM, Decimal(216_000), "EUR", "EU"),
        "eu_works": Threshold("eu_works", FROM, Decimal(5_404_000), "EUR", "EU"),
        "eu_social": Threshold("eu_social", FROM, Decimal(750_000), "EUR", "EU"),
    }
    return Thresholds(ON, rows, {"EUR": Rate("EUR", FROM, Decimal(eur_sek), "provisional")})


@pytest.mark.parametrize(
    ("value", "kind", "procedure"),
    [
        (0, ContractKind.SERVICES, Procedure.DIRECT),
        (699_999, ContractKind.SERVICES, Procedure.DIRECT),
        (700_000, ContractKind.SERVICES, Procedure.BELOW_THRESHOLD),
        (2_375_999, ContractKind.SERVICES, Procedure.BELOW_THRESHOLD),  # 216 000 EUR x 11 = 2 376 000 SEK
        (2_376_000, ContractKind.SERVICES, Procedure.OPEN),
        (8_249_999, ContractKind.SOCIAL, Procedure.BELOW_THRESHOLD),  # 750 000 EUR x 11
        (8_250_000, ContractKind.SOCIAL, Procedure.OPEN),
        (59_443_999, ContractKind.WORKS, Procedure.BELOW_THRESHOLD),
        (59_444_000, ContractKind.WORKS, Procedure.OPEN),
    ],
)
def test_the_procedure_follows_the_value_and_the_threshold_of_the_contract_kind(
    value: int, kind: ContractKind, procedure: Procedure
) -> None:
    assert rules.decide(Decimal(value), kind, table()).procedure is procedure


def test_the_eu_threshold_is_converted_at_the_rate_in_force_and_the_explanation_names_it() -> None:
    c = rules.decide(Decimal(2_500_000), ContractKind.SERVICES, table(eur_sek="11.6"))
    assert c.procedure is Procedure.BELOW_THRESHOLD  # 216 000 x 11.6 = 2 505 600
    (direct, eu) = c.used
    assert eu.sek == Decimal("2505600.00") and eu.rate is not None and eu.rate.sek == Decimal("11.6")
    assert direct.sek == Decimal(700_000) and direct.rate is None
    assert "2,505,600.00 SEK" in c.explanation and "eu_services 216,000 EUR" in c.explanation


def test_a_direct_procurement_from_100_000_sek_must_be_documented() -> None:
    assert not rules.decide(Decimal("99999.99"), ContractKind.SERVICES, table()).documentation_required
    c = rules.decide(Decimal(100_000), ContractKind.SERVICES, table())
    assert c.documentation_required and "must be documented" in c.explanation
    assert not rules.decide(Decimal(800_000), ContractKind.SERVICES, table()).documentation_required


def test_a_missing_threshold_or_rate_is_a_conflict_that_says_what_to_enter() -> None:
    t = table()
    without_rate = Thresholds(ON, t.rows, {})
    with pytest.raises(Conflict, match="setExchangeRate"):
        rules.decide(Decimal(1), ContractKind.SERVICES, without_rate)
    without_eu = Thresholds(ON, {k: v for k, v in t.rows.items() if k != "eu_works"}, t.rates)
    with pytest.raises(Conflict, match="setThreshold"):
        rules.decide(Decimal(1), ContractKind.WORKS, without_eu)


def test_minimum_tender_periods_by_procedure_and_way_of_submission() -> None:
    assert rules.min_tender_days(Procedure.OPEN, electronic=True) == 30
    assert rules.min_tender_days(Procedure.OPEN, electronic=False) == 35
    assert rules.min_tender_days(Procedure.BELOW_THRESHOLD, electronic=True) == 10
    assert rules.min_tender_days(Procedure.DIRECT, electronic=False) == 0


def test_a_tender_deadline_inside_the_minimum_period_is_refused_with_the_earliest_allowed() -> None:
    now = datetime(2026, 6, 1, 8, tzinfo=UTC)
    rules.check_tender_deadline(Procedure.OPEN, True, now, now + timedelta(days=30))
    with pytest.raises(ValidationFailed, match="2026-07-06 08:00") as e:
        rules.check_tender_deadline(Procedure.OPEN, False, now, now + timedelta(days=34))
    assert e.value.fields[0].field == "tenderDeadline"
    with pytest.raises(ValidationFailed, match="in the future"):
        rules.check_tender_deadline(Procedure.DIRECT, True, now, now)
    rules.check_tender_deadline(Procedure.DIRECT, True, now, now + timedelta(hours=1))


def test_the_standstill_is_10_days_electronically_and_15_otherwise() -> None:
    decided = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert rules.standstill_end(decided, True) == decided + timedelta(days=10)
    assert rules.standstill_end(decided, False) == decided + timedelta(days=15)


def test_a_framework_agreement_runs_at_most_48_months() -> None:
    rules.check_duration(True, 48)
    rules.check_duration(False, 60)
    with pytest.raises(ValidationFailed, match="48 months"):
        rules.check_duration(True, 49)
    with pytest.raises(ValidationFailed):
        rules.check_duration(False, 0)


def test_weights_must_add_up_to_100() -> None:
    rules.check_weights(Decimal(60), [Decimal(25), Decimal(15)])
    with pytest.raises(ValidationFailed, match="add up to 90") as e:
        rules.check_weights(Decimal(60), [Decimal(30)], where="lot 1")
    assert "lot 1" in e.value.message


@pytest.mark.parametrize(
    ("values", "shares"),
    [
        ([1, 1, 1], ["33.34", "33.33", "33.33"]),
        ([600_000, 300_000, 100_000], ["60.00", "30.00", "10.00"]),
        ([0, 0], ["50.00", "50.00"]),
        ([1_000_000, 0], ["99.99", "0.01"]),
        ([5], ["100.00"]),
        ([], []),
    ],
)
def test_shares_follow_the_values_and_add_up_to_exactly_100(values: list[int], shares: list[str]) -> None:
    result = rules.split_shares([Decimal(v) for v in values])
    assert result == [Decimal(s) for s in shares]
    assert not result or sum(result) == Decimal(100)


def test_many_tiny_shares_still_add_up_to_100() -> None:
    result = rules.split_shares([Decimal(1_000_000)] + [Decimal(0)] * 50)
    assert sum(result) == Decimal(100) and min(result) == Decimal("0.01")
