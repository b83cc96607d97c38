"""Setting up a joint procurement on the real database, at service level: needs, the dated rules
with the seeded rows, starting from members' needs, joining and withdrawing, lots, requirements,
documents, the evaluation model, publishing under the right procedure, questions; every bad
input is a typed error that changes nothing, and no other federation sees anything."""

from __future__ import annotations

import hashlib
import random
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend import plugin_api as api
from backend.lib import utcnow
from plugins import state as plugin_state
from plugins.procurement import needs, rules, setup, setup_items, setup_participants, setup_queries
from plugins.procurement.federation import Caller
from plugins.procurement.rules import ContractKind, Procedure
from plugins.procurement.setup_checks import EvaluationModel, QualityMethod, RequirementKind
from plugins.registry import PluginRegistry
from tenants import provisioning
from tenants.access import Actor, Principal, Role
from tenants.database import Database
from tests.conftest import World, make_world

SYSTEM = Actor.system("test")
DAY = date(2026, 6, 1)


@dataclass(frozen=True)
class Fed:
    db: Database
    id: uuid.UUID
    admin: Caller
    members: dict[str, Caller]  # a, b, c: each municipality's admin


def municipality_admin(fed: uuid.UUID, tenant: uuid.UUID) -> Caller:
    actor = Actor("user", uuid.uuid4(), f"admin-{tenant.hex[:6]}@kommun.example.se")
    p = Principal(actor, fed, memberships={tenant: frozenset({Role.TENANT_ADMIN})}, tenant_id=tenant)
    return Caller(p, fed, tenant, None, False)


def federation_admin(fed: uuid.UUID) -> Caller:
    p = Principal(Actor("user", uuid.uuid4(), "forbund@example.se"), fed, is_federation_admin=True)
    return Caller(p, fed, None, None, True)


def tenant_of(c: Caller) -> uuid.UUID:
    assert c.municipality_id is not None
    return c.municipality_id


async def enable(db: Database, tenant: uuid.UUID) -> None:
    async with db.tenant(tenant) as scope:
        if not await api.plugin_enabled(scope, "procurement"):
            await plugin_state.enable(scope, PluginRegistry.discover(), "procurement", config={}, actor=SYSTEM)


async def federation(db: Database, world: World) -> Fed:
    third = await provisioning.create_municipality(
        db,
        federation_id=world.federation_id,
        name=f"Kommun C {world.a.slug}",
        code="1495",
        slug=f"c-{world.a.slug}",
        actor=SYSTEM,
    )
    ids = {"a": world.a.id, "b": world.b.id, "c": third.id}
    for tenant in ids.values():
        await enable(db, tenant)
    fed = world.federation_id
    return Fed(db, fed, federation_admin(fed), {k: municipality_admin(fed, v) for k, v in ids.items()})


@pytest.fixture
async def fed(db: Database, world: World) -> Fed:
    return await federation(db, world)


def new_need(
    value: int, category: str = "Leveransskåp som tjänst", volume: int = 10, unit: str = "skåp"
) -> needs.NewNeed:
    return needs.NewNeed(
        category=category,
        title=f"Skåp för hemtjänsten ({value} kr)",
        description="Tempererade skåp vid vårdcentralerna.",
        estimated_volume=Decimal(volume),
        volume_unit=unit,
        estimated_value_sek=Decimal(value),
        wanted_start=date.today() + timedelta(days=90),
    )


async def need(f: Fed, who: str, value: int, **kw: Any) -> uuid.UUID:
    c = f.members[who]
    assert c.municipality_id
    async with f.db.tenant(c.municipality_id) as scope:
        row = await needs.record(scope, new_need(value, **kw), actor=c.principal.actor, today=date.today())
    return uuid.UUID(str(row["id"]))


async def need_row(f: Fed, who: str, need_id: uuid.UUID) -> Any:
    tenant = f.members[who].municipality_id
    assert tenant
    async with f.db.tenant(tenant) as scope:
        return await needs.load(scope, need_id)


def procurement(need_ids: list[uuid.UUID], **kw: Any) -> setup.NewProcurement:
    fields: dict[str, Any] = {
        "title": "Tempererade leveransskåp som tjänst",
        "description": "Skåp, drift och service i tre kommuner.",
        "category": "leveransskåp som tjänst",
        "contract_kind": ContractKind.SERVICES,
        "framework": True,
        "duration_months": 48,
        "need_ids": need_ids,
        **kw,
    }
    return setup.NewProcurement(**fields)


async def started(f: Fed, *values: int) -> uuid.UUID:
    ids = [await need(f, who, v) for who, v in zip("abc", values, strict=False)]
    return await setup.start(f.db, f.admin, procurement(ids), now=utcnow())


async def load(f: Fed, pid: uuid.UUID) -> Any:
    async with f.db.federation(f.id) as scope:
        return await setup.load(scope, pid)


async def participants(f: Fed, pid: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    async with f.db.federation(f.id) as scope:
        rows = await setup_queries.details(scope, [pid])
    return {r["municipality_id"]: r["share_percent"] for r in rows.participants[pid] if r["withdrawn_at"] is None}


async def lot(f: Fed, pid: uuid.UUID, by: Caller | None = None) -> Any:
    async with f.db.federation(f.id) as scope:
        return await setup_items.add_lot(
            scope, by or f.admin, pid, title="Skåp och drift", description="", estimated_value_sek=Decimal(0)
        )


async def publish(
    f: Fed, pid: uuid.UUID, days: float, *, electronic: bool = True, documentation: str | None = None
) -> rules.Classification:
    now = utcnow()
    async with f.db.federation(f.id) as scope:
        return await setup.publish(
            scope,
            f.admin,
            pid,
            deadline=now + timedelta(days=days),
            electronic=electronic,
            documentation=documentation,
            now=now,
        )


async def log_actions(f: Fed, pid: uuid.UUID) -> list[str]:
    async with f.db.federation(f.id) as scope:
        rows = await scope.connection.fetch(
            "SELECT action FROM procurement_log WHERE procurement_id = $1 ORDER BY id", pid
        )
    return [r["action"] for r in rows]


# --- The rules on the seeded rows ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind", "procedure", "documented"),
    [
        (99_999, ContractKind.SERVICES, Procedure.DIRECT, False),
        (100_000, ContractKind.SERVICES, Procedure.DIRECT, True),
        (699_999, ContractKind.SERVICES, Procedure.DIRECT, True),
        (700_000, ContractKind.SERVICES, Procedure.BELOW_THRESHOLD, False),
        (2_375_999, ContractKind.SUPPLIES, Procedure.BELOW_THRESHOLD, False),
        (2_376_000, ContractKind.SERVICES, Procedure.OPEN, False),  # 216 000 EUR at the seeded 11.0
        (8_000_000, ContractKind.SOCIAL, Procedure.BELOW_THRESHOLD, False),
        (8_250_000, ContractKind.SOCIAL, Procedure.OPEN, False),
        (50_000_000, ContractKind.WORKS, Procedure.BELOW_THRESHOLD, False),
    ],
)
async def test_the_seeded_rows_classify_a_value_with_the_rows_they_used(
    db: Database, value: int, kind: ContractKind, procedure: Procedure, documented: bool
) -> None:
    async with db.shared() as scope:
        c = await rules.classify(scope, Decimal(value), kind, DAY)
    assert (c.procedure, c.documentation_required) == (procedure, documented)
    assert all(u.threshold.valid_from <= DAY for u in c.used)
    if procedure is not Procedure.DIRECT:
        eu = c.used[-1]
        assert eu.rate is not None and eu.rate.sek == Decimal(11) and eu.threshold.currency == "EUR"


async def test_before_the_eu_thresholds_of_2026_there_is_no_row_and_the_error_says_what_to_enter(db: Database) -> None:
    async with db.shared() as scope:
        with pytest.raises(api.Conflict, match="setThreshold"):
            await rules.classify(scope, Decimal(1), ContractKind.SERVICES, date(2025, 6, 1))


async def test_a_new_dated_exchange_rate_applies_from_its_day_and_old_days_keep_theirs(
    db: Database, world: World
) -> None:
    day = date(2090 + random.randrange(900), 1, 1)
    async with db.federation(world.federation_id) as scope:
        await rules.add_exchange_rate(
            scope,
            currency="EUR",
            valid_from=day,
            sek=Decimal("12.5"),
            source="Kommissionens meddelande",
            today=date.today(),
        )
        with pytest.raises(api.Conflict, match="already there"):
            await rules.add_exchange_rate(
                scope, currency="EUR", valid_from=day, sek=Decimal(13), source="igen", today=date.today()
            )
        after = await rules.classify(scope, Decimal(2_600_000), ContractKind.SERVICES, day)
        before = await rules.classify(scope, Decimal(2_600_000), ContractKind.SERVICES, day - timedelta(days=1))
    assert after.procedure is Procedure.BELOW_THRESHOLD  # 216 000 x 12.5 = 2 700 000
    assert (
        before.procedure in (Procedure.OPEN, Procedure.BELOW_THRESHOLD) and before.used[-1].rate != after.used[-1].rate
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"valid_from": date(2020, 1, 1)}, "validFrom"),
        ({"kind": "eu_everything"}, "kind"),
        ({"kind": "direct", "currency": "EUR"}, "currency"),
        ({"amount": Decimal(0)}, "amount"),
        ({"source": ""}, "source"),
    ],
)
async def test_a_bad_threshold_is_refused_and_nothing_is_added(
    db: Database, world: World, change: dict[str, Any], field: str
) -> None:
    fields: dict[str, Any] = {
        "kind": "eu_services",
        "valid_from": date(2099, 12, 31),
        "amount": Decimal(230_000),
        "currency": "EUR",
        "source": "EU 2028-2029",
        "today": date.today(),
        **change,
    }
    async with db.federation(world.federation_id) as scope:
        with pytest.raises(api.ValidationFailed) as e:
            await rules.add_threshold(scope, **fields)
        assert e.value.fields[0].field == field
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM procurement_threshold WHERE valid_from = $1", fields["valid_from"]
            )
            == 0
        )


# --- Needs ---------------------------------------------------------------------------------------


async def test_federation_admins_see_every_members_open_needs_but_not_those_without_the_plugin(
    fed: Fed, world: World
) -> None:
    first = await need(fed, "a", 300_000)
    await need(fed, "b", 200_000, category="LEVERANSSKÅP SOM TJÄNST")
    withdrawn = await need(fed, "c", 100_000)
    tenant = fed.members["c"].municipality_id
    assert tenant
    async with fed.db.tenant(tenant) as scope:
        await needs.withdraw(scope, withdrawn, actor=SYSTEM)
        with pytest.raises(api.Conflict, match="already withdrawn"):
            await needs.withdraw(scope, withdrawn, actor=SYSTEM)
    outsider = await provisioning.create_municipality(
        fed.db,
        federation_id=fed.id,
        name=f"Kommun D {world.a.slug}",
        code="1496",
        slug=f"d-{world.a.slug}",
        actor=SYSTEM,
    )
    async with fed.db.tenant(outsider.id) as scope:  # a need recorded, then the plugin never enabled
        await scope.connection.execute(
            """INSERT INTO procurement_need (tenant_id, id, category, title, estimated_volume,
                                             estimated_value_sek, wanted_start)
               VALUES ($1, $2, 'Leveransskåp som tjänst', 'x', 1, 1, now())""",
            outsider.id,
            uuid.uuid4(),
        )
    found = await needs.open_needs(fed.db, fed.id, " leveransskåp SOM tjänst ")
    assert sorted(n.row["estimated_value_sek"] for n in found) == [200_000, 300_000]
    assert {n.municipality.id for n in found} == {world.a.id, world.b.id}
    assert first in {n.row["id"] for n in found}
    assert await needs.open_needs(fed.db, (await make_world(fed.db)).federation_id) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "  "}, "category"),
        ({"title": "x" * 301}, "title"),
        ({"estimated_volume": Decimal(-1)}, "estimatedVolume"),
        ({"estimated_value_sek": Decimal("10.001")}, "estimatedValueSek"),
        ({"estimated_value_sek": Decimal("NaN")}, "estimatedValueSek"),
        ({"wanted_start": date(2020, 1, 1)}, "wantedStart"),
    ],
)
async def test_a_bad_need_is_refused_and_nothing_is_recorded(fed: Fed, change: dict[str, Any], field: str) -> None:
    good = new_need(1000)
    bad = needs.NewNeed(**{**good.__dict__, **change})
    tenant = fed.members["a"].municipality_id
    assert tenant
    async with fed.db.tenant(tenant) as scope:
        with pytest.raises(api.ValidationFailed) as e:
            await needs.record(scope, bad, actor=SYSTEM, today=date.today())
        assert e.value.fields[0].field == field
        assert await needs.own(scope) == []


# --- Starting from needs -------------------------------------------------------------------------


async def test_a_federation_admin_starts_a_joint_procurement_from_three_members_needs(fed: Fed) -> None:
    ids = [await need(fed, "a", 300_000), await need(fed, "b", 200_000), await need(fed, "c", 100_000)]
    pid = await setup.start(fed.db, fed.admin, procurement(ids), now=utcnow())
    row = await load(fed, pid)
    assert row["status"] == "planning" and row["ocid"] == f"ocds-samverka-{pid}"
    assert row["estimated_value_sek"] == 600_000 and row["procedure"] == "direct"
    shares = await participants(fed, pid)
    assert sorted(shares.values()) == [Decimal("16.67"), Decimal("33.33"), Decimal("50.00")]
    for who, need_id in zip("abc", ids, strict=True):
        n = await need_row(fed, who, need_id)
        assert (n["status"], n["procurement_id"]) == ("in_procurement", pid)
    assert await log_actions(fed, pid) == ["procurement.started"]
    async with fed.db.tenant(tenant_of(fed.members["a"])) as scope:
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'procurement.need_in_procurement' AND target_id = $1",
                str(ids[0]),
            )
            == 1
        )


async def test_starting_with_a_bad_need_changes_nothing(fed: Fed) -> None:
    open_a = await need(fed, "a", 300_000)
    other_kind = await need(fed, "b", 200_000, category="Trygghetslarm")
    taken = await need(fed, "c", 100_000)
    await setup.start(fed.db, fed.admin, procurement([taken]), now=utcnow())
    cases: list[tuple[list[uuid.UUID], dict[str, Any], type[Exception]]] = [
        ([open_a, other_kind], {}, api.ValidationFailed),
        ([open_a, taken], {}, api.Conflict),
        ([open_a, uuid.uuid4()], {}, api.NotFound),
        ([], {}, api.ValidationFailed),
        ([open_a], {"duration_months": 49}, api.ValidationFailed),
        ([open_a], {"title": " "}, api.ValidationFailed),
        ([open_a], {"lead_municipality_id": fed.members["b"].municipality_id}, api.ValidationFailed),
    ]
    for ids, change, error in cases:
        with pytest.raises(error):
            await setup.start(fed.db, fed.admin, procurement(ids, **change), now=utcnow())
    with pytest.raises(api.PermissionDenied):
        await setup.start(fed.db, fed.members["a"], procurement([open_a]), now=utcnow())
    assert (await need_row(fed, "a", open_a))["status"] == "open"
    assert (await need_row(fed, "b", other_kind))["status"] == "open"
    async with fed.db.federation(fed.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM procurement") == 1


async def test_needs_in_another_unit_cannot_be_added_up(fed: Fed) -> None:
    a = await need(fed, "a", 300_000)
    b = await need(fed, "b", 300_000, unit="timmar")
    with pytest.raises(api.ValidationFailed, match="different units"):
        await setup.start(fed.db, fed.admin, procurement([a, b]), now=utcnow())


# --- Joining and withdrawing ---------------------------------------------------------------------


async def test_a_municipality_joins_at_the_value_per_unit_and_withdraws_and_its_needs_reopen(fed: Fed) -> None:
    pid = await started(fed, 300_000, 100_000)  # a and b, 10 units each
    c = fed.members["c"]
    async with fed.db.federation(fed.id) as scope:
        with pytest.raises(api.ValidationFailed):
            await setup_participants.join(scope, c, pid, Decimal(0), None, now=utcnow())
        with pytest.raises(api.ValidationFailed):
            await setup_participants.join(scope, c, pid, Decimal(5), Decimal(100), now=utcnow())
    await setup_participants.join_procurement(fed.db, c, pid, Decimal(20), None, now=utcnow())
    row = await load(fed, pid)
    assert row["estimated_value_sek"] == 800_000 and row["procedure"] == "below_threshold"  # 20 x 20 000 added
    shares = await participants(fed, pid)
    assert shares[tenant_of(c)] == Decimal("50.00") and sum(shares.values()) == 100

    b = fed.members["b"]
    await setup_participants.withdraw_from_procurement(fed.db, b, pid, now=utcnow())
    shares = await participants(fed, pid)
    assert b.municipality_id not in shares and sum(shares.values()) == 100
    row = await load(fed, pid)
    assert row["estimated_value_sek"] == 700_000  # b's 12.5 % of 800 000 left with it
    async with fed.db.tenant(tenant_of(b)) as scope:
        assert [n["status"] for n in await needs.own(scope)] == ["open"]
    with pytest.raises(api.Conflict, match="does not take part"):
        await setup_participants.withdraw_from_procurement(fed.db, b, pid, now=utcnow())
    assert await log_actions(fed, pid) == ["procurement.started", "procurement.joined", "procurement.withdrawn"]


async def test_a_participant_changes_its_part_while_the_procurement_is_planned(fed: Fed) -> None:
    pid = await started(fed, 300_000, 100_000)  # 10 units each: 20 000 SEK per unit
    a, b = fed.members["a"], fed.members["b"]
    await setup_participants.join_procurement(fed.db, b, pid, Decimal(30), None, now=utcnow())
    assert (await load(fed, pid))["estimated_value_sek"] == 900_000
    assert await participants(fed, pid) == {tenant_of(a): Decimal("33.33"), tenant_of(b): Decimal("66.67")}
    await setup_participants.join_procurement(fed.db, a, pid, Decimal(10), Decimal(50), now=utcnow())
    assert await participants(fed, pid) == {tenant_of(a): Decimal("50.00"), tenant_of(b): Decimal("50.00")}
    async with fed.db.federation(fed.id) as scope:
        rows = (await setup_queries.details(scope, [pid])).participants[pid]
    assert all(r["need_id"] is not None for r in rows)  # still the parts of their needs
    actions = await log_actions(fed, pid)
    assert actions.count("procurement.participation_changed") == 2


async def test_a_chosen_share_shrinks_the_others_in_proportion(fed: Fed) -> None:
    pid = await started(fed, 300_000, 100_000)
    await setup_participants.join_procurement(fed.db, fed.members["c"], pid, Decimal(5), Decimal(20), now=utcnow())
    shares = await participants(fed, pid)
    assert sorted(shares.values()) == [Decimal("20.00"), Decimal("20.00"), Decimal("60.00")]
    assert (await load(fed, pid))["estimated_value_sek"] == 500_000


async def test_withdrawing_after_the_award_is_a_conflict_and_changes_nothing(fed: Fed) -> None:
    pid = await started(fed, 300_000, 100_000)
    async with fed.db.federation(fed.id) as scope:  # the award itself is another part's work
        await scope.connection.execute(
            """UPDATE procurement SET status = 'awarded', tender_deadline = now() - interval '1 day',
                                      published_at = now() - interval '40 days' WHERE id = $1""",
            pid,
        )
    b = fed.members["b"]
    with pytest.raises(api.Conflict, match="awarded"):
        await setup_participants.withdraw_from_procurement(fed.db, b, pid, now=utcnow())
    assert b.municipality_id in await participants(fed, pid)
    async with fed.db.tenant(tenant_of(b)) as scope:
        assert [n["status"] for n in await needs.own(scope)] == ["in_procurement"]


async def test_joining_a_published_procurement_is_a_conflict(fed: Fed) -> None:
    pid = await started(fed, 300_000)
    await lot(fed, pid)
    await publish(fed, pid, 5, documentation="Tre leverantörer tillfrågades; lägsta pris valdes.")
    with pytest.raises(api.Conflict, match="published"):
        await setup_participants.join_procurement(fed.db, fed.members["b"], pid, Decimal(5), None, now=utcnow())


# --- Publishing ----------------------------------------------------------------------------------


async def test_a_value_of_exactly_700_000_is_not_direct_and_needs_ten_days(fed: Fed) -> None:
    pid = await started(fed, 400_000, 300_000)
    await lot(fed, pid)
    with pytest.raises(api.ValidationFailed, match="at least 10 days") as e:
        await publish(fed, pid, 9)
    assert e.value.fields[0].field == "tenderDeadline"
    c = await publish(fed, pid, 10.01)
    assert c.procedure is Procedure.BELOW_THRESHOLD
    row = await load(fed, pid)
    assert (row["status"], row["procedure"]) == ("published", "below_threshold") and row["published_at"]
    assert await log_actions(fed, pid) == ["procurement.started", "procurement.lot_added", "procurement.published"]


async def test_a_direct_procurement_from_100_000_sek_is_published_only_with_documentation(fed: Fed) -> None:
    pid = await started(fed, 60_000, 40_000)
    await lot(fed, pid)
    with pytest.raises(api.ValidationFailed, match="documented") as e:
        await publish(fed, pid, 3)
    assert e.value.fields[0].field == "documentation"
    assert (await load(fed, pid))["status"] == "planning"
    c = await publish(fed, pid, 3, documentation="Behovet är brådskande; tre offerter jämfördes.")
    assert c.procedure is Procedure.DIRECT and c.documentation_required
    assert (await load(fed, pid))["documentation"].startswith("Behovet")


async def test_a_direct_procurement_below_100_000_sek_needs_no_documentation(fed: Fed) -> None:
    pid = await started(fed, 99_999)
    await lot(fed, pid)
    assert (await publish(fed, pid, 1)).procedure is Procedure.DIRECT


async def test_above_the_eu_threshold_the_open_procedure_needs_30_or_35_days(fed: Fed) -> None:
    pid = await started(fed, 1_500_000, 876_000)  # 2 376 000 SEK = 216 000 EUR at 11.0
    await lot(fed, pid)
    with pytest.raises(api.ValidationFailed, match="at least 35 days"):
        await publish(fed, pid, 34, electronic=False)
    with pytest.raises(api.ValidationFailed, match="at least 30 days"):
        await publish(fed, pid, 29)
    assert (await load(fed, pid))["status"] == "planning"
    c = await publish(fed, pid, 30.01)
    assert c.procedure is Procedure.OPEN and c.used[0].sek == Decimal("2376000.00")


async def test_publishing_without_a_lot_or_twice_is_refused(fed: Fed) -> None:
    pid = await started(fed, 50_000)
    with pytest.raises(api.ValidationFailed, match="at least one lot") as e:
        await publish(fed, pid, 2)
    assert e.value.fields[0].field == "lots" and (await load(fed, pid))["status"] == "planning"
    await lot(fed, pid)
    await publish(fed, pid, 2)
    with pytest.raises(api.Conflict):
        await publish(fed, pid, 2)


async def test_weighted_requirements_and_the_price_must_add_up_to_100_in_every_lot(fed: Fed) -> None:
    pid = await started(fed, 400_000)
    first, second = await lot(fed, pid), await lot(fed, pid)
    assert (first["number"], second["number"]) == (1, 2)
    async with fed.db.federation(fed.id) as scope:
        await setup_items.set_evaluation_model(
            scope,
            fed.admin,
            pid,
            model=EvaluationModel.BEST_PRICE_QUALITY,
            quality_method=QualityMethod.WEIGHTED,
            price_weight=Decimal(60),
        )
        for weight, lot_id in ((Decimal(30), None), (Decimal(10), first["id"])):
            await setup_items.add_requirement(
                scope,
                fed.admin,
                pid,
                kind=RequirementKind.WEIGHTED,
                requirement="Tillgänglighet 99,5 %",
                weight=weight,
                deduction_sek=None,
                lot_id=lot_id,
            )
    with pytest.raises(api.ValidationFailed, match="lot 2 add up to 90") as e:  # lot 1: 60 + 30 + 10
        await publish(fed, pid, 11, documentation="Dokumenterat.")
    assert e.value.fields[0].field == "priceWeight" and (await load(fed, pid))["status"] == "planning"


@pytest.mark.parametrize(
    ("kind", "weight", "deduction", "field"),
    [
        (RequirementKind.WEIGHTED, None, None, "weight"),
        (RequirementKind.WEIGHTED, Decimal(101), None, "weight"),
        (RequirementKind.MANDATORY, Decimal(5), None, "weight"),
        (RequirementKind.DEDUCTION, None, None, "deductionSek"),
        (RequirementKind.DEDUCTION, None, Decimal(-5), "deductionSek"),
        (RequirementKind.MANDATORY, None, Decimal(5), "deductionSek"),
    ],
)
async def test_a_bad_requirement_is_refused_and_nothing_is_added(
    fed: Fed, kind: RequirementKind, weight: Decimal | None, deduction: Decimal | None, field: str
) -> None:
    pid = await started(fed, 400_000)
    async with fed.db.federation(fed.id) as scope:
        with pytest.raises(api.ValidationFailed) as e:
            await setup_items.add_requirement(
                scope,
                fed.admin,
                pid,
                kind=kind,
                requirement="Krav",
                weight=weight,
                deduction_sek=deduction,
                lot_id=None,
            )
        assert e.value.fields[0].field == field
        with pytest.raises(api.NotFound):
            await setup_items.add_requirement(
                scope,
                fed.admin,
                pid,
                kind=RequirementKind.MANDATORY,
                requirement="Krav",
                weight=None,
                deduction_sek=None,
                lot_id=uuid.uuid4(),
            )
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM procurement_requirement WHERE procurement_id = $1", pid
            )
            == 0
        )


async def test_documents_are_fingerprinted_and_a_link_needs_its_sha256(fed: Fed) -> None:
    pid = await started(fed, 400_000)
    async with fed.db.federation(fed.id) as scope:
        doc = await setup_items.add_document(
            scope,
            fed.admin,
            pid,
            title="Förfrågningsunderlag",
            document_type="biddingDocuments",
            url=None,
            body="Krav: ...",
            sha256=None,
            now=utcnow(),
        )
        assert doc["sha256"] == hashlib.sha256(b"Krav: ...").hexdigest()
        for url, body, sha, field in (
            ("https://kommun.example.se/ffu.pdf", None, None, "sha256"),
            ("http://kommun.example.se/ffu.pdf", None, "a" * 64, "url"),
            (None, None, None, "url"),
            ("https://kommun.example.se/ffu.pdf", "text", "a" * 64, "url"),
        ):
            with pytest.raises(api.ValidationFailed) as e:
                await setup_items.add_document(
                    scope,
                    fed.admin,
                    pid,
                    title="FFU",
                    document_type="biddingDocuments",
                    url=url,
                    body=body,
                    sha256=sha,
                    now=utcnow(),
                )
            assert e.value.fields[0].field == field
        with pytest.raises(api.ValidationFailed):
            await setup_items.add_document(
                scope,
                fed.admin,
                pid,
                title="FFU",
                document_type="brochure",
                url=None,
                body="x",
                sha256=None,
                now=utcnow(),
            )
        linked = await setup_items.add_document(
            scope,
            fed.admin,
            pid,
            title="FFU",
            document_type="tenderNotice",
            url="https://kommun.example.se/ffu.pdf",
            body=None,
            sha256="A" * 64,
            now=utcnow(),
        )
        assert linked["sha256"] == "a" * 64


# --- Who manages, and isolation ------------------------------------------------------------------


async def test_the_lead_municipalitys_admins_manage_and_other_members_do_not(fed: Fed) -> None:
    ids = [await need(fed, "a", 300_000), await need(fed, "b", 100_000)]
    lead = fed.members["a"].municipality_id
    pid = await setup.start(fed.db, fed.admin, procurement(ids, lead_municipality_id=lead), now=utcnow())
    assert (await lot(fed, pid, by=fed.members["a"]))["number"] == 1
    with pytest.raises(api.PermissionDenied):
        await lot(fed, pid, by=fed.members["b"])
    with pytest.raises(api.Conflict, match="lead municipality"):
        await setup_participants.withdraw_from_procurement(fed.db, fed.members["a"], pid, now=utcnow())


async def test_a_municipality_of_another_federation_sees_and_changes_nothing(fed: Fed, db: Database) -> None:
    pid = await started(fed, 300_000, 100_000)
    other = await federation(db, await make_world(db))
    stranger = other.members["a"]
    async with db.federation(other.id) as scope:
        assert await setup_queries.listed(scope, status=None) == []
        with pytest.raises(api.NotFound):
            await setup.load(scope, pid)
    with pytest.raises(api.NotFound):
        await setup_participants.join_procurement(db, stranger, pid, Decimal(5), None, now=utcnow())
    mine = await need(fed, "a", 50_000)
    with pytest.raises(api.NotFound):  # a need of this federation, started from the other
        await setup.start(db, other.admin, procurement([mine]), now=utcnow())
    assert (await need_row(fed, "a", mine))["status"] == "open"
    assert len(await participants(fed, pid)) == 2


# --- Questions -----------------------------------------------------------------------------------


async def vendor(f: Fed, name: str) -> Caller:
    vid = uuid.uuid4()
    async with f.db.federation(f.id) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
               VALUES ($1, $2, $3, $4, 'anbud@example.se')""",
            f.id,
            vid,
            name,
            f"55{random.randrange(10**4):04d}-{random.randrange(10**4):04d}",
        )
    p = Principal(Actor("user", uuid.uuid4(), f"{name}@example.se"), f.id)
    return Caller(p, f.id, None, vid, False)


async def test_answers_reach_every_vendor_without_the_asker_and_drafts_stay_hidden(fed: Fed) -> None:
    pid = await started(fed, 50_000)
    kylbox, frost = await vendor(fed, "Kylbox"), await vendor(fed, "Frostlogik")
    async with fed.db.federation(fed.id) as scope:
        with pytest.raises(api.NotFound):  # a draft is not there for vendors
            await setup_items.ask_question(scope, kylbox, pid, question="Hur många skåp?", now=utcnow())
        assert await setup_queries.listed(scope, status=None, published_only=True) == []
    await lot(fed, pid)
    await publish(fed, pid, 5)
    async with fed.db.federation(fed.id) as scope:
        with pytest.raises(api.PermissionDenied):
            await setup_items.ask_question(scope, fed.members["a"], pid, question="?", now=utcnow())
        q = await setup_items.ask_question(scope, kylbox, pid, question="Hur många skåp?", now=utcnow())
        pending = await setup_items.ask_question(scope, kylbox, pid, question="Ingår el?", now=utcnow())
        assert (await setup_queries.details(scope, [pid], vendor=frost.vendor_id)).questions[pid] == []
        with pytest.raises(api.PermissionDenied):
            await setup_items.answer_question(scope, kylbox, q["id"], answer="Tolv.", now=utcnow())
        await setup_items.answer_question(scope, fed.admin, q["id"], answer="Tolv.", now=utcnow())
        with pytest.raises(api.Conflict):
            await setup_items.answer_question(scope, fed.admin, q["id"], answer="Tretton.", now=utcnow())
        seen = (await setup_queries.details(scope, [pid], vendor=frost.vendor_id)).questions[pid]
        own = (await setup_queries.details(scope, [pid], vendor=kylbox.vendor_id)).questions[pid]
    assert [r["answer"] for r in seen] == ["Tolv."] and {r["id"] for r in own} == {q["id"], pending["id"]}
    assert "procurement.question_answered" in await log_actions(fed, pid)


async def test_a_deadline_in_the_past_closes_questions(fed: Fed) -> None:
    pid = await started(fed, 50_000)
    await lot(fed, pid)
    await publish(fed, pid, 1)
    v = await vendor(fed, "Sen AB")
    async with fed.db.federation(fed.id) as scope:
        with pytest.raises(api.Conflict, match="deadline has passed"):
            await setup_items.ask_question(scope, v, pid, question="?", now=utcnow() + timedelta(days=2))
