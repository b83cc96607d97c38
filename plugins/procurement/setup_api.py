"""GraphQL of setting up a joint procurement until it is published. Municipality admins join and
withdraw in the municipality's (guarded) roots; the rest lives in the federation roots:
federation admins and the lead municipality's admins manage, members read, vendors see the
published procurements and ask questions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.tools import merge_types

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import federation, setup, setup_items, setup_participants, setup_queries
from plugins.procurement.access import ADMINS, WRITE_SCOPE
from plugins.procurement.federation import Roots
from plugins.procurement.needs import parse_id
from plugins.procurement.rules import ContractKind
from plugins.procurement.setup_access import acting, require_member
from plugins.procurement.setup_checks import EvaluationModel, ProcurementStatus, QualityMethod, RequirementKind
from plugins.procurement.setup_rules_api import RulesFederationMutation, RulesFederationQuery
from plugins.procurement.setup_types import (
    Procurement,
    ProcurementClassification,
    ProcurementDocument,
    ProcurementLot,
    ProcurementPublished,
    ProcurementQuestion,
    ProcurementRequirement,
    VendorProcurement,
)


@strawberry.input
class StartJointProcurementInput:
    title: str
    description: str = ""
    category: str = strawberry.field(description="The needs' category (query federationNeeds).")
    contract_kind: ContractKind
    framework: bool = strawberry.field(default=True, description="A framework agreement runs at most 48 months.")
    duration_months: int
    need_ids: list[strawberry.ID] = strawberry.field(description="Members' open needs; each one's municipality joins.")
    lead_municipality_id: strawberry.ID | None = strawberry.field(
        default=None, description="A participating municipality that leads; none: the federation leads."
    )


@strawberry.input
class AddLotInput:
    procurement_id: strawberry.ID
    title: str
    description: str = ""
    estimated_value_sek: Decimal = Decimal(0)


@strawberry.input
class AddRequirementInput:
    procurement_id: strawberry.ID
    kind: RequirementKind
    text: str
    weight: Decimal | None = strawberry.field(default=None, description="Weighted requirements only.")
    deduction_sek: Decimal | None = strawberry.field(default=None, description="Deduction requirements only.")
    lot_id: strawberry.ID | None = strawberry.field(default=None, description="None: every lot.")


@strawberry.input
class AddProcurementDocumentInput:
    procurement_id: strawberry.ID
    title: str
    document_type: str = strawberry.field(default="biddingDocuments", description="An OCDS documentType.")
    url: str | None = strawberry.field(default=None, description="An https link; give its sha256 too.")
    body: str | None = strawberry.field(default=None, description="Or the text itself (hashed here).")
    sha256: str | None = None


ProcurementResult = Annotated[Procurement | api.Errors, strawberry.union("ProcurementResult")]
LotResult = Annotated[ProcurementLot | api.Errors, strawberry.union("AddLotResult")]
RequirementResult = Annotated[ProcurementRequirement | api.Errors, strawberry.union("AddRequirementResult")]
DocumentResult = Annotated[ProcurementDocument | api.Errors, strawberry.union("AddProcurementDocumentResult")]
PublishResult = Annotated[ProcurementPublished | api.Errors, strawberry.union("PublishProcurementResult")]
QuestionResult = Annotated[ProcurementQuestion | api.Errors, strawberry.union("ProcurementQuestionResult")]


async def _procurement(scope: api.Scope, pid: UUID) -> Procurement:
    row = await setup_queries.one(scope, pid)
    return Procurement.of(row, await setup_queries.details(scope, [pid]))


def _pid(value: object) -> UUID:
    return parse_id(value, "Procurement")


@strawberry.type
class SetupMutation:
    @api.mutation(
        description="Join a procurement being planned with this municipality's volume (and share), or change them."
    )
    @api.errors_as_data
    async def join_procurement(
        self, info: api.Info, id: strawberry.ID, estimated_volume: Decimal, share_percent: Decimal | None = None
    ) -> ProcurementResult:
        api.require_access(info, roles=ADMINS, scope=WRITE_SCOPE)
        c = await federation.caller(info)
        db = api.database(info)
        await setup_participants.join_procurement(db, c, _pid(id), estimated_volume, share_percent, now=utcnow())
        async with federation.shared(info, c) as scope:
            return await _procurement(scope, _pid(id))

    @api.mutation(description="Withdraw this municipality from a procurement before its award; its needs reopen.")
    @api.errors_as_data
    async def withdraw_from_procurement(self, info: api.Info, id: strawberry.ID) -> ProcurementResult:
        api.require_access(info, roles=ADMINS, scope=WRITE_SCOPE)
        c = await federation.caller(info)
        await setup_participants.withdraw_from_procurement(api.database(info), c, _pid(id), now=utcnow())
        async with federation.shared(info, c) as scope:
            return await _procurement(scope, _pid(id))


@strawberry.type
class SetupFederationQuery:
    @api.field(description="The federation's joint procurements (members and federation admins), newest first.")
    async def procurements(
        self,
        info: api.Info,
        status: ProcurementStatus | None = None,
        participating: Annotated[
            bool, strawberry.argument(description="Only those this municipality takes part in.")
        ] = False,
    ) -> list[Procurement]:
        c = await acting(info)
        require_member(c)
        participant = c.municipality_id if participating else None
        async with federation.shared(info, c) as scope:
            rows = await setup_queries.listed(scope, status=status.value if status else None, participant=participant)
            d = await setup_queries.details(scope, [r["id"] for r in rows])
        return [Procurement.of(r, d) for r in rows]

    @api.field(description="One joint procurement with its lots, requirements, documents, participants, questions.")
    async def procurement(self, info: api.Info, id: strawberry.ID) -> Procurement:
        c = await acting(info)
        require_member(c)
        async with federation.shared(info, c) as scope:
            return await _procurement(scope, _pid(id))

    @api.field(description="Vendors: the federation's published procurements, newest first.")
    async def vendor_procurements(
        self, info: api.Info, status: ProcurementStatus | None = None
    ) -> list[VendorProcurement]:
        c = await federation.caller(info)
        vendor = federation.require_vendor(c)
        async with federation.shared(info, c) as scope:
            rows = await setup_queries.listed(scope, status=status.value if status else None, published_only=True)
            d = await setup_queries.details(scope, [r["id"] for r in rows], vendor=vendor)
        return [VendorProcurement.of(r, d, vendor) for r in rows]


@strawberry.type
class SetupFederationMutation:
    @api.mutation(description="Federation admins: start a joint procurement from members' open needs.")
    @api.errors_as_data
    async def start_joint_procurement(self, info: api.Info, input: StartJointProcurementInput) -> ProcurementResult:
        c = await federation.caller(info)
        new = setup.NewProcurement(
            title=input.title,
            description=input.description,
            category=input.category,
            contract_kind=input.contract_kind,
            framework=input.framework,
            duration_months=input.duration_months,
            need_ids=[parse_id(i) for i in input.need_ids],
            lead_municipality_id=parse_id(input.lead_municipality_id, "Municipality")
            if input.lead_municipality_id
            else None,
        )
        pid = await setup.start(api.database(info), c, new, now=utcnow())
        async with federation.shared(info, c) as scope:
            return await _procurement(scope, pid)

    @api.mutation(description="Add a lot (numbered in order) to a procurement being planned.")
    @api.errors_as_data
    async def add_lot(self, info: api.Info, input: AddLotInput) -> LotResult:
        c = await acting(info)
        async with federation.shared(info, c) as scope:
            row = await setup_items.add_lot(
                scope,
                c,
                _pid(input.procurement_id),
                title=input.title,
                description=input.description,
                estimated_value_sek=input.estimated_value_sek,
            )
        return ProcurementLot.of(row)

    @api.mutation(description="Add a mandatory, weighted or deduction requirement (to one lot or all).")
    @api.errors_as_data
    async def add_requirement(self, info: api.Info, input: AddRequirementInput) -> RequirementResult:
        c = await acting(info)
        async with federation.shared(info, c) as scope:
            row = await setup_items.add_requirement(
                scope,
                c,
                _pid(input.procurement_id),
                kind=input.kind,
                requirement=input.text,
                weight=input.weight,
                deduction_sek=input.deduction_sek,
                lot_id=parse_id(input.lot_id, "Lot") if input.lot_id else None,
            )
        return ProcurementRequirement.of(row)

    @api.mutation(description="Add a procurement document (until the tender deadline), by link or text.")
    @api.errors_as_data
    async def add_procurement_document(self, info: api.Info, input: AddProcurementDocumentInput) -> DocumentResult:
        c = await acting(info)
        async with federation.shared(info, c) as scope:
            row = await setup_items.add_document(
                scope,
                c,
                _pid(input.procurement_id),
                title=input.title,
                document_type=input.document_type,
                url=input.url,
                body=input.body,
                sha256=input.sha256,
                now=utcnow(),
            )
        return ProcurementDocument.of(row)

    @api.mutation(description="Choose how bids are evaluated (before publishing).")
    @api.errors_as_data
    async def set_evaluation_model(
        self,
        info: api.Info,
        id: strawberry.ID,
        model: EvaluationModel,
        quality_method: QualityMethod = QualityMethod.DEDUCTION,
        price_weight: Decimal | None = None,
    ) -> ProcurementResult:
        c = await acting(info)
        async with federation.shared(info, c) as scope:
            await setup_items.set_evaluation_model(
                scope, c, _pid(id), model=model, quality_method=quality_method, price_weight=price_weight
            )
            return await _procurement(scope, _pid(id))

    @api.mutation(description="Publish under the procedure the rules give for its value today.")
    @api.errors_as_data
    async def publish_procurement(
        self,
        info: api.Info,
        id: strawberry.ID,
        tender_deadline: datetime,
        electronic: bool = True,
        documentation: Annotated[
            str | None,
            strawberry.argument(description="Required for a direct procurement from 100 000 SEK: why and how."),
        ] = None,
    ) -> PublishResult:
        c = await acting(info)
        async with federation.shared(info, c) as scope:
            classification = await setup.publish(
                scope,
                c,
                _pid(id),
                deadline=tender_deadline,
                electronic=electronic,
                documentation=documentation,
                now=utcnow(),
            )
            published = await _procurement(scope, _pid(id))
        return ProcurementPublished(procurement=published, classification=ProcurementClassification.of(classification))

    @api.mutation(description="Vendors: ask about a published procurement before its deadline.")
    @api.errors_as_data
    async def ask_question(self, info: api.Info, procurement_id: strawberry.ID, question: str) -> QuestionResult:
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            row = await setup_items.ask_question(scope, c, _pid(procurement_id), question=question, now=utcnow())
        return ProcurementQuestion.of(row, c.vendor_id)

    @api.mutation(description="Answer a vendor's question; every vendor sees the answer, not who asked.")
    @api.errors_as_data
    async def answer_question(self, info: api.Info, question_id: strawberry.ID, answer: str) -> QuestionResult:
        c = await acting(info)
        async with federation.shared(info, c) as scope:
            row = await setup_items.answer_question(
                scope, c, parse_id(question_id, "Question"), answer=answer, now=utcnow()
            )
        return ProcurementQuestion.of(row)


ROOTS = Roots(
    mutation=SetupMutation,
    federation_query=merge_types("SetupFederationQueries", (SetupFederationQuery, RulesFederationQuery)),
    federation_mutation=merge_types("SetupFederationMutations", (SetupFederationMutation, RulesFederationMutation)),
    types=(ProcurementPublished,),
)
