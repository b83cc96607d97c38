"""GraphQL of the award decision, contracts with service levels, and call-offs.

The buyer's fields (award, sign, service levels) and the reads are federation roots; a call-off is
a municipality's own act, so ``placeCallOff`` is in the municipality's roots (procurement enabled).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated
from uuid import UUID

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import award, contracts, contracts_calloffs, contracts_levels, federation
from plugins.procurement.access import ADMINS, WRITE_SCOPE
from plugins.procurement.bidding_input import parse_id
from plugins.procurement.contracts_types import (
    AwardDecision,
    PlaceCallOffInput,
    ProcurementCallOff,
    ProcurementContract,
    ServiceLevelInput,
    SignContractInput,
)
from plugins.procurement.federation import Roots

AwardResult = Annotated[AwardDecision | api.Errors, strawberry.union("AwardProcurementResult")]
SignResult = Annotated[ProcurementContract | api.Errors, strawberry.union("SignContractResult")]
LevelsResult = Annotated[ProcurementContract | api.Errors, strawberry.union("SetServiceLevelsResult")]
CallOffResult = Annotated[ProcurementCallOff | api.Errors, strawberry.union("PlaceCallOffResult")]


async def _full(scope: api.Scope, records: Sequence[contracts.ContractRecord]) -> list[ProcurementContract]:
    ids = [r.id for r in records]
    levels = await contracts_levels.service_levels(scope, ids)
    call_offs = await contracts_calloffs.of_contracts(scope, ids)
    return [ProcurementContract.of(r, levels[r.id], call_offs[r.id]) for r in records]


async def _one(scope: api.Scope, c: federation.Caller, contract_id: UUID) -> ProcurementContract:
    return (await _full(scope, [await contracts.get(scope, c, contract_id)]))[0]


@strawberry.type
class ContractsFederationQuery:
    @api.field(description="The federation's contracts with service levels and call-offs (a vendor: its own).")
    async def contracts(self, info: api.Info) -> list[ProcurementContract]:
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            return await _full(scope, await contracts.listing(scope, c))

    @api.field(description="One contract with its service levels and call-offs.")
    async def contract(self, info: api.Info, id: strawberry.ID) -> ProcurementContract:
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            return await _one(scope, c, parse_id(id, "Contract"))


@strawberry.type
class ContractsFederationMutation:
    @api.mutation(description="The buyer: award each lot to its rank-1 qualified bid; the standstill starts.")
    @api.errors_as_data
    async def award_procurement(self, info: api.Info, id: strawberry.ID) -> AwardResult:
        c = await federation.caller(info)
        async with federation.shared(info, c) as scope:
            decision = await award.award(scope, c, parse_id(id, "Procurement"), now=utcnow())

        async def dispatch(scope: api.Scope, ids: list[UUID]) -> None:
            await api.dispatch_after_commit(info.context.services, scope, ids)

        await award.send_notices(api.database(info), decision, dispatch)
        return AwardDecision.of(decision)

    @api.mutation(description="The buyer: sign the contract of an award once its standstill period has ended.")
    @api.errors_as_data
    async def sign_contract(self, info: api.Info, input: SignContractInput) -> SignResult:
        c = await federation.caller(info)
        new = contracts.NewContract(
            parse_id(input.award_id, "Award"), input.starts_on, input.ends_on, input.covers_lockers
        )
        async with federation.shared(info, c) as scope:
            signed = await contracts.sign(scope, c, new, now=utcnow())
            return await _one(scope, c, signed.id)

    @api.mutation(description="The buyer: add or change a contract's service levels (by metric and severity).")
    @api.errors_as_data
    async def set_service_levels(
        self, info: api.Info, contract_id: strawberry.ID, levels: list[ServiceLevelInput]
    ) -> LevelsResult:
        c = await federation.caller(info)
        cid = parse_id(contract_id, "Contract")
        wanted = [
            contracts_levels.Level(
                x.metric.value, x.severity.value if x.severity else None, x.target, x.unit.value, x.penalty_sek
            )
            for x in levels
        ]
        async with federation.shared(info, c) as scope:
            await contracts_levels.set_service_levels(scope, c, cid, wanted)
            return await _one(scope, c, cid)


@strawberry.type
class ContractsMutation:
    @api.mutation(description="Call off from a framework contract for this municipality (its admins).")
    @api.errors_as_data
    async def place_call_off(self, info: api.Info, input: PlaceCallOffInput) -> CallOffResult:
        api.require_access(info, roles=ADMINS, scope=WRITE_SCOPE)
        c = await federation.caller(info)
        new = contracts_calloffs.NewCallOff(
            contract_id=parse_id(input.contract_id, "Contract"),
            quantity=input.quantity,
            value_sek=input.value_sek,
            description=input.description,
            locker_ids=tuple(parse_id(x, "Locker") for x in input.locker_ids),
        )
        return ProcurementCallOff.of(await contracts_calloffs.place(api.database(info), c, new, now=utcnow()))


ROOTS = Roots(
    mutation=ContractsMutation,
    federation_query=ContractsFederationQuery,
    federation_mutation=ContractsFederationMutation,
)
