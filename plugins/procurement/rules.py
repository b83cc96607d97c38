"""The procedure rules of LOU (2016:1145) as procurement applies them: which procedure an
estimated value calls for on a date (from the dated threshold and exchange-rate tables), the
minimum tender period, the standstill after an award decision, the longest framework agreement,
the weights of a weighted evaluation, and how cost shares are split.

The decisions are pure functions of their inputs (``decide``, ``earliest_deadline``, ...); the
database functions only read the rows in force (``thresholds_on``) or add new dated rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from enum import Enum

from backend.lib import Conflict, ValidationFailed
from tenants.database import Scope

FRAMEWORK_MAX_MONTHS = 48  # LOU 7 kap. 3 §
STANDSTILL_DAYS = {True: 10, False: 15}  # LOU 20 kap. 1 §: sent electronically / otherwise
CENT = Decimal("0.01")
HUNDRED = Decimal(100)


class ContractKind(str, Enum):
    SERVICES = "services"
    SUPPLIES = "supplies"
    WORKS = "works"
    SOCIAL = "social"


class Procedure(str, Enum):
    DIRECT = "direct"
    BELOW_THRESHOLD = "below_threshold"
    OPEN = "open"


EU_KIND = {k: f"eu_{k.value}" for k in ContractKind}
THRESHOLD_KINDS = ("direct", "direct_documentation", *EU_KIND.values())


@dataclass(frozen=True)
class Threshold:
    kind: str
    valid_from: date
    amount: Decimal
    currency: str
    source: str


@dataclass(frozen=True)
class Rate:
    currency: str
    valid_from: date
    sek: Decimal
    source: str


@dataclass(frozen=True)
class UsedThreshold:
    """A threshold row a classification compared against, with its amount in SEK."""

    threshold: Threshold
    sek: Decimal
    rate: Rate | None  # the exchange rate used, when the row is not in SEK


@dataclass(frozen=True)
class Classification:
    procedure: Procedure
    value_sek: Decimal
    contract_kind: ContractKind
    on: date
    documentation_required: bool
    used: tuple[UsedThreshold, ...]
    explanation: str


@dataclass(frozen=True)
class Thresholds:
    """The threshold and exchange-rate rows in force on one date."""

    on: date
    rows: Mapping[str, Threshold]
    rates: Mapping[str, Rate]

    def used(self, kind: str) -> UsedThreshold:
        row = self.rows.get(kind)
        if row is None:
            raise Conflict(
                f"No '{kind}' threshold is in force on {self.on}: a federation administrator enters it "
                "(mutation setThreshold)."
            )
        if row.currency == "SEK":
            return UsedThreshold(row, row.amount, None)
        rate = self.rates.get(row.currency)
        if rate is None:
            raise Conflict(
                f"No {row.currency} exchange rate is in force on {self.on}: a federation administrator enters it "
                "(mutation setExchangeRate)."
            )
        return UsedThreshold(row, (row.amount * rate.sek).quantize(CENT), rate)


def _describe(u: UsedThreshold) -> str:
    t = u.threshold
    text = f"{t.kind} {t.amount:,.0f} {t.currency}"
    if u.rate is not None:
        text += f" * {u.rate.sek} SEK/{t.currency} (rate from {u.rate.valid_from}) = {u.sek:,.2f} SEK"
    return f"{text} (from {t.valid_from}; {t.source})"


def decide(value_sek: Decimal, kind: ContractKind, thresholds: Thresholds) -> Classification:
    """The procedure for an estimated value (all participants, the whole duration) on a date."""
    if value_sek < 0:
        raise ValidationFailed.on("estimatedValueSek", "An estimated value cannot be negative.")
    direct = thresholds.used("direct")
    documentation = thresholds.used("direct_documentation")
    eu = thresholds.used(EU_KIND[kind])
    if value_sek < direct.sek:
        procedure = Procedure.DIRECT
        used: tuple[UsedThreshold, ...] = (direct, documentation)
        why = f"{value_sek:,.2f} SEK is below the direct-procurement limit"
    elif value_sek < eu.sek:
        procedure, used = Procedure.BELOW_THRESHOLD, (direct, eu)
        why = f"{value_sek:,.2f} SEK is at or above the direct-procurement limit and below the EU threshold"
    else:
        procedure, used = Procedure.OPEN, (eu,)
        why = f"{value_sek:,.2f} SEK is at or above the EU threshold for {kind.value}"
    required = procedure is Procedure.DIRECT and value_sek >= documentation.sek
    explanation = f"{why} on {thresholds.on}: {procedure.value}. Compared with " + "; ".join(map(_describe, used))
    if required:
        explanation += ". A direct procurement of this value must be documented before it is published."
    return Classification(procedure, value_sek, kind, thresholds.on, required, used, explanation + ".")


def min_tender_days(procedure: Procedure, electronic: bool) -> int:
    """Open procedure: 35 days, 30 when tenders come electronically (LOU 9 kap. 1-3 §§); below the
    threshold a reasonable time, which we hold to at least 10 days; direct: none."""
    if procedure is Procedure.OPEN:
        return 30 if electronic else 35
    return 10 if procedure is Procedure.BELOW_THRESHOLD else 0


def check_tender_deadline(procedure: Procedure, electronic: bool, published_at: datetime, deadline: datetime) -> None:
    days = min_tender_days(procedure, electronic)
    earliest = published_at + timedelta(days=days)
    if deadline <= published_at or deadline < earliest:
        way = "electronic" if electronic else "non-electronic"
        rule = f"at least {days} days for a {procedure.value} procedure with {way} tenders" if days else "in the future"
        raise ValidationFailed.on(
            "tenderDeadline", f"The tender deadline must be {rule}: choose {earliest:%Y-%m-%d %H:%M} UTC or later."
        )


def standstill_end(decided_at: datetime, electronic: bool) -> datetime:
    """No contract may be signed before this (avtalsspärr)."""
    return decided_at + timedelta(days=STANDSTILL_DAYS[electronic])


def check_duration(framework: bool, months: int) -> None:
    if not 1 <= months <= 120:
        raise ValidationFailed.on("durationMonths", "A contract runs 1 to 120 months.")
    if framework and months > FRAMEWORK_MAX_MONTHS:
        raise ValidationFailed.on(
            "durationMonths",
            f"A framework agreement runs at most {FRAMEWORK_MAX_MONTHS} months (LOU 7 kap. 3 §): shorten it.",
        )


def check_weights(price_weight: Decimal | None, weights: Sequence[Decimal], where: str = "") -> None:
    """Weighted evaluation: the price weight and the requirement weights add up to 100."""
    total = (price_weight or Decimal(0)) + sum(weights, Decimal(0))
    if total != HUNDRED:
        at = f" for {where}" if where else ""
        raise ValidationFailed.on(
            "priceWeight",
            f"The price weight ({price_weight or 0}) and the weighted requirements ({sum(weights, Decimal(0))})"
            f"{at} add up to {total}, not 100: change the weights so they sum to 100.",
        )


def split_shares(values: Sequence[Decimal]) -> list[Decimal]:
    """Percent shares proportional to ``values`` that add up to exactly 100.00, each at least
    0.01 (equal shares when every value is zero); largest remainders get the spare cents."""
    if not values:
        return []
    n = len(values)
    if n > 10_000:
        raise ValidationFailed("At most 10 000 participants share a procurement.")
    total = sum(values, Decimal(0))
    weights = list(values) if total > 0 else [Decimal(1)] * n
    total = sum(weights, Decimal(0))
    exact = [w * HUNDRED / total for w in weights]
    shares = [max(e.quantize(CENT, rounding=ROUND_DOWN), CENT) for e in exact]
    spare = HUNDRED - sum(shares, Decimal(0))
    order = sorted(range(n), key=lambda i: (exact[i] - shares[i], -i), reverse=True)
    step = CENT if spare > 0 else -CENT
    if spare < 0:  # the 0.01 floors overshot: take back from the most rounded-up first
        order.reverse()
    i = 0
    while spare != 0:
        k = order[i % n]
        if step > 0 or shares[k] > CENT:
            shares[k] += step
            spare -= step
        i += 1
    return shares


# --- The dated tables --------------------------------------------------------------------------


async def thresholds_on(scope: Scope, on: date) -> Thresholds:
    """The threshold and exchange-rate rows in force on ``on`` (reference data, any transaction)."""
    conn = scope.connection
    rows = await conn.fetch(
        """SELECT DISTINCT ON (kind) kind, valid_from, amount, currency, source FROM procurement_threshold
           WHERE valid_from <= $1 ORDER BY kind, valid_from DESC""",
        on,
    )
    rates = await conn.fetch(
        """SELECT DISTINCT ON (currency) currency, valid_from, sek, source FROM procurement_exchange_rate
           WHERE valid_from <= $1 ORDER BY currency, valid_from DESC""",
        on,
    )
    return Thresholds(
        on,
        {
            r["kind"]: Threshold(r["kind"], r["valid_from"], r["amount"], r["currency"].strip(), r["source"])
            for r in rows
        },
        {r["currency"].strip(): Rate(r["currency"].strip(), r["valid_from"], r["sek"], r["source"]) for r in rates},
    )


async def classify(scope: Scope, value_sek: Decimal, kind: ContractKind, on: date) -> Classification:
    """The procedure for ``value_sek`` by the rows in force on ``on``, with the rows it used."""
    return decide(value_sek, kind, await thresholds_on(scope, on))


def _check_source(source: str) -> str:
    source = source.strip()
    if not 3 <= len(source) <= 500:
        raise ValidationFailed.on("source", "Name where the value comes from (3 to 500 characters), e.g. the act.")
    return source


async def add_threshold(
    scope: Scope, *, kind: str, valid_from: date, amount: Decimal, currency: str, source: str, today: date
) -> Threshold:
    """A new dated threshold row; rows in force before ``today`` are never changed, so earlier
    classifications stay explainable."""
    if kind not in THRESHOLD_KINDS:
        raise ValidationFailed.on("kind", f"Choose one of {', '.join(THRESHOLD_KINDS)}.")
    if currency not in ("SEK", "EUR"):
        raise ValidationFailed.on("currency", "Thresholds are in SEK or EUR.")
    if kind.startswith("direct") and currency != "SEK":
        raise ValidationFailed.on("currency", "The direct-procurement limits are set in SEK by LOU.")
    if not Decimal(0) < amount < Decimal("1e12"):
        raise ValidationFailed.on("amount", "The amount must be above 0 and below 1 000 000 000 000.")
    _check_dated(valid_from, today)
    row = Threshold(kind, valid_from, amount.quantize(CENT), currency, _check_source(source))
    exists = await scope.connection.fetchval(
        "SELECT 1 FROM procurement_threshold WHERE kind = $1 AND valid_from = $2", kind, valid_from
    )
    if exists:
        raise Conflict(f"A '{kind}' threshold from {valid_from} is already there: enter it from another date.")
    await scope.connection.execute(
        "INSERT INTO procurement_threshold (kind, valid_from, amount, currency, source) VALUES ($1, $2, $3, $4, $5)",
        row.kind,
        row.valid_from,
        row.amount,
        row.currency,
        row.source,
    )
    return row


async def add_exchange_rate(
    scope: Scope, *, currency: str, valid_from: date, sek: Decimal, source: str, today: date
) -> Rate:
    if currency != "EUR":
        raise ValidationFailed.on("currency", "Thresholds are published in EUR: enter the EUR rate.")
    if not Decimal(0) < sek < Decimal(1000):
        raise ValidationFailed.on("sek", "Give the SEK value of one EUR (above 0 and below 1000).")
    _check_dated(valid_from, today)
    row = Rate(currency, valid_from, sek.quantize(Decimal("0.000001")), _check_source(source))
    exists = await scope.connection.fetchval(
        "SELECT 1 FROM procurement_exchange_rate WHERE currency = $1 AND valid_from = $2", currency, valid_from
    )
    if exists:
        raise Conflict(f"An {currency} rate from {valid_from} is already there: enter it from another date.")
    await scope.connection.execute(
        "INSERT INTO procurement_exchange_rate (currency, valid_from, sek, source) VALUES ($1, $2, $3, $4)",
        row.currency,
        row.valid_from,
        row.sek,
        row.source,
    )
    return row


def _check_dated(valid_from: date, today: date) -> None:
    if valid_from < today:
        raise ValidationFailed.on(
            "validFrom",
            f"A new value applies from today ({today}) or later; the rows in force before stay as they were.",
        )
