"""Each member's cost of the federation's shared contracts that have a cost key, over a year (a
federation page, ``/web/federation/procurement/costs``): the procurement plugin's own allocation
(the function ``costAllocation`` calls), per contract and summed per member, as a chart and the
same numbers in tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.response import Template

from backend.services import Services
from backend.web.federation import federation_admin, federation_page, report_year, year_errors
from backend.web.i18n import gettext
from plugins.procurement import contracts as procurement_contracts
from plugins.procurement import costs as procurement_costs
from plugins.procurement.costs_report import Allocation
from plugins.procurement.web_caller import web_caller
from tenants.access import Principal


@dataclass(frozen=True)
class ContractCost:
    contract_id: UUID
    title: str
    vendor: str
    allocation: Allocation


@dataclass(frozen=True)
class MemberCost:
    municipality_id: UUID
    municipality: str
    cost_sek: Decimal


async def contract_costs(services: Services, principal: Principal, start: date, end: date) -> list[ContractCost]:
    """The allocation of every contract with a cost key, for the days start..end."""
    c = await web_caller(services, principal)
    async with services.db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        keyed = [r for r in await procurement_contracts.listing(scope, c) if await procurement_costs.keys(scope, r.id)]
    return [
        ContractCost(
            r.id, r.title, r.vendor, await procurement_costs.allocation(services.db, c.federation_id, r.id, start, end)
        )
        for r in keyed
    ]


def per_member(found: list[ContractCost]) -> list[MemberCost]:
    """Each member's cost summed over the contracts, in the order members first appear."""
    totals: dict[UUID, MemberCost] = {}
    for contract in found:
        for line in contract.allocation.lines:
            before = totals.get(line.municipality_id)
            total = (before.cost_sek if before else Decimal(0)) + line.cost_sek
            totals[line.municipality_id] = MemberCost(line.municipality_id, line.municipality, total)
    return list(totals.values())


def costs_view(found: list[ContractCost], year: int) -> dict[str, Any]:
    members = per_member(found)
    chart = {
        "rows": [(m.municipality, float(m.cost_sek)) for m in members],
        "title": gettext("Cost of shared contracts in %(year)s", year=year),
        "description": gettext("One bar per member: its share of the contracts' cost under their cost keys."),
    }
    total = sum((m.cost_sek for m in members), Decimal(0))
    return {"contracts": found, "per_member": members, "chart": chart, "total": total}


@get("/costs")
async def costs_page(request: Request[Any, Any, Any], year: str | None = None) -> Template:
    user, services = await federation_admin(request)
    template = "procurement/federation/costs.html"
    chosen = report_year(year)
    if chosen is None:
        return federation_page(
            request, user, template, status_code=400, errors=year_errors(), year=year or "", procurement=None
        )
    found = await contract_costs(services, user.principal, date(chosen, 1, 1), date(chosen, 12, 31))
    return federation_page(request, user, template, errors={}, year=chosen, procurement=costs_view(found, chosen))
