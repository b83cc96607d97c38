"""GraphQL of follow-up and shared experience: compute a contract's monthly follow-up from locker
data (federation admins, the leading municipality), read it (the federation: all lines; a
municipality: its own), review vendors (municipality admins who used their contracts) and read
the reviews (the whole federation; a vendor its own)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import federation, followup, reviews
from plugins.procurement import followup_queries as queries
from plugins.procurement.access import PEOPLE, READ_SCOPE
from plugins.procurement.federation import Roots
from plugins.procurement.followup_types import (
    ContractFollowUp,
    FollowUpLine,
    FollowUpMonth,
    FollowUpMunicipality,
    VendorReview,
    VendorReviews,
)

ComputeFollowUpResult = Annotated[ContractFollowUp | api.Errors, strawberry.union("ComputeFollowUpResult")]
ReviewVendorResult = Annotated[VendorReview | api.Errors, strawberry.union("ReviewVendorResult")]

CALLED_OFF = """
SELECT DISTINCT c.id, c.title FROM procurement_contract c
JOIN procurement_call_off o ON o.federation_id = c.federation_id AND o.contract_id = c.id
WHERE o.municipality_id = $1 ORDER BY c.title, c.id
"""


async def _follow_up(info: api.Info, contract_id: strawberry.ID, month: date | None) -> ContractFollowUp:
    c = await federation.caller(info)
    cid = followup.parse_id(contract_id, "Contract")
    if month is not None:
        followup.check_month(month)
    async with federation.shared(info, c) as scope:
        row = await followup.contract(scope, cid)
        own = queries.own_lines_only(c, row)
        months = await queries.months(scope, cid, month, own)
    return ContractFollowUp.of(cid, row["title"], months)


@strawberry.type
class FollowUpFederationQuery:
    @api.field(
        description="A contract's follow-up per month, municipality and service level, with totals: all lines for "
        "federation admins, the leading municipality and the contract's vendor; a municipality's own lines for it."
    )
    async def contract_follow_up(
        self, info: api.Info, contract_id: strawberry.ID, month: date | None = None
    ) -> ContractFollowUp:
        return await _follow_up(info, contract_id, month)

    @api.field(description="What the federation's municipalities say about a vendor (a vendor sees its own).")
    async def vendor_reviews(self, info: api.Info, vendor_id: strawberry.ID) -> VendorReviews:
        c = await federation.caller(info)
        vid = followup.parse_id(vendor_id, "Vendor")
        return VendorReviews.of(await reviews.reviews(api.database(info), c, vid))


@strawberry.type
class FollowUpFederationMutation:
    @api.mutation(
        description="Compute a month of a locker contract's follow-up from the lockers' own data (replaces that "
        "month's earlier result). Federation admins, or admins of the municipality leading the procurement."
    )
    @api.errors_as_data
    async def compute_follow_up(self, info: api.Info, contract_id: strawberry.ID, month: date) -> ComputeFollowUpResult:
        c = await federation.caller(info)
        cid = followup.parse_id(contract_id, "Contract")
        await followup.compute(api.database(info), c, cid, month, utcnow())
        return await _follow_up(info, contract_id, month)


@strawberry.type
class FollowUpQuery:
    @api.field(description="This municipality's follow-up of one month under every contract it has called off from.")
    async def call_off_follow_up(self, info: api.Info, month: date) -> list[ContractFollowUp]:
        tenant = api.require_access(info, roles=PEOPLE, scope=READ_SCOPE)
        followup.check_month(month)
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            contracts = await scope.connection.fetch(CALLED_OFF, tenant)
            found = [(r, await queries.months(scope, r["id"], month, tenant)) for r in contracts]
        return [ContractFollowUp.of(r["id"], r["title"], months) for r, months in found]


@strawberry.type
class FollowUpMutation:
    @api.mutation(
        description="Review a vendor whose contract your municipality has used (a call-off, or a share in the "
        "procurement): a rating from 1 to 5 and what it is based on. The whole federation reads it."
    )
    @api.errors_as_data
    async def review_vendor(
        self,
        info: api.Info,
        vendor_id: strawberry.ID,
        rating: int,
        text: str,
        contract_id: strawberry.ID | None = None,
    ) -> ReviewVendorResult:
        c = await federation.caller(info)
        created = await reviews.review(
            api.database(info),
            c,
            vendor_id=followup.parse_id(vendor_id, "Vendor"),
            contract_id=followup.parse_id(contract_id, "Contract") if contract_id is not None else None,
            rating=rating,
            text=text,
        )
        return VendorReview.of(created)


ROOTS = Roots(
    query=FollowUpQuery,
    mutation=FollowUpMutation,
    federation_query=FollowUpFederationQuery,
    federation_mutation=FollowUpFederationMutation,
    types=(FollowUpLine, FollowUpMunicipality, FollowUpMonth, ContractFollowUp, VendorReview, VendorReviews),
)
