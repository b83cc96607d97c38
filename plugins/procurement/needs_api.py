"""GraphQL of needs: a municipality's admins record, withdraw and list its own needs; federation
admins see every member's open needs side by side, grouped by category."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import federation, needs
from plugins.procurement.access import ADMINS, PEOPLE, READ_SCOPE, WRITE_SCOPE
from plugins.procurement.federation import Roots
from plugins.procurement.needs import NeedStatus

strawberry.enum(NeedStatus, name="ProcurementNeedStatus", description="open -> in_procurement; or withdrawn.")


@strawberry.type(description="A municipality's need of a service or supply, before or while it is procured.")
class ProcurementNeed:
    id: strawberry.ID
    municipality_id: strawberry.ID
    category: str = strawberry.field(description="Groups like needs across the federation (letter case aside).")
    title: str
    description: str
    estimated_volume: Decimal
    volume_unit: str
    estimated_value_sek: Decimal = strawberry.field(description="For the whole wanted contract period.")
    wanted_start: date
    status: NeedStatus
    procurement_id: strawberry.ID | None
    created_at: datetime
    created_by: str

    @classmethod
    def of(cls, r: Any) -> ProcurementNeed:
        return cls(
            id=strawberry.ID(str(r["id"])),
            municipality_id=strawberry.ID(str(r["tenant_id"])),
            category=r["category"],
            title=r["title"],
            description=r["description"],
            estimated_volume=r["estimated_volume"],
            volume_unit=r["volume_unit"],
            estimated_value_sek=r["estimated_value_sek"],
            wanted_start=r["wanted_start"],
            status=NeedStatus(r["status"]),
            procurement_id=strawberry.ID(str(r["procurement_id"])) if r["procurement_id"] else None,
            created_at=r["created_at"],
            created_by=r["created_by"],
        )


@strawberry.type(description="An open need of a member municipality.")
class MemberNeed:
    municipality_id: strawberry.ID
    municipality: str
    need: ProcurementNeed


@strawberry.type
class VolumeTotal:
    unit: str
    total: Decimal


@strawberry.type(description="The members' open needs of one category: candidates for a joint procurement.")
class NeedGroup:
    category: str
    needs: list[MemberNeed]
    municipalities: int
    total_value_sek: Decimal
    volumes: list[VolumeTotal] = strawberry.field(description="Summed per unit (units are not converted).")


@strawberry.input
class RecordNeedInput:
    category: str = strawberry.field(description="E.g. 'Leveransskåp som tjänst'; the same words group needs.")
    title: str
    description: str = ""
    estimated_volume: Decimal
    volume_unit: str = "st"
    estimated_value_sek: Decimal = strawberry.field(description="For the whole wanted contract period, in SEK.")
    wanted_start: date


RecordNeedResult = Annotated[ProcurementNeed | api.Errors, strawberry.union("RecordNeedResult")]
WithdrawNeedResult = Annotated[ProcurementNeed | api.Errors, strawberry.union("WithdrawNeedResult")]


def group(found: list[needs.MemberNeed]) -> list[NeedGroup]:
    groups: dict[str, list[needs.MemberNeed]] = {}
    for n in found:
        groups.setdefault(n.row["category"].casefold(), []).append(n)
    result = []
    for members in groups.values():
        volumes: dict[str, Decimal] = {}
        for n in members:
            volumes[n.row["volume_unit"]] = volumes.get(n.row["volume_unit"], Decimal(0)) + n.row["estimated_volume"]
        result.append(
            NeedGroup(
                category=members[0].row["category"],
                needs=[
                    MemberNeed(
                        municipality_id=strawberry.ID(str(n.municipality.id)),
                        municipality=n.municipality.name,
                        need=ProcurementNeed.of(n.row),
                    )
                    for n in members
                ],
                municipalities=len({n.municipality.id for n in members}),
                total_value_sek=sum((n.row["estimated_value_sek"] for n in members), Decimal(0)),
                volumes=[VolumeTotal(unit=u, total=t) for u, t in sorted(volumes.items())],
            )
        )
    return sorted(result, key=lambda g: g.category.casefold())


@strawberry.type
class NeedsQuery:
    @api.field(description="This municipality's procurement needs, newest first.")
    async def procurement_needs(self, info: api.Info, status: NeedStatus | None = None) -> list[ProcurementNeed]:
        tenant = api.require_access(info, roles=PEOPLE, scope=READ_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            return [ProcurementNeed.of(r) for r in await needs.own(scope, status)]


@strawberry.type
class NeedsMutation:
    @api.mutation(description="Record a need this municipality wants procured (alone or jointly).")
    @api.errors_as_data
    async def record_need(self, info: api.Info, input: RecordNeedInput) -> RecordNeedResult:
        tenant = api.require_access(info, roles=ADMINS, scope=WRITE_SCOPE)
        new = needs.NewNeed(
            category=input.category,
            title=input.title,
            description=input.description,
            estimated_volume=input.estimated_volume,
            volume_unit=input.volume_unit,
            estimated_value_sek=input.estimated_value_sek,
            wanted_start=input.wanted_start,
        )
        async with api.database(info).tenant(tenant) as scope:
            row = await needs.record(scope, new, actor=info.context.principal.actor, today=utcnow().date())
        return ProcurementNeed.of(row)

    @api.mutation(description="Withdraw an open need (one in a procurement: withdraw from the procurement first).")
    @api.errors_as_data
    async def withdraw_need(self, info: api.Info, id: strawberry.ID) -> WithdrawNeedResult:
        tenant = api.require_access(info, roles=ADMINS, scope=WRITE_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            row = await needs.withdraw(scope, needs.parse_id(id), actor=info.context.principal.actor)
        return ProcurementNeed.of(row)


@strawberry.type
class NeedsFederationQuery:
    @api.field(description="Federation admins: every member's open needs side by side, grouped by category.")
    async def federation_needs(self, info: api.Info, category: str | None = None) -> list[NeedGroup]:
        c = await federation.caller(info)
        federation.require_federation_admin(c)
        return group(await needs.open_needs(api.database(info), c.federation_id, category))


ROOTS = Roots(
    query=NeedsQuery,
    mutation=NeedsMutation,
    federation_query=NeedsFederationQuery,
    types=(ProcurementNeed,),
)
