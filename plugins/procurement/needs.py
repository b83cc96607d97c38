"""A municipality's procurement needs (tenant-owned): recorded and withdrawn by its admins, seen
side by side across the federation by federation admins, and claimed by a joint procurement
(``in_procurement``) or given back when the municipality withdraws from it."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from plugins.procurement.config import PLUGIN_ID
from tenants import audit
from tenants.access import Actor
from tenants.database import Database
from tenants.provisioning import MunicipalityRecord, all_municipalities

MAX_AMOUNT = Decimal("1e12")


class NeedStatus(str, Enum):
    OPEN = "open"
    IN_PROCUREMENT = "in_procurement"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True)
class NewNeed:
    category: str
    title: str
    description: str
    estimated_volume: Decimal
    volume_unit: str
    estimated_value_sek: Decimal
    wanted_start: date


@dataclass(frozen=True)
class MemberNeed:
    """An open need of one member municipality, as the federation sees it."""

    municipality: MunicipalityRecord
    row: Any


def _text(value: str, field: str, most: int, *, required: bool = True) -> str:
    value = re.sub(r"\s+", " ", value).strip() if most <= 300 else value.strip()
    if required and not value:
        raise api.ValidationFailed.on(field, f"Fill in the {field}.")
    if len(value) > most:
        raise api.ValidationFailed.on(field, f"At most {most} characters.")
    return value


def _amount(value: Decimal, field: str) -> Decimal:
    if not value.is_finite() or value < 0 or value >= MAX_AMOUNT:
        raise api.ValidationFailed.on(field, "Give a number from 0 up to 999 999 999 999.99.")
    if value != value.quantize(Decimal("0.01")):
        raise api.ValidationFailed.on(field, "Use at most two decimals.")
    return value


def check_need(new: NewNeed, today: date) -> NewNeed:
    """The need as it will be stored, or a ValidationFailed naming the field."""
    checked = NewNeed(
        category=_text(new.category, "category", 100),
        title=_text(new.title, "title", 300),
        description=_text(new.description, "description", 10_000, required=False),
        estimated_volume=_amount(new.estimated_volume, "estimatedVolume"),
        volume_unit=_text(new.volume_unit, "volumeUnit", 50),
        estimated_value_sek=_amount(new.estimated_value_sek, "estimatedValueSek"),
        wanted_start=new.wanted_start,
    )
    if checked.wanted_start < today:
        raise api.ValidationFailed.on("wantedStart", f"The wanted start is in the past: choose {today} or later.")
    return checked


def parse_id(value: object, kind: str = "Need") -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


async def load(scope: api.Scope, need_id: UUID, *, lock: bool = False) -> Any:
    row = await scope.connection.fetchrow(
        "SELECT * FROM procurement_need WHERE tenant_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        scope.tenant,
        need_id,
    )
    if row is None:
        raise api.NotFound("Need", need_id)
    return row


async def record(scope: api.Scope, new: NewNeed, *, actor: Actor, today: date) -> Any:
    need = check_need(new, today)
    need_id = uuid4()
    row = await scope.connection.fetchrow(
        """INSERT INTO procurement_need (tenant_id, id, category, title, description, estimated_volume, volume_unit,
                                         estimated_value_sek, wanted_start, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *""",
        scope.tenant,
        need_id,
        need.category,
        need.title,
        need.description,
        need.estimated_volume,
        need.volume_unit,
        need.estimated_value_sek,
        need.wanted_start,
        actor.label[:320],
    )
    await audit.record(
        scope,
        actor=actor,
        action="procurement.need_recorded",
        target_kind="procurement_need",
        target_id=need_id,
        details={"category": need.category, "title": need.title, "estimated_value_sek": need.estimated_value_sek},
    )
    return row


async def withdraw(scope: api.Scope, need_id: UUID, *, actor: Actor) -> Any:
    row = await load(scope, need_id, lock=True)
    if row["status"] == NeedStatus.IN_PROCUREMENT.value:
        raise api.Conflict(
            "This need is part of a joint procurement: withdraw the municipality from that procurement first "
            "(mutation withdrawFromProcurement)."
        )
    if row["status"] == NeedStatus.WITHDRAWN.value:
        raise api.Conflict("This need is already withdrawn.")
    row = await scope.connection.fetchrow(
        "UPDATE procurement_need SET status = 'withdrawn' WHERE tenant_id = $1 AND id = $2 RETURNING *",
        scope.tenant,
        need_id,
    )
    await audit.record(
        scope, actor=actor, action="procurement.need_withdrawn", target_kind="procurement_need", target_id=need_id
    )
    return row


async def own(scope: api.Scope, status: NeedStatus | None = None) -> list[Any]:
    """The municipality's needs, newest first."""
    return list(
        await scope.connection.fetch(
            """SELECT * FROM procurement_need WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)
               ORDER BY created_at DESC, id""",
            scope.tenant,
            status.value if status else None,
        )
    )


async def members(db: Database, federation_id: UUID) -> list[MunicipalityRecord]:
    """The federation's municipalities that enabled procurement."""
    result = []
    for m in await all_municipalities(db, federation_id=federation_id):
        async with db.tenant(m.id) as scope:
            if await api.plugin_enabled(scope, PLUGIN_ID):
                result.append(m)
    return result


async def open_needs(db: Database, federation_id: UUID, category: str | None = None) -> list[MemberNeed]:
    """Every member's open needs (optionally of one category, in any letter case), each read in
    its own municipality's transaction."""
    wanted = category.strip().casefold() if category and category.strip() else None
    result: list[MemberNeed] = []
    for m in await all_municipalities(db, federation_id=federation_id):
        async with db.tenant(m.id) as scope:
            if not await api.plugin_enabled(scope, PLUGIN_ID):
                continue
            rows = await scope.connection.fetch(
                """SELECT * FROM procurement_need WHERE tenant_id = $1 AND status = 'open'
                   AND ($2::text IS NULL OR lower(category) = $2) ORDER BY wanted_start, created_at""",
                m.id,
                wanted,
            )
        result += [MemberNeed(m, r) for r in rows]
    return result


async def find(db: Database, federation_id: UUID, ids: Iterable[UUID]) -> dict[UUID, MemberNeed]:
    """The needs with these ids among the federation's members that enabled procurement (any status)."""
    wanted = list(set(ids))
    found: dict[UUID, MemberNeed] = {}
    for m in await all_municipalities(db, federation_id=federation_id):
        async with db.tenant(m.id) as scope:
            if not await api.plugin_enabled(scope, PLUGIN_ID):
                continue
            rows = await scope.connection.fetch(
                "SELECT * FROM procurement_need WHERE tenant_id = $1 AND id = ANY($2::uuid[])", m.id, wanted
            )
        found.update({r["id"]: MemberNeed(m, r) for r in rows})
    return found


class _Unclaimed(Exception):
    """A need changed between reading and claiming it: raised inside the transaction to roll it back."""


async def claim(db: Database, tenant: UUID, ids: list[UUID], procurement_id: UUID, *, actor: Actor) -> bool:
    """Mark open needs of one municipality as in this procurement; False (and nothing changed)
    when one of them is no longer open."""
    try:
        async with db.tenant(tenant) as scope:
            rows = await scope.connection.fetch(
                """UPDATE procurement_need SET status = 'in_procurement', procurement_id = $3
                   WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'open' RETURNING id""",
                tenant,
                ids,
                procurement_id,
            )
            if len(rows) != len(set(ids)):
                raise _Unclaimed()
            for need_id in ids:
                await audit.record(
                    scope,
                    actor=actor,
                    action="procurement.need_in_procurement",
                    target_kind="procurement_need",
                    target_id=need_id,
                    details={"procurement_id": procurement_id},
                )
    except _Unclaimed:
        return False
    return True


async def release(db: Database, tenant: UUID, procurement_id: UUID, *, actor: Actor, reason: str) -> list[UUID]:
    """Give the municipality's needs in this procurement back (open again)."""
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            """UPDATE procurement_need SET status = 'open', procurement_id = NULL
               WHERE tenant_id = $1 AND procurement_id = $2 AND status = 'in_procurement' RETURNING id""",
            tenant,
            procurement_id,
        )
        for r in rows:
            await audit.record(
                scope,
                actor=actor,
                action="procurement.need_released",
                target_kind="procurement_need",
                target_id=r["id"],
                details={"procurement_id": procurement_id, "reason": reason},
            )
    return [r["id"] for r in rows]
