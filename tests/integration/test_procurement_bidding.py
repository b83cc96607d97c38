"""Vendors, sealed bids, evaluation, award, contracts and call-offs at the service level, on the
real database: every rule with the error it gives, and nothing stored when it refuses.

Published procurements are made with SQL in the federation's transaction (as the buyer's setup
would leave them); the tender deadline is moved into the past with SQL when a test needs it to
have passed, since the database itself seals the bids by its own clock.
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.lockers import registration
from plugins.procurement import award, bids, contracts, contracts_calloffs, contracts_levels, evaluation, vendors
from plugins.procurement.federation import Caller
from tenants import accounts
from tenants.access import Actor, Principal, Role
from tenants.database import Database
from tests.conftest import PASSWORD, World, make_world

ACTOR = Actor.system("test")
RNG = random.Random()
COMPARTMENTS = (registration.NewCompartment("1", TemperatureClass.CHILLED, SizeClass.M),)


def org_number() -> str:
    """A random organisationsnummer with a valid check digit."""
    digits = [RNG.randint(0, 9) for _ in range(9)]
    digits[2] = RNG.randint(2, 9)
    total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d for i, d in enumerate(digits))
    check = (10 - total % 10) % 10
    s = "".join(map(str, digits)) + str(check)
    return f"{s[:6]}-{s[6:]}"


@dataclass
class Tender:
    federation_id: uuid.UUID
    id: uuid.UUID
    lot: uuid.UUID
    requirements: dict[str, uuid.UUID] = field(default_factory=dict)
    other_lot: uuid.UUID | None = None


def admin(world: World) -> Caller:
    p = Principal(Actor("user", uuid.uuid4(), world.federation_admin_email), world.federation_id, True)
    return Caller(p, world.federation_id, None, None, True)


def municipality_admin(world: World, municipality: uuid.UUID) -> Caller:
    p = Principal(
        Actor("user", uuid.uuid4(), f"admin-{municipality}@test.example"),
        world.federation_id,
        memberships={municipality: frozenset({Role.TENANT_ADMIN})},
        tenant_id=municipality,
    )
    return Caller(p, world.federation_id, municipality, None, False)


def vendor_caller(v: vendors.VendorRecord) -> Caller:
    assert v.user_id is not None
    return Caller(
        Principal(Actor("user", v.user_id, v.contact_email), v.federation_id), v.federation_id, None, v.id, False
    )


async def register(db: Database, world: World, name: str, org: str | None = None) -> vendors.VendorRecord:
    slug = await _slug(db, world.federation_id)
    tag = uuid.uuid4().hex[:8]
    new = vendors.NewVendor(slug, name, org or org_number(), f"anbud-{tag}@leverantor.example", "Anna Anbud", PASSWORD)
    return await vendors.register(db, new)


async def _slug(db: Database, federation_id: uuid.UUID) -> str:
    async with db.shared() as scope:
        return str(await scope.connection.fetchval("SELECT slug FROM federation WHERE id = $1", federation_id))


async def tender(
    db: Database,
    world: World,
    *,
    model: str = "lowest_price",
    quality: str = "deduction",
    price_weight: int | None = None,
    deadline_in: timedelta = timedelta(days=30),
    lead: uuid.UUID | None = None,
    electronic: bool = True,
    requirements: tuple[tuple[str, str, int | None], ...] = (("mandatory", "Larm vid temperaturavvikelse", None),),
) -> Tender:
    """A published procurement with one lot (and a second, empty one), its requirements, and both
    municipalities of the world as participants."""
    fed, pid, lot, lot2 = world.federation_id, uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    t = Tender(fed, pid, lot, other_lot=lot2)
    async with db.federation(fed) as scope:
        c = scope.connection
        await c.execute(
            """INSERT INTO procurement (federation_id, id, ocid, title, category, contract_kind, lead_municipality_id,
                   estimated_value_sek, procedure, duration_months, electronic, evaluation_model, quality_method,
                   price_weight, status, published_at, tender_deadline)
               VALUES ($1, $2, $3, 'Tempererade leveransskåp som tjänst', 'lockers', 'services', $4, 3000000, 'open',
                       48, $5, $6, $7, $8, 'published', now(), now() + $9::interval)""",
            fed,
            pid,
            f"ocds-samverka-{pid}",
            lead,
            electronic,
            model,
            quality,
            price_weight,
            deadline_in,
        )
        for number, lot_id in ((1, lot), (2, lot2)):
            await c.execute(
                """INSERT INTO procurement_lot (federation_id, id, procurement_id, number, title)
                   VALUES ($1, $2, $3, $4, $5)""",
                fed,
                lot_id,
                pid,
                number,
                "Skåp och drift" if number == 1 else "Installation",
            )
        for kind, text, amount in requirements:
            rid = uuid.uuid4()
            await c.execute(
                """INSERT INTO procurement_requirement (federation_id, id, procurement_id, lot_id, kind, text, weight,
                                                        deduction_sek) VALUES ($1, $2, $3, NULL, $4, $5, $6, $7)""",
                fed,
                rid,
                pid,
                kind,
                text,
                amount if kind == "weighted" else None,
                amount if kind == "deduction" else None,
            )
            t.requirements[text] = rid
        await c.execute(
            """INSERT INTO procurement_requirement (federation_id, id, procurement_id, lot_id, kind, text)
               VALUES ($1, $2, $3, $4, 'mandatory', 'Installation inom fem dagar')""",
            fed,
            uuid.uuid4(),
            pid,
            lot2,
        )
        for municipality, share, minutes in ((world.a.id, 60, 0), (world.b.id, 40, 1)):
            await c.execute(
                """INSERT INTO procurement_participant (federation_id, procurement_id, municipality_id, share_percent,
                                                        joined_at) VALUES ($1, $2, $3, $4, now() + $5::interval)""",
                fed,
                pid,
                municipality,
                share,
                timedelta(minutes=minutes),
            )
    return t


async def pass_deadline(db: Database, t: Tender) -> None:
    async with db.federation(t.federation_id) as scope:
        await scope.connection.execute(
            "UPDATE procurement SET tender_deadline = now() - interval '1 second' WHERE id = $1", t.id
        )


def answers(t: Tender, *met: str, unmet: tuple[str, ...] = ()) -> tuple[bids.Answer, ...]:
    """Every mandatory requirement met, plus the named ones; ``unmet`` answered as not met."""
    names = [n for n in t.requirements if n in met or n.startswith("Larm")]
    return tuple(bids.Answer(str(t.requirements[n]), True, "Ja") for n in names) + tuple(
        bids.Answer(str(t.requirements[n]), False, "") for n in unmet
    )


async def submit(
    db: Database,
    t: Tender,
    v: vendors.VendorRecord,
    price: int,
    *met: str,
    cost: int | None = None,
    now: datetime | None = None,
) -> bids.BidRecord:
    c = vendor_caller(v)
    new = bids.NewBid(t.id, t.lot, Decimal(price), None if cost is None else Decimal(cost), answers(t, *met))
    async with db.federation(t.federation_id, vendor_id=v.id) as scope:
        return await bids.submit(scope, c, new, now=now or utcnow())


async def evaluate(db: Database, t: Tender, c: Caller, now: datetime | None = None) -> evaluation.Evaluation:
    async with db.federation(t.federation_id) as scope:
        return await evaluation.evaluate(scope, c, t.id, now=now or utcnow())


async def stored(db: Database, t: Tender) -> list[tuple[Any, ...]]:
    async with db.federation(t.federation_id) as scope:
        rows = await scope.connection.fetch(
            """SELECT lot_id, bid_id, vendor_id, qualified, rank, compared_value, explanation
               FROM procurement_evaluation WHERE procurement_id = $1 ORDER BY bid_id""",
            t.id,
        )
    return [tuple(r) for r in rows]


async def log_actions(db: Database, t: Tender) -> list[tuple[str, dict[str, Any]]]:
    async with db.federation(t.federation_id) as scope:
        rows = await scope.connection.fetch(
            "SELECT action, details FROM procurement_log WHERE procurement_id = $1 ORDER BY id", t.id
        )
    return [(r["action"], json.loads(r["details"])) for r in rows]


# --- vendors ---------------------------------------------------------------------------------------


async def test_a_vendor_registers_signs_in_and_a_second_registration_of_its_number_is_a_conflict(
    db: Database, world: World
) -> None:
    org = org_number()
    v = await register(db, world, "Kylbox Service AB", org)
    assert v.org_number == org and v.federation_id == world.federation_id
    session = await accounts.sign_in(db, email=v.contact_email, password=PASSWORD, ttl=timedelta(minutes=5))
    assert session.user.federation_id == world.federation_id and not session.user.is_federation_admin
    with pytest.raises(api.Conflict, match=f"organisation number {org} is already registered"):
        await register(db, world, "Kylbox Service AB (igen)", org.replace("-", ""))
    other = await make_world(db)  # another federation may have the same vendor
    assert (await register(db, other, "Kylbox Service AB", org)).federation_id == other.federation_id
    async with db.federation(world.federation_id) as scope:
        assert (
            await scope.connection.fetchval("SELECT count(*) FROM procurement_vendor WHERE org_number = $1", org) == 1
        )
        logged = await scope.connection.fetchval(
            "SELECT actor_label FROM procurement_log WHERE action = 'procurement.vendor_registered' AND vendor_id = $1",
            v.id,
        )
    assert logged == v.contact_email


async def test_bad_registrations_are_refused_with_every_problem_and_create_nothing(db: Database, world: World) -> None:
    slug = await _slug(db, world.federation_id)
    bad = vendors.NewVendor(slug, " ", "556036-0794", "not-an-address", "", "short")
    with pytest.raises(api.ValidationFailed) as refused:
        await vendors.register(db, bad)
    assert {f.field for f in refused.value.fields} == {
        "input.name",
        "input.orgNumber",
        "input.contactEmail",
        "input.userName",
        "input.password",
    }
    with pytest.raises(api.NotFound):
        await vendors.register(
            db, vendors.NewVendor("no-such-federation", "X AB", org_number(), "x@y.se", "X", PASSWORD)
        )
    taken = vendors.NewVendor(slug, "Dubbel AB", org_number(), world.a.admin_email, "Anna", PASSWORD)
    with pytest.raises(api.Conflict, match="already exists"):
        await vendors.register(db, taken)
    async with db.federation(world.federation_id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM procurement_vendor") == 0


def test_organisation_numbers_are_checked_by_their_check_digit() -> None:
    assert vendors.normal_org_number("556036-0793") == "556036-0793"
    assert vendors.normal_org_number("5560360793") == "556036-0793"
    assert vendors.normal_org_number("556036-0794") is None
    assert vendors.normal_org_number("55603-60793") is None


# --- bids ------------------------------------------------------------------------------------------


async def test_a_vendor_submits_and_replaces_its_own_bid_and_the_log_shows_no_amounts(
    db: Database, world: World
) -> None:
    t = await tender(db, world)
    a, b = await register(db, world, "Kylbox Service AB"), await register(db, world, "Frostlogik AB")
    first = await submit(db, t, a, 1_000_000)
    again = await submit(db, t, a, 950_000)
    assert (again.id, again.version, again.price_sek) == (first.id, 2, Decimal(950_000))
    assert again.submitted_at >= first.submitted_at
    await submit(db, t, b, 990_000)
    async with db.federation(world.federation_id, vendor_id=a.id) as scope:
        mine = await bids.my_bids(scope, vendor_caller(a), t.id)
    assert [(x.vendor_id, x.price_sek) for x in mine] == [(a.id, Decimal(950_000))]
    assert mine[0].answers == {str(t.requirements["Larm vid temperaturavvikelse"]): {"met": True, "comment": "Ja"}}
    logged = await log_actions(db, t)
    assert [x for x, _ in logged] == ["procurement.bid_submitted"] * 3
    assert all("price" not in json.dumps(d) for _, d in logged)


async def test_a_bid_missing_a_mandatory_requirement_is_refused_and_nothing_is_stored(
    db: Database, world: World
) -> None:
    t = await tender(db, world)
    v = await register(db, world, "Nordlås AB")
    c = vendor_caller(v)
    rid = t.requirements["Larm vid temperaturavvikelse"]
    cases = [
        (bids.NewBid(t.id, t.lot, Decimal(1), None, ()), "input.answers", "Larm vid temperaturavvikelse"),
        (bids.NewBid(t.id, t.lot, Decimal(1), None, (bids.Answer(str(rid), False),)), "input.answers", "must be met"),
        (bids.NewBid(t.id, t.lot, Decimal(-5), None, answers(t)), "input.priceSek", "negative"),
        (bids.NewBid(t.id, t.lot, Decimal("1.001"), None, answers(t)), "input.priceSek", "two decimals"),
        (bids.NewBid(t.id, t.lot, Decimal(10), Decimal(5), answers(t)), "input.costSek", "cannot be below"),
        (
            bids.NewBid(t.id, t.lot, Decimal(1), None, (*answers(t), bids.Answer(str(uuid.uuid4()), True))),
            "input.answers[1].requirementId",
            "Not a requirement",
        ),
        (
            bids.NewBid(t.id, t.lot, Decimal(1), None, (*answers(t), *answers(t))),
            "input.answers[1].requirementId",
            "twice",
        ),
    ]
    for new, where, words in cases:
        with pytest.raises(api.ValidationFailed) as refused:
            async with db.federation(world.federation_id, vendor_id=v.id) as scope:
                await bids.submit(scope, c, new, now=utcnow())
        assert any(f.field == where and words in f.message for f in refused.value.fields), refused.value.fields
    lot2_requirement = await _requirement_of(db, t, t.other_lot)
    with pytest.raises(api.ValidationFailed, match="nothing was stored"):  # a requirement of the other lot
        async with db.federation(world.federation_id, vendor_id=v.id) as scope:
            extra = (*answers(t), bids.Answer(str(lot2_requirement), True))
            await bids.submit(scope, c, bids.NewBid(t.id, t.lot, Decimal(1), None, extra), now=utcnow())
    with pytest.raises(api.NotFound):
        async with db.federation(world.federation_id, vendor_id=v.id) as scope:
            await bids.submit(scope, c, bids.NewBid(t.id, uuid.uuid4(), Decimal(1), None, answers(t)), now=utcnow())
    with pytest.raises(api.PermissionDenied, match="vendor account"):  # the buyer cannot bid
        async with db.federation(world.federation_id) as scope:
            await bids.submit(scope, admin(world), bids.NewBid(t.id, t.lot, Decimal(1), None, answers(t)), now=utcnow())
    async with db.federation(world.federation_id, vendor_id=v.id) as scope:
        assert await bids.my_bids(scope, c) == []
    assert await log_actions(db, t) == []


async def _requirement_of(db: Database, t: Tender, lot: uuid.UUID | None) -> uuid.UUID:
    async with db.federation(t.federation_id) as scope:
        return uuid.UUID(
            str(await scope.connection.fetchval("SELECT id FROM procurement_requirement WHERE lot_id = $1", lot))
        )


async def test_a_late_bid_is_a_conflict_naming_the_deadline_even_when_only_the_database_knows(
    db: Database, world: World
) -> None:
    t = await tender(db, world)
    v = await register(db, world, "Sen Leverans AB")
    await submit(db, t, v, 500_000)
    await pass_deadline(db, t)
    with pytest.raises(api.Conflict, match="The tender deadline passed at"):
        await submit(db, t, v, 400_000)
    with pytest.raises(api.Conflict, match="The tender deadline passed at"):  # a clock behind: the database refuses
        await submit(db, t, v, 400_000, now=utcnow() - timedelta(hours=1))
    async with db.federation(world.federation_id, vendor_id=v.id) as scope:
        assert [(b.price_sek, b.version) for b in await bids.my_bids(scope, vendor_caller(v))] == [
            (Decimal(500_000), 1)
        ]


# --- evaluation ------------------------------------------------------------------------------------


async def test_the_evaluation_waits_for_the_deadline_and_only_the_buyer_evaluates(db: Database, world: World) -> None:
    t = await tender(db, world, lead=world.a.id)
    v = await register(db, world, "Tidig AB")
    await submit(db, t, v, 100_000)
    with pytest.raises(api.Conflict, match="sealed until the tender deadline"):
        await evaluate(db, t, admin(world))
    with pytest.raises(api.Conflict, match="sealed until"):
        async with db.federation(world.federation_id) as scope:
            await evaluation.read(scope, admin(world), t.id, now=utcnow())
    await pass_deadline(db, t)
    with pytest.raises(api.PermissionDenied, match="Only the buyer"):  # a participant that does not lead
        await evaluate(db, t, municipality_admin(world, world.b.id))
    with pytest.raises(api.PermissionDenied):
        await evaluate(db, t, vendor_caller(v))
    result = await evaluate(db, t, municipality_admin(world, world.a.id))  # the lead municipality
    assert result.status == "evaluated" and [r.rank for r in result.results] == [1]


MODELS = {
    "lowest_price": ({}, (), ("A", "B", "C")),
    "lowest_cost": ({"model": "lowest_cost"}, (), ("B", "A", "C")),
    "deduction": (
        {
            "model": "best_price_quality",
            "quality": "deduction",
            "requirements": (
                ("mandatory", "Larm vid temperaturavvikelse", None),
                ("deduction", "Fossilfri service", 200_000),
            ),
        },
        ("Fossilfri service",),
        ("C", "A", "B"),
    ),
    "weighted": (
        {
            "model": "best_price_quality",
            "quality": "weighted",
            "price_weight": 70,
            "requirements": (
                ("mandatory", "Larm vid temperaturavvikelse", None),
                ("weighted", "Fossilfri service", 30),
            ),
        },
        ("Fossilfri service",),
        ("C", "A", "B"),
    ),
}


@pytest.mark.parametrize("name", list(MODELS))
async def test_each_model_ranks_the_bids_and_evaluating_again_gives_the_same_result(
    db: Database, world: World, name: str
) -> None:
    setup, quality, _ = MODELS[name]
    t = await tender(db, world, **setup)  # type: ignore[arg-type]
    vs = {n: await register(db, world, f"{n} Leverantör AB") for n in "ABC"}
    await submit(db, t, vs["A"], 900_000, cost=1_400_000)
    await submit(db, t, vs["B"], 950_000, cost=1_300_000)
    await submit(db, t, vs["C"], 1_000_000, *quality, cost=1_500_000)
    await pass_deadline(db, t)
    first = await evaluate(db, t, admin(world))
    before = await stored(db, t)
    again = await evaluate(db, t, admin(world))
    assert await stored(db, t) == before and len(before) == 3
    ranked = [r.vendor[0] for r in again.results]
    expected = {"lowest_price": "ABC", "lowest_cost": "BAC", "deduction": "CAB", "weighted": "CAB"}[name]
    assert "".join(ranked) == expected, [(r.vendor, r.compared_value) for r in again.results]
    assert [r.rank for r in first.results] == [1, 2, 3] and all(r.explanation["summary"]["sv"] for r in first.results)
    actions = [a for a, _ in await log_actions(db, t)]
    assert actions.count("procurement.evaluated") == 2


async def test_a_bid_that_no_longer_meets_a_mandatory_requirement_is_not_qualified_and_explained(
    db: Database, world: World
) -> None:
    t = await tender(db, world)
    good, bad = await register(db, world, "Bra AB"), await register(db, world, "Brist AB")
    await submit(db, t, good, 800_000)
    await submit(db, t, bad, 500_000)
    async with db.federation(world.federation_id) as scope:  # a mandatory requirement added late by the buyer
        await scope.connection.execute(
            """INSERT INTO procurement_requirement (federation_id, id, procurement_id, kind, text)
               VALUES ($1, $2, $3, 'mandatory', 'Svensk kundtjänst')""",
            world.federation_id,
            uuid.uuid4(),
            t.id,
        )
    await pass_deadline(db, t)
    result = await evaluate(db, t, admin(world))
    assert [(r.vendor, r.qualified, r.rank) for r in result.results] == [
        ("Bra AB", False, None),
        ("Brist AB", False, None),
    ]
    assert "Svensk kundtjänst" in result.results[0].explanation["summary"]["en"]
    with pytest.raises(api.Conflict, match="No lot has a qualified bid"):
        async with db.federation(world.federation_id) as scope:
            await award.award(scope, admin(world), t.id, now=utcnow())


# --- award, contract, service levels ---------------------------------------------------------------


async def awarded(
    db: Database, world: World, *, electronic: bool = True
) -> tuple[Tender, award.Decision, dict[str, Any]]:
    t = await tender(db, world, electronic=electronic)
    a, b = await register(db, world, "Vinnare AB"), await register(db, world, "Tvåa AB")
    await submit(db, t, a, 700_000)
    await submit(db, t, b, 800_000)
    await pass_deadline(db, t)
    await evaluate(db, t, admin(world))
    now = utcnow()
    async with db.federation(world.federation_id) as scope:
        decision = await award.award(scope, admin(world), t.id, now=now)
    return t, decision, {"a": a, "b": b, "now": now}


async def test_the_award_picks_the_winner_starts_the_standstill_and_tells_every_bidder(
    db: Database, world: World
) -> None:
    t, decision, x = await awarded(db, world)
    assert [(a.vendor, a.value_sek, a.lot_id) for a in decision.awards] == [("Vinnare AB", Decimal(700_000), t.lot)]
    assert decision.standstill_ends_at == x["now"] + timedelta(days=10)
    assert decision.unawarded_lots == [t.other_lot] and decision.sender == world.a.id  # the first participant
    dispatched: list[uuid.UUID] = []

    async def dispatch(scope: api.Scope, ids: list[uuid.UUID]) -> None:
        dispatched.extend(ids)

    ids = await award.send_notices(db, decision, dispatch)
    assert sorted(ids) == sorted(dispatched) and len(ids) == 2
    async with db.tenant(world.a.id) as scope:
        rows = await scope.connection.fetch(
            "SELECT recipient, subject, body, topic FROM notification WHERE subject_id = $1 ORDER BY recipient", t.id
        )
    assert sorted(r["recipient"] for r in rows) == sorted([x["a"].contact_email, x["b"].contact_email])
    loser = next(r for r in rows if r["recipient"] == x["b"].contact_email)
    assert "tilldelas Vinnare AB, 700 000,00 kr" in loser["body"] and "Plats 2 av 2" in loser["body"]
    assert "Avtalsspärren löper till" in loser["body"] and loser["topic"] == "procurement.award"
    with pytest.raises(api.Conflict, match="already awarded"):
        async with db.federation(world.federation_id) as scope:
            await award.award(scope, admin(world), t.id, now=utcnow())
    _, slow, y = await awarded(db, world, electronic=False)
    assert slow.standstill_ends_at == y["now"] + timedelta(days=15)


async def test_award_needs_an_evaluation_first(db: Database, world: World) -> None:
    t = await tender(db, world)
    await pass_deadline(db, t)
    with pytest.raises(api.Conflict, match="Evaluate the bids first"):
        async with db.federation(world.federation_id) as scope:
            await award.award(scope, admin(world), t.id, now=utcnow())


async def sign(
    db: Database,
    world: World,
    award_id: uuid.UUID,
    now: datetime,
    *,
    months: int = 24,
    starts: date | None = None,
    lockers: bool = True,
) -> contracts.ContractRecord:
    starts = starts or utcnow().date() - timedelta(days=1)
    new = contracts.NewContract(award_id, starts, contracts.add_months(starts, months), lockers)
    async with db.federation(world.federation_id) as scope:
        return await contracts.sign(scope, admin(world), new, now=now)


async def test_no_contract_before_the_standstill_ends_and_a_framework_runs_at_most_48_months(
    db: Database, world: World
) -> None:
    t, decision, x = await awarded(db, world)
    award_id, ends = decision.awards[0].id, decision.standstill_ends_at
    with pytest.raises(api.Conflict, match=r"standstill period \(avtalsspärr\) runs until"):
        await sign(db, world, award_id, x["now"] + timedelta(days=5))
    with pytest.raises(api.ValidationFailed, match="at most 48 months"):
        await sign(db, world, award_id, ends, months=49)
    with pytest.raises(api.ValidationFailed, match="end after it starts"):
        await sign(db, world, award_id, ends, months=0)
    signed = await sign(db, world, award_id, ends)
    assert (signed.vendor, signed.value_sek, signed.framework, signed.status) == (
        "Vinnare AB",
        Decimal(700_000),
        True,
        "active",
    )
    with pytest.raises(api.Conflict, match="already has its contract"):
        await sign(db, world, award_id, ends)
    async with db.federation(world.federation_id) as scope:
        assert await scope.connection.fetchval("SELECT status FROM procurement WHERE id = $1", t.id) == "contracted"
        assert (
            await scope.connection.fetchval("SELECT count(*) FROM procurement_contract WHERE award_id = $1", award_id)
            == 1
        )


async def test_service_levels_are_validated_and_set_by_metric_and_severity(db: Database, world: World) -> None:
    _, decision, _ = await awarded(db, world)
    ct = await sign(db, world, decision.awards[0].id, decision.standstill_ends_at)
    L = contracts_levels.Level
    good = [
        L("availability", None, Decimal("99.5"), "percent", Decimal(10_000)),
        L("fault_fix", "critical", Decimal(4), "hours", Decimal(5_000)),
        L("fault_fix", "normal", Decimal(12), "hours", Decimal(0)),
    ]
    async with db.federation(world.federation_id) as scope:
        levels = await contracts_levels.set_service_levels(scope, admin(world), ct.id, good)
    assert [(r["metric"], r["severity"], r["target"]) for r in levels] == [
        ("availability", None, Decimal("99.500")),
        ("fault_fix", "critical", Decimal("4.000")),
        ("fault_fix", "normal", Decimal("12.000")),
    ]
    bad = [
        L("availability", None, Decimal(120), "percent", Decimal(0)),
        L("fault_response", None, Decimal(0), "hours", Decimal(0)),
        L("temperature_compliance", "high", Decimal(99), "hours", Decimal(-1)),
        L("fault_fix", "critical", Decimal(2), "hours", Decimal(0)),
        L("fault_fix", "critical", Decimal(3), "hours", Decimal(0)),
    ]
    with pytest.raises(api.ValidationFailed) as refused:
        async with db.federation(world.federation_id) as scope:
            await contracts_levels.set_service_levels(scope, admin(world), ct.id, bad)
    assert {f.field for f in refused.value.fields} == {
        "levels[0].target",
        "levels[1].target",
        "levels[2].unit",
        "levels[2].severity",
        "levels[2].penaltySek",
        "levels[4]",
    }
    with pytest.raises(api.PermissionDenied):
        async with db.federation(world.federation_id) as scope:
            await contracts_levels.set_service_levels(scope, municipality_admin(world, world.b.id), ct.id, good)
    async with db.federation(world.federation_id) as scope:  # a changed target replaces the level's, by its key
        levels = await contracts_levels.set_service_levels(
            scope, admin(world), ct.id, [L("fault_fix", "critical", Decimal(2), "hours", Decimal(8_000))]
        )
    assert [(r["severity"], r["target"], r["penalty_sek"]) for r in levels if r["metric"] == "fault_fix"] == [
        ("critical", Decimal("2.000"), Decimal("8000.00")),
        ("normal", Decimal("12.000"), Decimal("0.00")),
    ]


# --- call-offs -------------------------------------------------------------------------------------


async def locker(db: Database, municipality: uuid.UUID) -> uuid.UUID:
    tag = uuid.uuid4().hex[:6]
    async with db.tenant(municipality) as scope:
        site = await registration.register_site(
            scope, registration.NewSite(f"Vårdcentral {tag}", "Storgatan 1"), actor=ACTOR
        )
        ep = await registration.register_endpoint(
            scope, registration.NewEndpoint(f"kb-{tag}", "kylbox", "opc.tcp://127.0.0.1:4841"), actor=ACTOR
        )
        row = await registration.register_locker(
            scope, registration.NewLocker(str(site["id"]), ep["id"], f"L-{tag}", "Skåp", COMPARTMENTS), actor=ACTOR
        )
    return uuid.UUID(str(row["id"]))


async def test_call_offs_come_from_participants_with_their_own_lockers_only(db: Database, world: World) -> None:
    t, decision, _ = await awarded(db, world)
    ct = await sign(db, world, decision.awards[0].id, decision.standstill_ends_at)
    own, foreign = await locker(db, world.a.id), await locker(db, world.b.id)
    a = municipality_admin(world, world.a.id)

    def new(*lockers: uuid.UUID, value: int = 120_000) -> contracts_calloffs.NewCallOff:
        return contracts_calloffs.NewCallOff(ct.id, Decimal(4), Decimal(value), "Fyra skåp, vårdcentralerna", lockers)

    first = await contracts_calloffs.place(db, a, new(own), now=utcnow())
    second = await contracts_calloffs.place(db, a, new(), now=utcnow())
    assert first.ocid == f"ocds-samverka-{t.id}-calloff-1" and second.ocid.endswith("-calloff-2")
    assert first.locker_ids == [own] and first.municipality_id == world.a.id
    with pytest.raises(api.NotFound, match=str(foreign)):  # B's locker, named by A
        await contracts_calloffs.place(db, a, new(own, foreign), now=utcnow())
    with pytest.raises(api.ValidationFailed) as refused:
        await contracts_calloffs.place(db, a, new(value=-1), now=utcnow())
    assert [(f.field, f.message) for f in refused.value.fields] == [("input.valueSek", "An amount cannot be negative.")]
    async with db.federation(world.federation_id) as scope:  # B withdrew
        await scope.connection.execute(
            """UPDATE procurement_participant SET withdrawn_at = now()
               WHERE procurement_id = $1 AND municipality_id = $2""",
            t.id,
            world.b.id,
        )
    with pytest.raises(api.PermissionDenied, match="withdrew"):
        await contracts_calloffs.place(db, municipality_admin(world, world.b.id), new(foreign), now=utcnow())
    with pytest.raises(api.Conflict, match="call off within that period"):
        await contracts_calloffs.place(db, a, new(), now=utcnow() + timedelta(days=800))
    async with db.federation(world.federation_id) as scope:
        assert [x.ocid for x in (await contracts_calloffs.of_contracts(scope, [ct.id]))[ct.id]] == [
            first.ocid,
            second.ocid,
        ]
    async with db.tenant(world.a.id) as scope:
        audited = await scope.connection.fetch(
            "SELECT target_id FROM audit_log WHERE action = 'procurement.call_off_placed' ORDER BY id"
        )
    assert [r["target_id"] for r in audited] == [str(first.id), str(second.id)]


async def test_a_municipality_that_never_took_part_cannot_call_off(db: Database, world: World) -> None:
    _, decision, _ = await awarded(db, world)
    ct = await sign(db, world, decision.awards[0].id, decision.standstill_ends_at)
    outsider = await _third_municipality(db, world)
    new = contracts_calloffs.NewCallOff(ct.id, Decimal(1), Decimal(1), "", ())
    with pytest.raises(api.PermissionDenied, match="does not take part"):
        await contracts_calloffs.place(db, municipality_admin(world, outsider), new, now=utcnow())


async def _third_municipality(db: Database, world: World) -> uuid.UUID:
    from tenants import provisioning

    tag = uuid.uuid4().hex[:6]
    m = await provisioning.create_municipality(
        db, federation_id=world.federation_id, name=f"Kommun C {tag}", code="1495", slug=f"c-{tag}", actor=ACTOR
    )
    return m.id


# --- isolation -------------------------------------------------------------------------------------


async def test_another_federation_sees_and_touches_nothing(db: Database, world: World) -> None:
    t, decision, x = await awarded(db, world)
    ct = await sign(db, world, decision.awards[0].id, decision.standstill_ends_at)
    other = await make_world(db)
    intruder = admin(other)
    for attempt in (evaluation.read, evaluation.evaluate, award.award):
        with pytest.raises(api.NotFound):
            async with db.federation(other.federation_id) as scope:
                await attempt(scope, intruder, t.id, now=utcnow())
    async with db.federation(other.federation_id) as scope:
        assert await contracts.listing(scope, intruder) == []
        with pytest.raises(api.NotFound):
            await contracts.get(scope, intruder, ct.id)
        with pytest.raises(api.NotFound):
            await contracts.sign(
                scope,
                intruder,
                contracts.NewContract(decision.awards[0].id, date.today(), date.today() + timedelta(days=30), False),
                now=utcnow() + timedelta(days=30),
            )
    stranger = await register(db, other, "Främmande AB")
    with pytest.raises(api.NotFound):
        async with db.federation(other.federation_id, vendor_id=stranger.id) as scope:
            await bids.submit(
                scope, vendor_caller(stranger), bids.NewBid(t.id, t.lot, Decimal(1), None, ()), now=utcnow()
            )
    with pytest.raises(api.NotFound):  # the other federation's municipality, naming this contract
        await contracts_calloffs.place(
            db,
            municipality_admin(other, other.a.id),
            contracts_calloffs.NewCallOff(ct.id, Decimal(1), Decimal(1), "", ()),
            now=utcnow(),
        )
    integrator = Caller(
        Principal(
            Actor("user", uuid.uuid4(), "bud@test.example"),
            world.federation_id,
            memberships={world.a.id: frozenset({Role.INTEGRATOR})},
        ),
        world.federation_id,
        world.a.id,
        None,
        False,
    )
    async with db.federation(world.federation_id) as scope:  # an integrator of a member: not its business
        with pytest.raises(api.PermissionDenied, match="Contracts are for"):
            await contracts.listing(scope, integrator)
    async with db.federation(world.federation_id) as scope:  # a vendor sees its own contracts only
        assert await contracts.listing(scope, vendor_caller(x["b"])) == []
        assert [c.id for c in await contracts.listing(scope, vendor_caller(x["a"]))] == [ct.id]
