"""GraphQL of the procedure rules: the thresholds in force, the classification of a value, and
new dated thresholds and exchange rates entered by federation admins."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import federation, rules
from plugins.procurement.rules import ContractKind
from plugins.procurement.setup_types import ProcurementClassification, ProcurementExchangeRate, ProcurementThreshold


@strawberry.type(description="The threshold and exchange-rate rows in force on a day.")
class ThresholdsInForce:
    on: date
    thresholds: list[ProcurementThreshold]
    exchange_rates: list[ProcurementExchangeRate]


@strawberry.input
class SetThresholdInput:
    kind: str = strawberry.field(
        description="direct, direct_documentation, eu_services, eu_supplies, eu_works or eu_social."
    )
    valid_from: date = strawberry.field(description="Today or later: rows in force before stay as they were.")
    amount: Decimal
    currency: str = strawberry.field(description="SEK or EUR (the direct limits are in SEK).")
    source: str = strawberry.field(description="Where the value comes from, e.g. the act or the Commission notice.")


@strawberry.input
class SetExchangeRateInput:
    currency: str = "EUR"
    valid_from: date
    sek: Decimal = strawberry.field(description="SEK for one unit of the currency.")
    source: str


SetThresholdResult = Annotated[ProcurementThreshold | api.Errors, strawberry.union("SetThresholdResult")]
SetExchangeRateResult = Annotated[ProcurementExchangeRate | api.Errors, strawberry.union("SetExchangeRateResult")]


@strawberry.type
class RulesFederationQuery:
    @api.field(description="The procurement thresholds and exchange rates in force on a day (default today).")
    async def procurement_thresholds(self, info: api.Info, on: date | None = None) -> ThresholdsInForce:
        await federation.caller(info)
        day = on or utcnow().date()
        async with api.database(info).shared() as scope:
            t = await rules.thresholds_on(scope, day)
        return ThresholdsInForce(
            on=day,
            thresholds=[ProcurementThreshold.of(x) for _, x in sorted(t.rows.items())],
            exchange_rates=[ProcurementExchangeRate.of(x) for _, x in sorted(t.rates.items())],
        )

    @api.field(description="Which procedure an estimated value calls for on a day (default today), and why.")
    async def procurement_classification(
        self, info: api.Info, value_sek: Decimal, contract_kind: ContractKind, on: date | None = None
    ) -> ProcurementClassification:
        await federation.caller(info)
        async with api.database(info).shared() as scope:
            c = await rules.classify(scope, value_sek, contract_kind, on or utcnow().date())
        return ProcurementClassification.of(c)


@strawberry.type
class RulesFederationMutation:
    @api.mutation(description="Federation admins: a new dated threshold (e.g. the next EU thresholds).")
    @api.errors_as_data
    async def set_threshold(self, info: api.Info, input: SetThresholdInput) -> SetThresholdResult:
        c = await federation.caller(info)
        federation.require_federation_admin(c)
        async with federation.shared(info, c) as scope:
            row = await rules.add_threshold(
                scope,
                kind=input.kind,
                valid_from=input.valid_from,
                amount=input.amount,
                currency=input.currency.strip().upper(),
                source=input.source,
                today=utcnow().date(),
            )
            await federation.log(scope, c, "procurement.threshold_set", details=row.__dict__)
        return ProcurementThreshold.of(row)

    @api.mutation(description="Federation admins: a new dated exchange rate for the EU thresholds.")
    @api.errors_as_data
    async def set_exchange_rate(self, info: api.Info, input: SetExchangeRateInput) -> SetExchangeRateResult:
        c = await federation.caller(info)
        federation.require_federation_admin(c)
        async with federation.shared(info, c) as scope:
            row = await rules.add_exchange_rate(
                scope,
                currency=input.currency.strip().upper(),
                valid_from=input.valid_from,
                sek=input.sek,
                source=input.source,
                today=utcnow().date(),
            )
            await federation.log(scope, c, "procurement.exchange_rate_set", details=row.__dict__)
        return ProcurementExchangeRate.of(row)
