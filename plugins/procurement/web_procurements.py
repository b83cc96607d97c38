"""The procurements page: the joint procurements the active municipality takes part in, each with
its status, tender deadline, lots, award decision, contracts and the municipality's own call-offs.
Read as the query ``procurements(participating: true)`` reads them (``acting`` then
``require_member``), with the award, contract and call-off reads of the plugin's services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.response import Template

from backend.services import Services
from backend.web.render import render
from backend.web.session import services_of, web_user
from plugins.procurement import award, contracts, contracts_calloffs, setup_queries, web_labels
from plugins.procurement.award import AwardRecord
from plugins.procurement.contracts import ContractRecord
from plugins.procurement.contracts_calloffs import CallOffRecord
from plugins.procurement.setup_access import require_member
from plugins.procurement.web_caller import acting_caller
from tenants.access import Principal

DECIDED = {"awarded", "contracted"}


@dataclass(frozen=True)
class Participation:
    """One procurement as the participating municipality sees it."""

    row: Any
    buyer: str
    own: Any  # this municipality's participant row
    lots: list[Any]
    awards: list[AwardRecord]
    contracts: list[tuple[ContractRecord, list[CallOffRecord]]]  # with this municipality's call-offs


async def participations(services: Services, principal: Principal) -> list[Participation]:
    c = await acting_caller(services, principal)
    require_member(c)
    mine = c.municipality_id
    result = []
    async with services.db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        rows = await setup_queries.listed(scope, status=None, participant=mine)
        d = await setup_queries.details(scope, [r["id"] for r in rows])
        signed = [x for x in await contracts.listing(scope, c) if x.procurement_id in {r["id"] for r in rows}]
        call_offs = await contracts_calloffs.of_contracts(scope, [x.id for x in signed])
        for r in rows:
            pid: UUID = r["id"]
            lead = r["lead_municipality_id"]
            result.append(
                Participation(
                    row=r,
                    buyer=d.names.get(lead, "") if lead else d.federation_name,
                    own=next((p for p in d.participants[pid] if p["municipality_id"] == mine), None),
                    lots=d.lots[pid],
                    awards=await award.awards(scope, pid) if r["status"] in DECIDED else [],
                    contracts=[
                        (x, [o for o in call_offs[x.id] if o.municipality_id == mine])
                        for x in signed
                        if x.procurement_id == pid
                    ],
                )
            )
    return result


@get("/procurements")
async def procurements_page(request: Request[Any, Any, Any]) -> Template:
    user = await web_user(request)
    found = await participations(services_of(request), user.principal)
    return render(request, user, "procurement/procurements.html", participations=found, labels=web_labels)


ROUTES = [procurements_page]
