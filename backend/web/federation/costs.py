"""Each member's cost of the federation's shared contracts that have a cost key, over a year:
the procurement plugin's own allocation (the function ``costAllocation`` calls), per contract
and summed per member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from backend.services import Services
from plugins.procurement import contracts as procurement_contracts
from plugins.procurement import costs as procurement_costs
from plugins.procurement.config import PLUGIN_ID
from plugins.procurement.costs_report import Allocation
from plugins.procurement.web_caller import web_caller
from plugins.registry import PluginRegistry
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


def installed(registry: PluginRegistry) -> bool:
    return registry.get(PLUGIN_ID) is not None


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
