"""GraphQL types of follow-up and reviews, mapped from the services' values."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from plugins.procurement import followup_queries as queries
from plugins.procurement import followup_text
from plugins.procurement import reviews as review_service
from plugins.procurement.contracts_types import FaultSeverity, ServiceLevelMetric, ServiceLevelUnit


def _id(value: UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="One service level of one municipality in one month: measured against its target.")
class FollowUpLine:
    service_level_id: strawberry.ID
    metric: ServiceLevelMetric = strawberry.field(
        description="Availability and temperature compliance are measured from locker data; fault times from fault "
        "reports once they are recorded."
    )
    severity: FaultSeverity | None
    unit: ServiceLevelUnit = strawberry.field(description="Percent: breached below the target; hours: above it.")
    measured: Decimal | None = strawberry.field(description="None: nothing to measure yet (no data): no breach.")
    target: Decimal
    breached: bool
    penalty_sek: Decimal
    details: JSON = strawberry.field(description="How it was measured: the period, hours online/known, alarms.")
    summary_sv: str = strawberry.field(description="The line in words, in Swedish.")
    summary_en: str = strawberry.field(description="The line in words, in English.")

    @classmethod
    def of(cls, x: queries.Line) -> FollowUpLine:
        sv, en = followup_text.summary(x.metric, x.unit, x.measured, x.target, x.breached, x.penalty_sek)
        return cls(
            service_level_id=_id(x.service_level_id),
            metric=ServiceLevelMetric(x.metric),
            severity=FaultSeverity(x.severity) if x.severity else None,
            unit=ServiceLevelUnit(x.unit),
            measured=x.measured,
            target=x.target,
            breached=x.breached,
            penalty_sek=x.penalty_sek,
            details=JSON(x.details),
            summary_sv=sv,
            summary_en=en,
        )


@strawberry.type(description="A municipality's lines of one month, with its breaches and penalties.")
class FollowUpMunicipality:
    municipality_id: strawberry.ID
    municipality: str
    lines: list[FollowUpLine]
    breaches: int
    penalty_sek: Decimal

    @classmethod
    def of(cls, m: queries.MunicipalityMonth) -> FollowUpMunicipality:
        return cls(
            municipality_id=_id(m.municipality_id),
            municipality=m.municipality,
            lines=[FollowUpLine.of(x) for x in m.lines],
            breaches=m.breaches,
            penalty_sek=m.penalty_sek,
        )


@strawberry.type(description="One month of follow-up, as last computed.")
class FollowUpMonth:
    month: date
    computed_at: datetime
    municipalities: list[FollowUpMunicipality]
    breaches: int
    penalty_sek: Decimal

    @classmethod
    def of(cls, m: queries.Month) -> FollowUpMonth:
        return cls(
            month=m.month,
            computed_at=m.computed_at,
            municipalities=[FollowUpMunicipality.of(x) for x in m.municipalities],
            breaches=m.breaches,
            penalty_sek=m.penalty_sek,
        )


@strawberry.type(description="A contract's service levels followed up month by month, with totals.")
class ContractFollowUp:
    contract_id: strawberry.ID
    title: str
    months: list[FollowUpMonth]
    breaches: int
    penalty_sek: Decimal

    @classmethod
    def of(cls, contract_id: UUID, title: str, months: list[queries.Month]) -> ContractFollowUp:
        return cls(
            contract_id=_id(contract_id),
            title=title,
            months=[FollowUpMonth.of(m) for m in months],
            breaches=sum(m.breaches for m in months),
            penalty_sek=sum((m.penalty_sek for m in months), Decimal(0)),
        )


@strawberry.type(description="A municipality's review of a vendor.")
class VendorReview:
    id: strawberry.ID
    vendor_id: strawberry.ID
    contract_id: strawberry.ID | None
    municipality_id: strawberry.ID
    municipality: str
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    text: str
    author: str | None = strawberry.field(description="Who wrote it; not shown to the vendor.")
    created_at: datetime

    @classmethod
    def of(cls, r: review_service.Review) -> VendorReview:
        return cls(
            id=_id(r.id),
            vendor_id=_id(r.vendor_id),
            contract_id=_id(r.contract_id) if r.contract_id else None,
            municipality_id=_id(r.municipality_id),
            municipality=r.municipality,
            rating=r.rating,
            text=r.text,
            author=r.author,
            created_at=r.created_at,
        )


@strawberry.type(description="What the federation's municipalities say about a vendor.")
class VendorReviews:
    vendor_id: strawberry.ID
    vendor_name: str
    count: int
    average_rating: Decimal | None
    reviews: list[VendorReview]

    @classmethod
    def of(cls, r: review_service.Reviews) -> VendorReviews:
        return cls(
            vendor_id=_id(r.vendor_id),
            vendor_name=r.vendor_name,
            count=len(r.reviews),
            average_rating=r.average_rating,
            reviews=[VendorReview.of(x) for x in r.reviews],
        )
