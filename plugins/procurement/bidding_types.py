"""GraphQL types of vendors, bids and the evaluation, mapped from the services' records."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

import plugins.procurement.setup_types  # noqa: F401  # registers the canonical enums (ProcurementStatus, ...)
from plugins.procurement import evaluation
from plugins.procurement.bids import BidRecord
from plugins.procurement.setup_checks import EvaluationModel, ProcurementStatus, QualityMethod
from plugins.procurement.vendors import VendorRecord


def _id(value: UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.input
class RegisterVendorInput:
    federation: str = strawberry.field(description="The federation's short name (slug) the vendor bids in.")
    name: str = strawberry.field(description="The organisation's registered name.")
    org_number: str = strawberry.field(description="Organisationsnummer, NNNNNN-NNNN (checked by its check digit).")
    contact_email: str = strawberry.field(description="Gets award decisions; also the e-mail to sign in with.")
    user_name: str = strawberry.field(description="The name of the person who signs in and bids.")
    password: str = strawberry.field(description="At least 10 characters.")


@strawberry.type(description="A vendor organisation of the federation; its people sign in with mutation login.")
class ProcurementVendor:
    id: strawberry.ID
    name: str
    org_number: str
    contact_email: str
    created_at: datetime

    @classmethod
    def of(cls, v: VendorRecord) -> ProcurementVendor:
        return cls(
            id=_id(v.id), name=v.name, org_number=v.org_number, contact_email=v.contact_email, created_at=v.created_at
        )


@strawberry.input
class BidAnswerInput:
    requirement_id: strawberry.ID
    met: bool = strawberry.field(description="Whether the offer meets the requirement.")
    comment: str = strawberry.field(default="", description="How it is met (at most 4000 characters).")


@strawberry.input
class SubmitBidInput:
    procurement_id: strawberry.ID
    lot_id: strawberry.ID
    price_sek: Decimal = strawberry.field(description="The evaluated price in SEK, excluding VAT.")
    cost_sek: Decimal | None = strawberry.field(
        default=None, description="The total cost (price + life-cycle cost); required when evaluated on lowest cost."
    )
    answers: list[BidAnswerInput] = strawberry.field(
        description="One answer per requirement of the lot; every mandatory one must be met."
    )


@strawberry.type
class BidAnswer:
    requirement_id: strawberry.ID
    met: bool
    comment: str

    @classmethod
    def all(cls, answers: dict[str, Any]) -> list[BidAnswer]:
        return [
            cls(requirement_id=strawberry.ID(k), met=bool(a.get("met")), comment=str(a.get("comment", "")))
            for k, a in sorted(answers.items())
        ]


@strawberry.type(description="A vendor's own bid for one lot: sealed from everyone else until the deadline.")
class ProcurementBid:
    id: strawberry.ID
    procurement_id: strawberry.ID
    lot_id: strawberry.ID
    price_sek: Decimal
    cost_sek: Decimal | None
    answers: list[BidAnswer]
    version: int = strawberry.field(description="1 for the first submission, +1 for each replacement.")
    submitted_at: datetime
    deadline: datetime = strawberry.field(description="The tender deadline: the bid can be replaced until then.")

    @classmethod
    def of(cls, b: BidRecord) -> ProcurementBid:
        return cls(
            id=_id(b.id),
            procurement_id=_id(b.procurement_id),
            lot_id=_id(b.lot_id),
            price_sek=b.price_sek,
            cost_sek=b.cost_sek,
            answers=BidAnswer.all(b.answers),
            version=b.version,
            submitted_at=b.submitted_at,
            deadline=b.deadline,
        )


@strawberry.type(description="One bid's outcome in the evaluation, with the bid and why it ranks where it does.")
class BidEvaluation:
    lot_id: strawberry.ID
    lot_number: int
    lot_title: str
    bid_id: strawberry.ID
    vendor_id: strawberry.ID
    vendor: str
    price_sek: Decimal
    cost_sek: Decimal | None
    answers: list[BidAnswer]
    version: int
    submitted_at: datetime
    qualified: bool = strawberry.field(
        description="Meets every mandatory requirement (and states what the model needs)."
    )
    rank: int | None = strawberry.field(description="1 wins the lot; none for a bid that is not qualified.")
    compared_value: Decimal | None = strawberry.field(
        description="SEK (lower wins), or points of 100 for a weighted evaluation (higher wins)."
    )
    summary_sv: str
    summary_en: str
    explanation: JSON = strawberry.field(description="Every step of the calculation, in Swedish and English.")

    @classmethod
    def of(cls, r: evaluation.Result) -> BidEvaluation:
        summary = r.explanation.get("summary", {})
        return cls(
            lot_id=_id(r.lot_id),
            lot_number=r.lot_number,
            lot_title=r.lot_title,
            bid_id=_id(r.bid_id),
            vendor_id=_id(r.vendor_id),
            vendor=r.vendor,
            price_sek=r.price_sek,
            cost_sek=r.cost_sek,
            answers=BidAnswer.all(r.answers),
            version=r.version,
            submitted_at=r.submitted_at,
            qualified=r.qualified,
            rank=r.rank,
            compared_value=r.compared_value,
            summary_sv=str(summary.get("sv", "")),
            summary_en=str(summary.get("en", "")),
            explanation=JSON(r.explanation),
        )


@strawberry.type(description="The evaluation of a procurement's bids (the buyer, after the tender deadline).")
class ProcurementEvaluation:
    procurement_id: strawberry.ID
    status: ProcurementStatus
    evaluation_model: EvaluationModel
    quality_method: QualityMethod
    tender_deadline: datetime | None
    evaluated_at: datetime | None = strawberry.field(description="None until mutation evaluateProcurement has run.")
    results: list[BidEvaluation] = strawberry.field(description="By lot, then rank; bids not qualified last.")

    @classmethod
    def of(cls, e: evaluation.Evaluation) -> ProcurementEvaluation:
        return cls(
            procurement_id=_id(e.procurement_id),
            status=ProcurementStatus(e.status),
            evaluation_model=EvaluationModel(e.evaluation_model),
            quality_method=QualityMethod(e.quality_method),
            tender_deadline=e.tender_deadline,
            evaluated_at=e.evaluated_at,
            results=[BidEvaluation.of(r) for r in e.results],
        )
