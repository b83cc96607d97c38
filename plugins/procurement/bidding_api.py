"""GraphQL of vendors, sealed bids and the evaluation. All fields are in the federation roots: vendors
and federation admins act for no municipality (the lead municipality's admins choose theirs with
the tenant header and are recognised as the buyer)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import bids, evaluation, federation, vendors
from plugins.procurement.bidding_input import parse_id
from plugins.procurement.bidding_types import (
    ProcurementBid,
    ProcurementEvaluation,
    ProcurementVendor,
    RegisterVendorInput,
    SubmitBidInput,
)
from plugins.procurement.federation import Roots

RegisterVendorResult = Annotated[ProcurementVendor | api.Errors, strawberry.union("RegisterVendorResult")]
SubmitBidResult = Annotated[ProcurementBid | api.Errors, strawberry.union("SubmitBidResult")]
EvaluateResult = Annotated[ProcurementEvaluation | api.Errors, strawberry.union("EvaluateProcurementResult")]


@strawberry.type
class BiddingFederationQuery:
    @api.field(description="Vendors: your own bids (any procurement, or one), newest first.")
    async def my_bids(self, info: api.Info, procurement_id: strawberry.ID | None = None) -> list[ProcurementBid]:
        c = await federation.caller(info)
        pid = parse_id(procurement_id, "Procurement") if procurement_id is not None else None
        async with federation.shared(info, c) as scope:
            return [ProcurementBid.of(b) for b in await bids.my_bids(scope, c, pid)]

    @api.field(description="The buyer: the evaluation with every bid, after the tender deadline (sealed before).")
    async def procurement_evaluation(self, info: api.Info, id: strawberry.ID) -> ProcurementEvaluation:
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            result = await evaluation.read(scope, c, parse_id(id, "Procurement"), now=utcnow())
        return ProcurementEvaluation.of(result)


@strawberry.type
class BiddingFederationMutation:
    @api.mutation(description="Register a vendor organisation and its first user (no sign-in needed); then login.")
    @api.errors_as_data
    async def register_vendor(self, info: api.Info, input: RegisterVendorInput) -> RegisterVendorResult:
        new = vendors.NewVendor(
            federation=input.federation,
            name=input.name,
            org_number=input.org_number,
            contact_email=input.contact_email,
            user_name=input.user_name,
            password=input.password,
        )
        return ProcurementVendor.of(await vendors.register(api.database(info), new))

    @api.mutation(description="Vendors: submit a bid for a lot before the deadline, or replace yours (version + 1).")
    @api.errors_as_data
    async def submit_bid(self, info: api.Info, input: SubmitBidInput) -> SubmitBidResult:
        c = await federation.caller(info)
        new = bids.NewBid(
            procurement_id=parse_id(input.procurement_id, "Procurement"),
            lot_id=parse_id(input.lot_id, "Lot"),
            price_sek=input.price_sek,
            cost_sek=input.cost_sek,
            answers=tuple(bids.Answer(str(a.requirement_id), a.met, a.comment) for a in input.answers),
        )
        async with federation.shared(info, c) as scope:
            return ProcurementBid.of(await bids.submit(scope, c, new, now=utcnow()))

    @api.mutation(description="The buyer: evaluate every bid after the deadline (again gives the same result).")
    @api.errors_as_data
    async def evaluate_procurement(self, info: api.Info, id: strawberry.ID) -> EvaluateResult:
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            result = await evaluation.evaluate(scope, c, parse_id(id, "Procurement"), now=utcnow())
        return ProcurementEvaluation.of(result)


ROOTS = Roots(federation_query=BiddingFederationQuery, federation_mutation=BiddingFederationMutation)
