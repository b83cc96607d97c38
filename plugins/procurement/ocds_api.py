"""GraphQL of open data and cost allocation.

* ``procurementOcds(id, kind)`` (federation roots): the procurement as an OCDS release or record
  package. Federation admins and people of a member municipality get the members' view; anyone
  else of the federation (vendors) the public view: published procurements only, bids only
  after the award decision (``ocds``).
* ``setCostKey``, ``costKeys``, ``costAllocation`` (federation roots): federation admins set the
  dated keys and see every member's line.
* ``ownCostAllocation`` (municipality roots, behind the plugin guard): a municipality's admins
  see their own line of a contract they share.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import strawberry
from strawberry.scalars import JSON

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import costs, federation
from plugins.procurement.access import ADMINS, PEOPLE, READ_SCOPE
from plugins.procurement.costs_rules import Method
from plugins.procurement.costs_types import CostAllocation, CostKey, CostKeyParametersInput
from plugins.procurement.federation import Roots
from plugins.procurement.ocds import PackageKind, View, export

strawberry.enum(PackageKind, name="OcdsPackageKind", description="An OCDS release package or record package.")

SetCostKeyResult = Annotated[CostKey | api.Errors, strawberry.union("SetCostKeyResult")]
From = Annotated[date, strawberry.argument(name="from", description="The first day (included).")]
To = Annotated[date, strawberry.argument(description="The last day (included).")]


def _id(value: strawberry.ID, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


def _view(info: api.Info, c: federation.Caller) -> View:
    """Members (federation admins, a member municipality's people and tokens) or the public."""
    if c.federation_admin:
        return View.MEMBER
    if c.municipality_id is not None and c.vendor_id is None:
        api.check_access(info.context.principal, roles=PEOPLE, scope=READ_SCOPE)
        return View.MEMBER
    return View.PUBLIC


@strawberry.type
class OcdsFederationQuery:
    @api.field(description="A procurement and its call-offs as OCDS 1.1.5 open data (validated), as JSON.")
    async def procurement_ocds(
        self, info: api.Info, id: strawberry.ID, kind: PackageKind = PackageKind.RELEASE_PACKAGE
    ) -> JSON:
        c = await federation.caller(info)
        package = await export(
            api.database(info),
            c.federation_id,
            _id(id, "Procurement"),
            kind,
            view=_view(info, c),
            base_uri=info.context.services.settings.public_url,
            now=utcnow(),
        )
        return JSON(package)

    @api.field(description="Federation admins: a contract's cost keys, oldest first.")
    async def cost_keys(self, info: api.Info, contract_id: strawberry.ID) -> list[CostKey]:
        c = await federation.caller(info)
        federation.require_federation_admin(c)
        async with federation.shared(info, c) as scope:
            return [CostKey.of(k) for k in await costs.keys(scope, _id(contract_id, "Contract"))]

    @api.field(description="Federation admins: each member's cost, use and savings of a contract over some days.")
    async def cost_allocation(self, info: api.Info, contract_id: strawberry.ID, start: From, to: To) -> CostAllocation:
        c = await federation.caller(info)
        federation.require_federation_admin(c)
        result = await costs.allocation(api.database(info), c.federation_id, _id(contract_id, "Contract"), start, to)
        return CostAllocation.of(result)


@strawberry.type
class OcdsFederationMutation:
    @api.mutation(description="Federation admins: how a contract's cost is split among members from a date on.")
    @api.errors_as_data
    async def set_cost_key(
        self,
        info: api.Info,
        contract_id: strawberry.ID,
        valid_from: date,
        method: Method,
        annual_cost_sek: Decimal,
        parameters: CostKeyParametersInput | None = None,
    ) -> SetCostKeyResult:
        c = await federation.caller(info)
        federation.require_federation_admin(c)
        raw = parameters.as_dict() if parameters is not None else {}
        async with federation.shared(info, c) as scope:
            record = await costs.set_key(
                scope, c, _id(contract_id, "Contract"), valid_from, method, raw, annual_cost_sek
            )
        return CostKey.of(record)


@strawberry.type
class OcdsQuery:
    @api.field(description="This municipality's own cost, use and savings of a contract it shares, over some days.")
    async def own_cost_allocation(
        self, info: api.Info, contract_id: strawberry.ID, start: From, to: To
    ) -> CostAllocation:
        tenant = api.require_access(info, roles=ADMINS, scope=READ_SCOPE)
        c = await federation.caller(info)
        cid = _id(contract_id, "Contract")
        result = await costs.allocation(api.database(info), c.federation_id, cid, start, to)
        if not any(x.municipality_id == tenant for x in result.lines):
            raise api.NotFound("Contract", contract_id)  # not one it shares: as if it did not exist
        return CostAllocation.of(result.only(tenant))


ROOTS = Roots(
    query=OcdsQuery,
    federation_query=OcdsFederationQuery,
    federation_mutation=OcdsFederationMutation,
)
