"""GraphQL types of a joint procurement as its buyers see it (``Procurement``) and as vendors see
it (``VendorProcurement``: published ones, nothing of the participants), and of the rules."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from plugins.procurement import rules
from plugins.procurement.rules import ContractKind, Procedure
from plugins.procurement.setup_checks import EvaluationModel, ProcurementStatus, QualityMethod, RequirementKind
from plugins.procurement.setup_queries import Details

strawberry.enum(ContractKind, name="ContractKind", description="What is bought; sets which EU threshold applies.")
strawberry.enum(Procedure, name="ProcurementProcedure", description="By value: direct, below the EU threshold, open.")
strawberry.enum(ProcurementStatus, name="ProcurementStatus")
strawberry.enum(EvaluationModel, name="EvaluationModel")
strawberry.enum(
    QualityMethod, name="QualityMethod", description="deduction: price minus SEK per met requirement; weighted: scores."
)
strawberry.enum(RequirementKind, name="RequirementKind")


def _id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


def _opt_id(value: Any) -> strawberry.ID | None:
    return None if value is None else _id(value)


@strawberry.type
class ProcurementLot:
    id: strawberry.ID
    number: int
    title: str
    description: str
    estimated_value_sek: Decimal

    @classmethod
    def of(cls, r: Any) -> ProcurementLot:
        return cls(
            id=_id(r["id"]),
            number=r["number"],
            title=r["title"],
            description=r["description"],
            estimated_value_sek=r["estimated_value_sek"],
        )


@strawberry.type
class ProcurementRequirement:
    id: strawberry.ID
    lot_id: strawberry.ID | None = strawberry.field(description="Null: the requirement applies to every lot.")
    kind: RequirementKind
    text: str
    weight: Decimal | None
    deduction_sek: Decimal | None = strawberry.field(description="Deducted from the compared price when met.")

    @classmethod
    def of(cls, r: Any) -> ProcurementRequirement:
        return cls(
            id=_id(r["id"]),
            lot_id=_opt_id(r["lot_id"]),
            kind=RequirementKind(r["kind"]),
            text=r["text"],
            weight=r["weight"],
            deduction_sek=r["deduction_sek"],
        )


@strawberry.type
class ProcurementDocument:
    id: strawberry.ID
    title: str
    document_type: str = strawberry.field(description="OCDS documentType, e.g. biddingDocuments.")
    url: str
    body: str
    sha256: str = strawberry.field(description="Of the body, or of the linked file as the buyer stated it.")
    published_at: datetime

    @classmethod
    def of(cls, r: Any) -> ProcurementDocument:
        return cls(
            id=_id(r["id"]),
            title=r["title"],
            document_type=r["document_type"],
            url=r["url"],
            body=r["body"],
            sha256=r["sha256"].strip(),
            published_at=r["published_at"],
        )


@strawberry.type(description="A vendor's question and its answer; answers are for every vendor, without the asker.")
class ProcurementQuestion:
    id: strawberry.ID
    question: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    asked_by_you: bool

    @classmethod
    def of(cls, r: Any, vendor: UUID | None = None) -> ProcurementQuestion:
        return cls(
            id=_id(r["id"]),
            question=r["question"],
            asked_at=r["asked_at"],
            answer=r["answer"],
            answered_at=r["answered_at"],
            asked_by_you=vendor is not None and r["vendor_id"] == vendor,
        )


@strawberry.type
class ProcurementParticipant:
    municipality_id: strawberry.ID
    municipality: str
    share_percent: Decimal = strawberry.field(description="Of the cost; the active participants' add up to 100.")
    estimated_volume: Decimal
    need_id: strawberry.ID | None
    joined_at: datetime
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, r: Any, names: dict[UUID, str]) -> ProcurementParticipant:
        return cls(
            municipality_id=_id(r["municipality_id"]),
            municipality=names.get(r["municipality_id"], ""),
            share_percent=r["share_percent"],
            estimated_volume=r["estimated_volume"],
            need_id=_opt_id(r["need_id"]),
            joined_at=r["joined_at"],
            withdrawn_at=r["withdrawn_at"],
        )


@strawberry.type
class ProcurementThreshold:
    kind: str
    valid_from: date
    amount: Decimal
    currency: str
    source: str

    @classmethod
    def of(cls, t: rules.Threshold) -> ProcurementThreshold:
        return cls(kind=t.kind, valid_from=t.valid_from, amount=t.amount, currency=t.currency, source=t.source)


@strawberry.type
class ProcurementExchangeRate:
    currency: str
    valid_from: date
    sek: Decimal
    source: str

    @classmethod
    def of(cls, r: rules.Rate) -> ProcurementExchangeRate:
        return cls(currency=r.currency, valid_from=r.valid_from, sek=r.sek, source=r.source)


@strawberry.type(description="A threshold a classification compared with, in SEK on the day.")
class UsedThreshold:
    threshold: ProcurementThreshold
    sek: Decimal
    exchange_rate: ProcurementExchangeRate | None


@strawberry.type(description="The procedure LOU calls for at an estimated value on a day, and why.")
class ProcurementClassification:
    procedure: Procedure
    value_sek: Decimal
    contract_kind: ContractKind
    on: date
    documentation_required: bool
    thresholds: list[UsedThreshold]
    explanation: str
    min_tender_days_electronic: int
    min_tender_days_paper: int

    @classmethod
    def of(cls, c: rules.Classification) -> ProcurementClassification:
        return cls(
            procedure=c.procedure,
            value_sek=c.value_sek,
            contract_kind=c.contract_kind,
            on=c.on,
            documentation_required=c.documentation_required,
            thresholds=[
                UsedThreshold(
                    threshold=ProcurementThreshold.of(u.threshold),
                    sek=u.sek,
                    exchange_rate=ProcurementExchangeRate.of(u.rate) if u.rate else None,
                )
                for u in c.used
            ],
            explanation=c.explanation,
            min_tender_days_electronic=rules.min_tender_days(c.procedure, True),
            min_tender_days_paper=rules.min_tender_days(c.procedure, False),
        )


def _common(r: Any, d: Details) -> dict[str, Any]:
    pid = r["id"]
    lead = r["lead_municipality_id"]
    return {
        "id": _id(pid),
        "ocid": r["ocid"],
        "title": r["title"],
        "description": r["description"],
        "category": r["category"],
        "contract_kind": ContractKind(r["contract_kind"]),
        "buyer": d.names.get(lead, "") if lead else d.federation_name,
        "lead_municipality_id": _opt_id(lead),
        "estimated_value_sek": r["estimated_value_sek"],
        "procedure": Procedure(r["procedure"]),
        "framework": r["framework"],
        "duration_months": r["duration_months"],
        "electronic": r["electronic"],
        "evaluation_model": EvaluationModel(r["evaluation_model"]),
        "quality_method": QualityMethod(r["quality_method"]),
        "price_weight": r["price_weight"],
        "status": ProcurementStatus(r["status"]),
        "published_at": r["published_at"],
        "tender_deadline": r["tender_deadline"],
        "lots": [ProcurementLot.of(x) for x in d.lots[pid]],
        "requirements": [ProcurementRequirement.of(x) for x in d.requirements[pid]],
        "documents": [ProcurementDocument.of(x) for x in d.documents[pid]],
    }


@strawberry.type(description="A joint procurement as its buyers (the federation's members) see it.")
class Procurement:
    id: strawberry.ID
    ocid: str
    title: str
    description: str
    category: str
    contract_kind: ContractKind
    buyer: str = strawberry.field(description="The lead municipality, or the federation when it leads.")
    lead_municipality_id: strawberry.ID | None
    estimated_value_sek: Decimal = strawberry.field(description="All participants, the whole duration.")
    procedure: Procedure = strawberry.field(description="Provisional while planning; fixed when published.")
    framework: bool
    duration_months: int
    electronic: bool
    evaluation_model: EvaluationModel
    quality_method: QualityMethod
    price_weight: Decimal | None
    status: ProcurementStatus
    published_at: datetime | None
    tender_deadline: datetime | None
    lots: list[ProcurementLot]
    requirements: list[ProcurementRequirement]
    documents: list[ProcurementDocument]
    documentation: str = strawberry.field(description="Why and how, for a documented direct procurement.")
    created_at: datetime
    created_by: str
    participants: list[ProcurementParticipant]
    questions: list[ProcurementQuestion]

    @classmethod
    def of(cls, r: Any, d: Details) -> Procurement:
        pid = r["id"]
        return cls(
            **_common(r, d),
            documentation=r["documentation"],
            created_at=r["created_at"],
            created_by=r["created_by"],
            participants=[ProcurementParticipant.of(x, d.names) for x in d.participants[pid]],
            questions=[ProcurementQuestion.of(x) for x in d.questions[pid]],
        )


@strawberry.type(description="A published procurement as vendors see it.")
class VendorProcurement:
    id: strawberry.ID
    ocid: str
    title: str
    description: str
    category: str
    contract_kind: ContractKind
    buyer: str
    lead_municipality_id: strawberry.ID | None
    estimated_value_sek: Decimal
    procedure: Procedure
    framework: bool
    duration_months: int
    electronic: bool
    evaluation_model: EvaluationModel
    quality_method: QualityMethod
    price_weight: Decimal | None
    status: ProcurementStatus
    published_at: datetime | None
    tender_deadline: datetime | None
    lots: list[ProcurementLot]
    requirements: list[ProcurementRequirement]
    documents: list[ProcurementDocument]
    questions: list[ProcurementQuestion] = strawberry.field(
        description="Answered questions, and your own still unanswered ones."
    )

    @classmethod
    def of(cls, r: Any, d: Details, vendor: UUID) -> VendorProcurement:
        return cls(**_common(r, d), questions=[ProcurementQuestion.of(x, vendor) for x in d.questions[r["id"]]])


@strawberry.type(description="A published procurement and the classification it was published under.")
class ProcurementPublished:
    procurement: Procurement
    classification: ProcurementClassification
