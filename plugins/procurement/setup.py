"""Setting up a joint procurement until it is published: a federation admin starts it from
members' needs (the needs are claimed in their municipalities first, then the procurement is
created at federation level); municipalities join and withdraw; it is published under the
procedure the rules give for its value on the day of publication."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from plugins.procurement import federation, needs, rules
from plugins.procurement.federation import Caller
from plugins.procurement.rules import ContractKind, Procedure
from plugins.procurement.setup_access import require_manager
from plugins.procurement.setup_checks import check_model, text
from tenants.database import Database
from tenants.provisioning import get_municipality

MAX_NEEDS = 500
AWARDED = frozenset({"awarded", "contracted"})


@dataclass(frozen=True)
class NewProcurement:
    title: str
    description: str
    category: str
    contract_kind: ContractKind
    framework: bool
    duration_months: int
    need_ids: list[UUID]
    lead_municipality_id: UUID | None = None


@dataclass(frozen=True)
class Part:
    """One municipality's part, summed over its needs."""

    municipality_id: UUID
    need_ids: list[UUID]
    volume: Decimal
    value: Decimal


async def load(scope: api.Scope, procurement_id: UUID, *, lock: bool = False) -> Any:
    row = await scope.connection.fetchrow(
        "SELECT * FROM procurement WHERE federation_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        scope.federation_id,
        procurement_id,
    )
    if row is None:
        raise api.NotFound("Procurement", procurement_id)
    return row


def require_planning(row: Any, what: str) -> None:
    if row["status"] != "planning":
        raise api.Conflict(f"The procurement is {row['status']}: {what} only while it is being planned.")


async def _parts(db: Database, c: Caller, new: NewProcurement) -> list[Part]:
    """The needs by municipality, once every one is found, open, of the category, in one unit."""
    if not new.need_ids:
        raise api.ValidationFailed.on("needIds", "Choose at least one need (query federationNeeds).")
    if len(new.need_ids) > MAX_NEEDS:
        raise api.ValidationFailed.on("needIds", f"At most {MAX_NEEDS} needs per procurement.")
    found = await needs.find(db, c.federation_id, new.need_ids)
    for need_id in new.need_ids:
        if need_id not in found:
            raise api.NotFound("Need", need_id)
        row = found[need_id].row
        if row["status"] != "open":
            raise api.Conflict(f"The need '{row['title']}' ({need_id}) is {row['status']}, not open.")
        if row["category"].casefold() != new.category.casefold():
            raise api.ValidationFailed.on(
                "needIds", f"The need '{row['title']}' is of the category '{row['category']}', not '{new.category}'."
            )
    units = {found[i].row["volume_unit"] for i in new.need_ids}
    if len(units) > 1:
        raise api.ValidationFailed.on(
            "needIds", f"The needs count volumes in different units ({', '.join(sorted(units))}): choose one unit."
        )
    by_municipality: dict[UUID, list[Any]] = {}
    for need_id in dict.fromkeys(new.need_ids):
        n = found[need_id]
        by_municipality.setdefault(n.municipality.id, []).append(n.row)
    return [
        Part(
            m,
            [r["id"] for r in rows],
            sum((r["estimated_volume"] for r in rows), Decimal(0)),
            sum((r["estimated_value_sek"] for r in rows), Decimal(0)),
        )
        for m, rows in by_municipality.items()
    ]


async def start(db: Database, c: Caller, new: NewProcurement, *, now: datetime) -> UUID:
    """Create the procurement (status planning) from members' needs; returns its id."""
    federation.require_federation_admin(c)
    new = NewProcurement(
        title=text(new.title, "title", 300),
        description=text(new.description, "description", 20_000, required=False),
        category=text(new.category, "category", 100),
        contract_kind=new.contract_kind,
        framework=new.framework,
        duration_months=new.duration_months,
        need_ids=new.need_ids,
        lead_municipality_id=new.lead_municipality_id,
    )
    rules.check_duration(new.framework, new.duration_months)
    parts = await _parts(db, c, new)
    lead = new.lead_municipality_id
    if lead is not None and lead not in {p.municipality_id for p in parts}:
        try:
            member = (await get_municipality(db, lead)).federation_id == c.federation_id
        except api.NotFound:
            member = False
        raise api.ValidationFailed.on(
            "leadMunicipalityId",
            "The lead municipality must take part: include one of its needs."
            if member
            else f"Municipality {lead} is not a member of this federation.",
        )
    value = sum((p.value for p in parts), Decimal(0))
    async with db.shared() as scope:
        classification = await rules.classify(scope, value, new.contract_kind, now.date())
    pid = uuid4()
    claimed: list[UUID] = []
    try:
        for p in parts:
            if not await needs.claim(db, p.municipality_id, p.need_ids, pid, actor=c.principal.actor):
                raise api.Conflict("A chosen need changed a moment ago (withdrawn or taken): choose the needs again.")
            claimed.append(p.municipality_id)
        async with db.federation(c.federation_id) as scope:
            await _create(scope, c, pid, new, parts, value, classification.procedure, now)
    except BaseException:
        for m in claimed:
            await needs.release(db, m, pid, actor=c.principal.actor, reason="the procurement was not created")
        raise
    return pid


async def _create(
    scope: api.Scope,
    c: Caller,
    pid: UUID,
    new: NewProcurement,
    parts: list[Part],
    value: Decimal,
    procedure: Procedure,
    now: datetime,
) -> None:
    conn = scope.connection
    await conn.execute(
        """INSERT INTO procurement (federation_id, id, ocid, title, description, category, contract_kind,
                                    lead_municipality_id, estimated_value_sek, procedure, framework, duration_months,
                                    created_at, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)""",
        c.federation_id,
        pid,
        federation.ocid(pid),
        new.title,
        new.description,
        new.category,
        new.contract_kind.value,
        new.lead_municipality_id,
        value,
        procedure.value,
        new.framework,
        new.duration_months,
        now,
        c.label[:320],
    )
    for p, share in zip(parts, rules.split_shares([p.value for p in parts]), strict=True):
        await conn.execute(
            """INSERT INTO procurement_participant (federation_id, procurement_id, municipality_id, share_percent,
                                                    estimated_volume, need_id, joined_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7)""",
            c.federation_id,
            pid,
            p.municipality_id,
            share,
            p.volume,
            p.need_ids[0],
            now,
        )
    await federation.log(
        scope,
        c,
        "procurement.started",
        procurement_id=pid,
        details={
            "title": new.title,
            "estimated_value_sek": value,
            "procedure": procedure.value,
            "needs": [str(i) for p in parts for i in p.need_ids],
            "lead_municipality_id": new.lead_municipality_id,
        },
    )


async def publish(
    scope: api.Scope,
    c: Caller,
    pid: UUID,
    *,
    deadline: datetime,
    electronic: bool,
    documentation: str | None,
    now: datetime,
) -> rules.Classification:
    """Publish under the procedure the rules give on the day (every check before the write)."""
    row = await load(scope, pid, lock=True)
    require_manager(c, row)
    require_planning(row, "it is published")
    if deadline.tzinfo is None:
        raise api.ValidationFailed.on("tenderDeadline", "Give the deadline with a time zone offset.")
    conn = scope.connection
    lots = await conn.fetch(
        "SELECT id, number FROM procurement_lot WHERE federation_id = $1 AND procurement_id = $2",
        scope.federation_id,
        pid,
    )
    if not lots:
        raise api.ValidationFailed.on("lots", "Add at least one lot (mutation addLot) before publishing.")
    taking_part = await conn.fetchval(
        """SELECT count(*) FROM procurement_participant WHERE federation_id = $1 AND procurement_id = $2
           AND withdrawn_at IS NULL""",
        scope.federation_id,
        pid,
    )
    if not taking_part:
        raise api.ValidationFailed.on("participants", "Nobody takes part: a municipality must join before publishing.")
    requirements = await conn.fetch(
        "SELECT * FROM procurement_requirement WHERE federation_id = $1 AND procurement_id = $2",
        scope.federation_id,
        pid,
    )
    check_model(row["evaluation_model"], row["quality_method"], row["price_weight"], lots, requirements)
    documented = text(
        documentation if documentation is not None else row["documentation"], "documentation", 100_000, required=False
    )
    classification = await rules.classify(
        scope, row["estimated_value_sek"], ContractKind(row["contract_kind"]), now.date()
    )
    if classification.documentation_required and not documented:
        raise api.ValidationFailed.on(
            "documentation",
            "A direct procurement of this value must be documented (LOU 19 kap. 30 §): write why and how the "
            "vendor is chosen, then publish again.",
        )
    rules.check_tender_deadline(classification.procedure, electronic, now, deadline)
    await conn.execute(
        """UPDATE procurement SET status = 'published', procedure = $3, electronic = $4, documentation = $5,
                                  published_at = $6, tender_deadline = $7
           WHERE federation_id = $1 AND id = $2""",
        scope.federation_id,
        pid,
        classification.procedure.value,
        electronic,
        documented,
        now,
        deadline,
    )
    await federation.log(
        scope,
        c,
        "procurement.published",
        procurement_id=pid,
        details={
            "procedure": classification.procedure.value,
            "estimated_value_sek": classification.value_sek,
            "tender_deadline": deadline,
            "electronic": electronic,
            "explanation": classification.explanation,
        },
    )
    return classification
