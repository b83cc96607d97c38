"""Splitting the federation's cost of a shared contract among its members, on the real database:
every key method against shares computed by hand, a key change in the middle of a period (pro
rata per day), use counted in each municipality's own data (deliveries, lockers, call-offs),
savings from the deliveries plugin's setting, and bad keys refused with typed errors that change
nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import costs
from plugins.procurement.costs_report import Allocation
from plugins.procurement.costs_rules import Method
from plugins.procurement.federation import Caller
from tenants.access import Actor, Principal
from tenants.database import Database
from tests.conftest import World, make_world
from tests.integration.test_deliveries import CONFIG, Site, install
from tests.integration.test_procurement_ocds import Built, complete

YEAR_2027 = (date(2027, 1, 1), date(2027, 12, 31))
Q1_2027 = (date(2027, 1, 1), date(2027, 3, 31))  # 90 days


def admin(fed: uuid.UUID, *, is_admin: bool = True) -> Caller:
    p = Principal(
        actor=Actor("user", uuid.uuid4(), "ekonomi@forbund.example"), federation_id=fed, is_federation_admin=is_admin
    )
    return Caller(p, fed, None, None, is_admin)


async def contract(db: Database, world: World, population: tuple[int | None, int | None] = (10_000, 30_000)) -> Built:
    """The framework contract of a complete procurement (2027-01-01 to 2030-12-31), A and B
    participating, with the populations given."""
    built = await complete(db, world, utcnow())
    async with db.shared() as scope:
        for mid, people in zip((world.a.id, world.b.id), population, strict=True):
            await scope.connection.execute("UPDATE municipality SET population = $2 WHERE id = $1", mid, people)
    return built


async def key(
    db: Database,
    b: Built,
    valid_from: date,
    method: Method,
    parameters: dict[str, Any],
    annual: int | str = 365_000,
    caller: Caller | None = None,
) -> costs.CostKeyRecord:
    async with db.federation(b.federation) as scope:
        return await costs.set_key(
            scope, caller or admin(b.federation), b.contract, valid_from, method, parameters, Decimal(annual)
        )


async def allocation(db: Database, b: Built, period: tuple[date, date]) -> Allocation:
    return await costs.allocation(db, b.federation, b.contract, *period)


def cost(a: Allocation, world: World) -> tuple[Decimal, Decimal]:
    by = {x.municipality_id: x.cost_sek for x in a.lines}
    return by[world.a.id], by[world.b.id]


def fixed(world: World, a: Any, b: Any) -> dict[str, Any]:
    return {"shares": {str(world.a.id): a, str(world.b.id): b}}


async def test_a_fixed_key_splits_a_year_by_its_shares(db: Database, world: World) -> None:
    b = await contract(db, world)
    await key(db, b, date(2027, 1, 1), Method.FIXED, fixed(world, 70, 30))
    a = await allocation(db, b, YEAR_2027)
    assert a.total_cost_sek == Decimal("365000.00")
    assert cost(a, world) == (Decimal("255500.00"), Decimal("109500.00"))
    assert [x.share_percent for x in a.lines] == [Decimal("70.00"), Decimal("30.00")]
    async with db.federation(b.federation) as scope:
        logged = await scope.connection.fetchval(
            "SELECT count(*) FROM procurement_log WHERE procurement_id = $1 AND action = 'procurement.cost_key_set'",
            b.procurement,
        )
    assert logged == 1


async def test_per_inhabitant_splits_by_population(db: Database, world: World) -> None:
    b = await contract(db, world, population=(10_000, 30_000))
    await key(db, b, date(2027, 1, 1), Method.PER_INHABITANT, {})
    a = await allocation(db, b, Q1_2027)  # 90 days of 1 000 kr
    assert a.total_cost_sek == Decimal("90000.00")
    assert cost(a, world) == (Decimal("22500.00"), Decimal("67500.00"))


async def test_per_use_counts_call_offs_in_the_period(db: Database, world: World) -> None:
    b = await contract(db, world)
    for mid, quantity, at in (
        (world.a.id, 2, datetime(2027, 1, 10, tzinfo=UTC)),
        (world.a.id, 1, datetime(2027, 3, 31, 21, tzinfo=UTC)),  # 23:00 local: still March
        (world.b.id, 1, datetime(2027, 2, 1, tzinfo=UTC)),
        (world.b.id, 50, datetime(2027, 3, 31, 23, tzinfo=UTC)),
    ):  # 1 April local: outside
        await _call_off(db, b, mid, quantity, at)
    await key(db, b, date(2027, 1, 1), Method.PER_USE, {"use": "call_off_quantity"})
    a = await allocation(db, b, Q1_2027)
    assert cost(a, world) == (Decimal("67500.00"), Decimal("22500.00"))  # 3 : 1
    assert [x.call_off_quantity for x in a.lines] == [Decimal(3), Decimal(1)]


async def test_per_use_counts_deliveries_and_lockers_in_each_municipality(db: Database, world: World) -> None:
    b = await contract(db, world)
    site_a = await install(db, world.a.id, config={**CONFIG, "minutes_saved_per_delivery": 30})
    await install(db, world.a.id)  # a second locker in A
    site_b = await install(db, world.b.id)  # B keeps the default 20 minutes
    for n in range(3):
        await _delivery(db, site_a, datetime(2027, 1, 5 + n, 12, tzinfo=UTC))
    await _delivery(db, site_b, datetime(2027, 2, 5, 12, tzinfo=UTC))
    await _delivery(db, site_b, datetime(2026, 12, 30, 12, tzinfo=UTC))  # before the period

    await key(db, b, date(2027, 1, 1), Method.PER_USE, {"use": "deliveries"})
    a = await allocation(db, b, Q1_2027)
    assert cost(a, world) == (Decimal("67500.00"), Decimal("22500.00"))  # 3 : 1
    line_a, line_b = a.lines
    assert (line_a.deliveries, line_a.minutes_per_delivery, line_a.staff_hours_saved) == (3, 30, Decimal("1.50"))
    assert (line_b.deliveries, line_b.minutes_per_delivery, line_b.staff_hours_saved) == (1, 20, Decimal("0.33"))
    assert (line_a.lockers, line_b.lockers) == (2, 1)

    await key(db, b, date(2027, 4, 1), Method.PER_USE, {"use": "lockers"})
    a = await allocation(db, b, (date(2027, 4, 1), date(2027, 6, 29)))  # 90 days
    assert cost(a, world) == (Decimal("60000.00"), Decimal("30000.00"))  # 2 : 1


async def test_use_without_data_is_split_equally_and_said_so(db: Database, world: World) -> None:
    b = await contract(db, world)
    await key(db, b, date(2027, 1, 1), Method.PER_USE, {"use": "deliveries"})
    a = await allocation(db, b, Q1_2027)
    assert cost(a, world) == (Decimal("45000.00"), Decimal("45000.00"))
    assert a.segments[0].notes and "equal parts" in a.segments[0].notes[0]
    assert [x.deliveries for x in a.lines] == [None, None]  # the deliveries plugin is not enabled: no savings
    assert [x.staff_hours_saved for x in a.lines] == [None, None]


async def test_a_mix_weights_its_methods(db: Database, world: World) -> None:
    b = await contract(db, world, population=(10_000, 30_000))
    weights = {"weights": {"fixed": 50, "per_inhabitant": 50}, **fixed(world, 70, 30)}
    await key(db, b, date(2027, 1, 1), Method.MIX, weights)
    a = await allocation(db, b, Q1_2027)
    # A: 0.5 * 70 % + 0.5 * 25 % = 47.5 %; B: 0.5 * 30 % + 0.5 * 75 % = 52.5 %
    assert cost(a, world) == (Decimal("42750.00"), Decimal("47250.00"))


async def test_a_key_change_in_the_period_is_pro_rata_per_day(db: Database, world: World) -> None:
    b = await contract(db, world)
    await key(db, b, date(2027, 7, 1), Method.FIXED, fixed(world, 40, 60), annual=730_000)
    await key(db, b, date(2027, 1, 1), Method.FIXED, fixed(world, 70, 30), annual=365_000)
    a = await allocation(db, b, YEAR_2027)
    # January-June: 181 days of 1 000 kr (70/30); July-December: 184 days of 2 000 kr (40/60).
    assert [(s.start, s.end, s.days, s.cost_sek) for s in a.segments] == [
        (date(2027, 1, 1), date(2027, 6, 30), 181, Decimal("181000.00")),
        (date(2027, 7, 1), date(2027, 12, 31), 184, Decimal("368000.00")),
    ]
    assert cost(a, world) == (Decimal("126700") + Decimal("147200"), Decimal("54300") + Decimal("220800"))
    assert a.total_cost_sek == Decimal("549000.00")

    before_start = await allocation(db, b, (date(2026, 12, 1), date(2027, 1, 31)))  # the contract starts in 2027
    assert before_start.total_cost_sek == Decimal("31000.00")


async def test_a_leap_year_costs_its_annual_cost_and_odd_shares_add_up_to_the_total(db: Database, world: World) -> None:
    b = await contract(db, world)
    await key(db, b, date(2027, 1, 1), Method.FIXED, fixed(world, "33.33", "66.67"), annual="100000")
    leap = await allocation(db, b, (date(2028, 1, 1), date(2028, 12, 31)))
    assert leap.total_cost_sek == Decimal("100000.00")
    one_day = await allocation(db, b, (date(2027, 5, 5), date(2027, 5, 5)))  # 100 000 / 365 = 273.97...
    assert one_day.total_cost_sek == Decimal("273.97")
    assert sum((x.cost_sek for x in one_day.lines), Decimal(0)) == Decimal("273.97")
    assert cost(one_day, world) == (Decimal("91.31"), Decimal("182.66"))  # not 91.32 + 182.66 = 273.98


async def test_a_municipality_sees_only_its_own_line(db: Database, world: World) -> None:
    b = await contract(db, world)
    await key(db, b, date(2027, 1, 1), Method.FIXED, fixed(world, 70, 30))
    own = (await allocation(db, b, YEAR_2027)).only(world.b.id)
    assert [(x.municipality_id, x.cost_sek) for x in own.lines] == [(world.b.id, Decimal("109500.00"))]
    assert own.segments[0].parameters == {"shares": {str(world.b.id): 30}}


async def test_bad_keys_are_refused_with_typed_errors_and_change_nothing(db: Database, world: World) -> None:
    b = await contract(db, world, population=(10_000, None))
    await key(db, b, date(2027, 1, 1), Method.FIXED, fixed(world, 50, 50))
    stranger = (await make_world(db)).a.id
    bad: list[tuple[type[Exception], str | None, Any]] = [
        (
            api.ValidationFailed,
            "parameters.shares",
            lambda: key(db, b, date(2027, 2, 1), Method.FIXED, fixed(world, 60, 35)),
        ),
        (
            api.ValidationFailed,
            "parameters.shares",
            lambda: key(db, b, date(2027, 2, 1), Method.FIXED, {"shares": {str(uuid.uuid4()): 100}}),
        ),
        (
            api.ValidationFailed,
            "parameters.shares",
            lambda: key(db, b, date(2027, 2, 1), Method.FIXED, {"shares": {str(world.a.id): 50, str(stranger): 50}}),
        ),
        (
            api.ValidationFailed,
            "parameters.shares",
            lambda: key(db, b, date(2027, 2, 1), Method.FIXED, fixed(world, "50.001", "49.999")),
        ),
        (
            api.ValidationFailed,
            "parameters.weights",
            lambda: key(
                db,
                b,
                date(2027, 2, 1),
                Method.MIX,
                {"weights": {"per_use": 60, "fixed": 50}, "use": "lockers", **fixed(world, 50, 50)},
            ),
        ),
        (
            api.ValidationFailed,
            "parameters.weights",
            lambda: key(db, b, date(2027, 2, 1), Method.MIX, {"weights": {"mix": 100}}),
        ),
        (
            api.ValidationFailed,
            "parameters.use",
            lambda: key(db, b, date(2027, 2, 1), Method.PER_USE, {"use": "logins"}),
        ),
        (
            api.ValidationFailed,
            "parameters.shares",
            lambda: key(db, b, date(2027, 2, 1), Method.PER_USE, {"use": "lockers", **fixed(world, 50, 50)}),
        ),
        (api.ValidationFailed, "method", lambda: key(db, b, date(2027, 2, 1), Method.PER_INHABITANT, {})),
        (
            api.ValidationFailed,
            "annualCostSek",
            lambda: key(db, b, date(2027, 2, 1), Method.FIXED, fixed(world, 50, 50), annual=-1),
        ),
        (api.ValidationFailed, "validFrom", lambda: key(db, b, date(2031, 1, 1), Method.FIXED, fixed(world, 50, 50))),
        (api.Conflict, None, lambda: key(db, b, date(2027, 1, 1), Method.FIXED, fixed(world, 40, 60))),
        (
            api.PermissionDenied,
            None,
            lambda: key(
                db, b, date(2027, 2, 1), Method.FIXED, fixed(world, 50, 50), caller=admin(b.federation, is_admin=False)
            ),
        ),
    ]
    for error, field, attempt in bad:
        with pytest.raises(error) as raised:
            await attempt()
        if field is not None:
            assert [f.field for f in raised.value.fields] == [field], raised.value  # type: ignore[attr-defined]
    other = await make_world(db)
    with pytest.raises(api.NotFound):  # another federation's contract does not exist for it
        async with db.federation(other.federation_id) as scope:
            await costs.set_key(
                scope,
                admin(other.federation_id),
                b.contract,
                date(2027, 2, 1),
                Method.FIXED,
                {"shares": {str(other.a.id): 100}},
                Decimal(1),
            )
    with pytest.raises(api.NotFound):
        await costs.allocation(db, other.federation_id, b.contract, *YEAR_2027)
    with pytest.raises(api.ValidationFailed):
        await allocation(db, b, (date(2027, 2, 1), date(2027, 1, 1)))
    async with db.federation(b.federation) as scope:
        assert len(await costs.keys(scope, b.contract)) == 1  # nothing changed
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM procurement_log WHERE action = 'procurement.cost_key_set'"
            )
            == 1
        )


async def _call_off(db: Database, b: Built, mid: uuid.UUID, quantity: int, at: datetime) -> None:
    async with db.federation(b.federation) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_call_off (federation_id, id, contract_id, municipality_id, ocid, quantity,
                                                value_sek, ordered_at)
               VALUES ($1, $2, $3, $4, $5, $6, 0, $7)""",
            b.federation,
            uuid.uuid4(),
            b.contract,
            mid,
            f"{b.ocid}-{uuid.uuid4().hex[:8]}",
            quantity,
            at,
        )


async def _delivery(db: Database, site: Site, dropped: datetime) -> None:
    """A delivery received through the site's first compartment at ``dropped``."""
    async with db.tenant(site.tenant) as scope:
        await scope.connection.execute(
            """INSERT INTO deliveries_delivery (tenant_id, id, reference, integrator_id, site_id, compartment_id,
                   temperature_class, size_class, recipient_kind, recipient_name, window_start, window_end, hold,
                   status, status_at, created_at, dropped_off_at)
               VALUES ($1, $2, $3, $4, $5, $6, 'chilled', 'M', 'staff_unit', 'Hemtjänst Norr', $7, $8,
                       tstzrange($7, $8), 'picked_up', $8, $7, $8)""",
            site.tenant,
            uuid.uuid4(),
            f"ORD-{uuid.uuid4().hex[:8]}",
            uuid.uuid4(),
            site.site_id,
            site.compartments["1"],
            dropped - timedelta(hours=1),
            dropped,
        )
