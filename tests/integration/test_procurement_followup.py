"""Service levels followed up from real locker data, and reviews of vendors, on the real database.

The lockers' history is built through the lockers plugin itself: lockers registered with its
registration service, and the gateway's HealthChanged / AlarmRaised / AlarmCleared events, with
explicit past times in October 2026, pushed through the real Ingest. October 2026 in Sweden has
745 hours (summer time ends on the 25th): from 2026-09-30 22:00 to 2026-10-31 23:00 UTC.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway.contracts import (
    AlarmCleared,
    AlarmKind,
    AlarmRaised,
    Connectivity,
    HealthChanged,
    LockerEvent,
    LockerHealth,
    Severity,
    SizeClass,
    TemperatureClass,
)
from plugins import state as plugin_state
from plugins.lockers import registration
from plugins.lockers.ingest import Ingest
from plugins.lockers.streams import Streams
from plugins.procurement import followup, reviews
from plugins.procurement import followup_queries as queries
from plugins.procurement.federation import Caller
from plugins.registry import PluginRegistry
from tenants.access import Actor, Principal, Role
from tenants.database import Database
from tests.conftest import World, make_world
from tests.integration.test_lockers_ingest import ingest as ingest  # fixtures
from tests.integration.test_lockers_ingest import push
from tests.integration.test_lockers_ingest import redis as redis
from tests.integration.test_lockers_ingest import streams as streams

ACTOR = Actor.system("test")
OCTOBER = date(2026, 10, 1)
CHILLED, FROZEN, AMBIENT = TemperatureClass.CHILLED, TemperatureClass.FROZEN, TemperatureClass.AMBIENT


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- the lockers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Locker:
    endpoint_id: str
    key: str
    id: uuid.UUID


async def lockers(db: Database, tenant: uuid.UUID, layouts: dict[str, dict[str, TemperatureClass]]) -> list[Locker]:
    """Enable the lockers plugin and register one endpoint with a locker per layout."""
    tag = uuid.uuid4().hex[:6]
    async with db.tenant(tenant) as scope:
        if not await api.plugin_enabled(scope, "lockers"):
            config = {"door_ajar_limit_s": 600, "temperature_excursion_limit_s": 600, "open_timeout_s": 5}
            await plugin_state.enable(scope, PluginRegistry.discover(), "lockers", config=config, actor=ACTOR)
        site = await registration.register_site(scope, registration.NewSite(f"Vårdcentralen {tag}"), actor=ACTOR)
        ep = await registration.register_endpoint(
            scope, registration.NewEndpoint(f"kb-{tag}", "kylbox", "opc.tcp://127.0.0.1:4841"), actor=ACTOR
        )
        result = []
        for key, layout in layouts.items():
            compartments = tuple(registration.NewCompartment(k, c, SizeClass.M) for k, c in layout.items())
            row = await registration.register_locker(
                scope, registration.NewLocker(str(site["id"]), ep["id"], key, f"Skåp {key}", compartments), actor=ACTOR
            )
            result.append(Locker(ep["id"], key, row["id"]))
    return result


class Gateway:
    """Plays the gateway: events with explicit times and growing seqs onto a Redis stream, stored by
    the real Ingest (``ingest`` here, or a running ``samverka worker`` on the gateway's stream)."""

    def __init__(self, redis: Redis, stream: str, ingest: Ingest | None = None) -> None:
        self.redis, self.stream, self.ingest = redis, stream, ingest
        self.seq = 0

    def _base(self, locker: Locker, compartment: str | None, when: str) -> dict[str, Any]:
        self.seq += 1
        return {
            "event_id": uuid.uuid4().hex,
            "endpoint_id": locker.endpoint_id,
            "locker": locker.key,
            "compartment": compartment,
            "seq": self.seq,
            "at": at(when),
        }

    def health(self, locker: Locker, when: str, connectivity: Connectivity) -> HealthChanged:
        return HealthChanged(**self._base(locker, None, when), health=LockerHealth(connectivity=connectivity))

    def alarm(
        self, locker: Locker, compartment: str, raised: str, cleared: str | None, kind: AlarmKind
    ) -> list[LockerEvent]:
        alarm_id = uuid.uuid4().hex
        events: list[LockerEvent] = [
            AlarmRaised(
                **self._base(locker, compartment, raised),
                alarm_id=alarm_id,
                alarm=kind,
                severity=Severity.CRITICAL,
                message="Temperaturlarm",
            )
        ]
        if cleared:
            events.append(AlarmCleared(**self._base(locker, compartment, cleared), alarm_id=alarm_id, alarm=kind))
        return events

    async def send(self, events: list[LockerEvent]) -> None:
        await push(self.redis, self.stream, events)
        if self.ingest is not None:
            await self.ingest.drain()


# --- the contract --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contract:
    federation: uuid.UUID
    id: uuid.UUID
    procurement_id: uuid.UUID
    vendor_id: uuid.UUID
    levels: dict[str, uuid.UUID]  # metric -> id


async def vendor(db: Database, fed: uuid.UUID, name: str) -> uuid.UUID:
    vid = uuid.uuid4()
    async with db.federation(fed) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
               VALUES ($1, $2, $3, $4, 'avtal@example.se')""",
            fed,
            vid,
            name,
            f"55{vid.int % 10**4:04d}-{vid.int // 7 % 10**4:04d}",
        )
    return vid


async def contract(
    db: Database,
    fed: uuid.UUID,
    *,
    lead: uuid.UUID | None = None,
    covers_lockers: bool = True,
    levels: bool = True,
    vendor_id: uuid.UUID | None = None,
) -> Contract:
    """A signed framework contract for lockers as a service (from 1 Sep 2026), with service levels:
    availability 99 % (10 000 kr), temperature compliance 98 % (5 000 kr), critical fix in 4 h."""
    vid = vendor_id or await vendor(db, fed, f"Kylbox Service {uuid.uuid4().hex[:4]} AB")
    pid, lot, cid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    ids = {m: uuid.uuid4() for m in ("availability", "temperature_compliance", "fault_fix")}
    async with db.federation(fed) as scope:
        conn = scope.connection
        await conn.execute(
            """INSERT INTO procurement (federation_id, id, ocid, title, category, contract_kind, estimated_value_sek,
                                        procedure, duration_months, status, published_at, tender_deadline,
                                        lead_municipality_id)
               VALUES ($1, $2, $3, 'Tempererade leveransskåp som tjänst', 'lockers', 'services', 3000000, 'open', 48,
                       'contracted', '2026-06-01', '2026-07-10', $4)""",
            fed,
            pid,
            f"ocds-test-{pid}",
            lead,
        )
        await conn.execute(
            "INSERT INTO procurement_lot (federation_id, id, procurement_id, number, title) VALUES ($1,$2,$3,1,'Skåp')",
            fed,
            lot,
            pid,
        )
        await conn.execute(
            """INSERT INTO procurement_contract (federation_id, id, procurement_id, lot_id, award_id, vendor_id, title,
                                                 value_sek, signed_at, starts_on, ends_on, framework, covers_lockers)
               VALUES ($1, $2, $3, $4, $5, $6, 'Leveransskåp som tjänst', 2900000, '2026-08-20', '2026-09-01',
                       '2030-08-31', true, $7)""",
            fed,
            cid,
            pid,
            lot,
            uuid.uuid4(),
            vid,
            covers_lockers,
        )
        if levels:
            await conn.executemany(
                """INSERT INTO procurement_service_level (federation_id, id, contract_id, metric, severity, target,
                                                          unit, penalty_sek) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                [
                    (fed, ids["availability"], cid, "availability", None, Decimal("99"), "percent", Decimal("10000")),
                    (
                        fed,
                        ids["temperature_compliance"],
                        cid,
                        "temperature_compliance",
                        None,
                        Decimal("98"),
                        "percent",
                        Decimal("5000"),
                    ),
                    (fed, ids["fault_fix"], cid, "fault_fix", "critical", Decimal("4"), "hours", Decimal("2000")),
                ],
            )
    return Contract(fed, cid, pid, vid, ids)


async def call_off(db: Database, c: Contract, municipality: uuid.UUID, locker_ids: list[uuid.UUID]) -> None:
    oid = uuid.uuid4()
    async with db.federation(c.federation) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_call_off (federation_id, id, contract_id, municipality_id, ocid, quantity,
                                                 value_sek, locker_ids) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)""",
            c.federation,
            oid,
            c.id,
            municipality,
            f"ocds-test-{oid}",
            max(len(locker_ids), 1),
            locker_ids,
        )


# --- callers -------------------------------------------------------------------------------------


def admin_of_federation(world: World) -> Caller:
    p = Principal(Actor("user", uuid.uuid4(), world.federation_admin_email), world.federation_id, True)
    return Caller(p, world.federation_id, None, None, True)


def person(world: World, municipality: uuid.UUID, role: Role = Role.TENANT_ADMIN, label: str = "") -> Caller:
    p = Principal(
        Actor("user", uuid.uuid4(), label or f"{role.value}@kommun.example.se"),
        world.federation_id,
        memberships={municipality: frozenset({role})},
        tenant_id=municipality,
    )
    return Caller(p, world.federation_id, municipality, None, False)


def of_vendor(world: World, vendor_id: uuid.UUID) -> Caller:
    p = Principal(Actor("user", uuid.uuid4(), "anbud@kylbox.example.se"), world.federation_id)
    return Caller(p, world.federation_id, None, vendor_id, False)


async def stored(db: Database, c: Contract, municipality: uuid.UUID | None = None) -> list[queries.Month]:
    async with db.federation(c.federation) as scope:
        return await queries.months(scope, c.id, None, municipality)


def lines(months: list[queries.Month]) -> dict[tuple[uuid.UUID, str], queries.Line]:
    return {(m.municipality_id, x.metric): x for month in months for m in month.municipalities for x in m.lines}


async def log_actions(db: Database, fed: uuid.UUID) -> list[str]:
    async with db.federation(fed) as scope:
        return [r["action"] for r in await scope.connection.fetch("SELECT action FROM procurement_log ORDER BY id")]


# --- the month -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class October:
    contract: Contract
    a: list[Locker]
    b: list[Locker]


@pytest.fixture
async def october(db: Database, world: World, redis: Redis, streams: Streams, ingest: Ingest) -> October:
    """A: two lockers; B: one; their October 2026 (see each comment for the hand computation)."""
    a1, a2 = await lockers(db, world.a.id, {"L1": {"1": CHILLED, "2": FROZEN, "3": AMBIENT}, "L2": {"1": CHILLED}})
    (b1,) = await lockers(db, world.b.id, {"L1": {"1": CHILLED}})
    gw = Gateway(redis, streams.events, ingest)
    online, offline = Connectivity.ONLINE, Connectivity.OFFLINE
    high, low = AlarmKind.TEMPERATURE_HIGH, AlarmKind.TEMPERATURE_LOW
    await gw.send(
        [
            # A-L1: online since September (carried in); offline 22 h 21 min (22.35 h) on the 10th-11th, and the
            # last hour of the month (the outage runs on into November): 23.35 h of 745 offline.
            gw.health(a1, "2026-09-15T08:00:00", online),
            gw.health(a1, "2026-10-10T10:00:00", offline),
            gw.health(a1, "2026-10-11T08:21:00", online),
            gw.health(a1, "2026-10-31T22:00:00", offline),
            gw.health(a1, "2026-11-01T02:00:00", online),
            # A-L2: nothing known before its first report on the 16th at 22:00 UTC: 361 h known, all online.
            gw.health(a2, "2026-10-16T22:00:00", online),
            # B-L1: offline since September; online 7 h 27 min (7.45 h) into the month: 737.55 of 745 h.
            gw.health(b1, "2026-09-28T12:00:00", offline),
            gw.health(b1, "2026-10-01T05:27:00", online),
            # A's temperatures: L1/1 two overlapping alarms (10 h and 7 h, 2 h shared: 15 h); L1/2 an alarm raised
            # before the month (5 h of it inside); L2/1 raised 3 h before the end, never cleared. 23 h in all.
            *gw.alarm(a1, "1", "2026-10-05T10:00:00", "2026-10-05T20:00:00", high),
            *gw.alarm(a1, "1", "2026-10-05T18:00:00", "2026-10-06T01:00:00", high),
            *gw.alarm(a1, "2", "2026-09-30T20:00:00", "2026-10-01T03:00:00", high),
            *gw.alarm(a2, "1", "2026-10-31T20:00:00", None, low),
            # Not temperature alarms, or not on a temperature-controlled compartment: they do not count.
            *gw.alarm(a1, "1", "2026-10-07T00:00:00", "2026-10-09T00:00:00", AlarmKind.DOOR_AJAR),
            *gw.alarm(a1, "3", "2026-10-12T00:00:00", "2026-10-13T00:00:00", high),
            # B: a whole day above 8 °C.
            *gw.alarm(b1, "1", "2026-10-20T00:00:00", "2026-10-21T00:00:00", high),
        ]
    )
    c = await contract(db, world.federation_id, lead=world.a.id)
    await call_off(db, c, world.a.id, [a1.id])
    await call_off(db, c, world.a.id, [a2.id, a1.id])  # a second call-off: the lockers count once
    await call_off(db, c, world.b.id, [b1.id])
    return October(c, [a1, a2], [b1])


async def test_a_month_is_measured_from_the_lockers_own_data_and_breaches_cost_their_penalty(
    db: Database, world: World, october: October
) -> None:
    c = october.contract
    await followup.compute(db, admin_of_federation(world), c.id, OCTOBER, utcnow())
    (month,) = await stored(db, c)
    got = lines([month])
    a, b = world.a.id, world.b.id
    # A: (745 - 23.35 + 361) / (745 + 361) = 1082.65 / 1106; (3 x 745 - 23) / (3 x 745) = 2212 / 2235.
    assert got[a, "availability"].measured == Decimal("97.8888") and got[a, "availability"].breached
    assert got[a, "availability"].penalty_sek == Decimal("10000")
    assert got[a, "availability"].details["known_hours"] == "1106.0000"
    assert got[a, "availability"].details["online_hours"] == "1082.6500"
    assert got[a, "temperature_compliance"].measured == Decimal("98.9709")
    assert not got[a, "temperature_compliance"].breached and got[a, "temperature_compliance"].penalty_sek == 0
    assert got[a, "temperature_compliance"].details == {
        **got[a, "temperature_compliance"].details,
        "compartments": 3,
        "alarm_hours": "23.0000",
        "alarms": 4,
    }
    # B: 737.55 / 745 = exactly the 99 % target (a 744-hour month would say 99.1331): no breach.
    assert got[b, "availability"].measured == Decimal("99.0000") and not got[b, "availability"].breached
    assert got[b, "temperature_compliance"].measured == Decimal("96.7785")  # 721 / 745
    assert got[b, "temperature_compliance"].breached and got[b, "temperature_compliance"].penalty_sek == 5000
    # No fault reports yet: nothing measured, no breach.
    for m in (a, b):
        assert got[m, "fault_fix"].measured is None and not got[m, "fault_fix"].breached
    assert {m.municipality_id: (m.breaches, m.penalty_sek) for m in month.municipalities} == {
        a: (1, Decimal("10000")),
        b: (1, Decimal("5000")),
    }
    assert (month.breaches, month.penalty_sek) == (2, Decimal("15000"))
    assert got[a, "availability"].details["from"] == "2026-10-01T00:00:00+02:00"
    assert got[a, "availability"].details["to"] == "2026-11-01T00:00:00+01:00"
    assert "procurement.followup_computed" in await log_actions(db, c.federation)


async def count_rows(db: Database, fed: uuid.UUID, table: str) -> int:
    async with db.federation(fed) as scope:
        return int(await scope.connection.fetchval(f"SELECT count(*) FROM {table}"))


async def test_computing_a_month_again_replaces_it_with_what_the_lockers_have_reported_since(
    db: Database, world: World, october: October, redis: Redis, streams: Streams, ingest: Ingest
) -> None:
    c, admin = october.contract, admin_of_federation(world)
    await followup.compute(db, admin, c.id, OCTOBER, utcnow())
    assert await count_rows(db, c.federation, "procurement_followup") == 6  # 2 municipalities, 3 levels each
    # A late report: B was offline for another 7.45 h on the 25th (a resent gateway outbox, say).
    gw = Gateway(redis, streams.events, ingest)
    gw.seq = 1000
    (b1,) = october.b
    await gw.send(
        [
            gw.health(b1, "2026-10-25T10:00:00", Connectivity.OFFLINE),
            gw.health(b1, "2026-10-25T17:27:00", Connectivity.ONLINE),
        ]
    )
    await followup.compute(db, admin, c.id, OCTOBER, utcnow())
    got = lines(await stored(db, c))
    assert await count_rows(db, c.federation, "procurement_followup") == 6
    assert got[world.b.id, "availability"].measured == Decimal("98.0000")  # 730.1 / 745
    assert got[world.b.id, "availability"].breached and got[world.b.id, "availability"].penalty_sek == 10000
    assert (await log_actions(db, c.federation)).count("procurement.followup_computed") == 2


async def test_a_month_keeps_the_target_it_was_measured_against_until_it_is_computed_again(
    db: Database, world: World, october: October
) -> None:
    c, admin = october.contract, admin_of_federation(world)
    await followup.compute(db, admin, c.id, OCTOBER, utcnow())
    async with db.federation(c.federation) as scope:  # as setServiceLevels changes a level: in place
        await scope.connection.execute(
            "UPDATE procurement_service_level SET target = 97.5 WHERE id = $1", c.levels["availability"]
        )
    before = lines(await stored(db, c))[world.a.id, "availability"]
    assert (before.target, before.breached) == (Decimal("99.000"), True)
    await followup.compute(db, admin, c.id, OCTOBER, utcnow())
    after = lines(await stored(db, c))[world.a.id, "availability"]
    assert (after.measured, after.target, after.breached, after.penalty_sek) == (
        Decimal("97.8888"),
        Decimal("97.500"),
        False,
        0,
    )


async def test_the_current_month_is_measured_up_to_now(db: Database, world: World, october: October) -> None:
    c, now = october.contract, at("2026-11-10T23:00:00")  # ten days into November (local time)
    await followup.compute(db, admin_of_federation(world), c.id, date(2026, 11, 1), now)
    availability = lines(await stored(db, c))[world.a.id, "availability"]
    assert datetime.fromisoformat(availability.details["to"]) == now
    # Both of A's lockers are known for all 240 hours; A-L1's outage from 31 October ran 3 hours into
    # November; A-L2 stayed online: 477 / 480.
    assert (availability.details["known_hours"], availability.details["online_hours"]) == ("480.0000", "477.0000")
    assert availability.measured == Decimal("99.3750") and not availability.breached


async def test_bad_input_is_refused_and_changes_nothing(db: Database, world: World, october: October) -> None:
    c, admin = october.contract, admin_of_federation(world)
    await followup.compute(db, admin, c.id, OCTOBER, utcnow())
    before = (await stored(db, c), await log_actions(db, c.federation))
    for month, words in (
        (date(2026, 10, 15), "first day"),
        (date(2027, 1, 1), "once it has begun"),
        (date(2026, 8, 1), "runs from 2026-09-01 to 2030-08-31"),
    ):
        with pytest.raises(api.ValidationFailed, match=words) as raised:
            await followup.compute(db, admin, c.id, month, utcnow())
        assert raised.value.fields[0].field == "month"
    with pytest.raises(api.NotFound):
        await followup.compute(db, admin, uuid.uuid4(), OCTOBER, utcnow())
    no_lockers = await contract(db, world.federation_id, covers_lockers=False)
    with pytest.raises(api.Conflict, match="covers no lockers"):
        await followup.compute(db, admin, no_lockers.id, OCTOBER, utcnow())
    no_levels = await contract(db, world.federation_id, levels=False)
    with pytest.raises(api.Conflict, match="setServiceLevels"):
        await followup.compute(db, admin, no_levels.id, OCTOBER, utcnow())
    assert (await stored(db, c), await log_actions(db, c.federation)) == before
    assert await count_rows(db, c.federation, "procurement_followup") == 6


async def test_the_leading_municipalitys_admins_compute_and_nobody_else_of_the_members(
    db: Database, world: World, october: October
) -> None:
    c = october.contract
    for caller in (person(world, world.b.id), person(world, world.a.id, Role.STAFF), of_vendor(world, c.vendor_id)):
        with pytest.raises(api.PermissionDenied):
            await followup.compute(db, caller, c.id, OCTOBER, utcnow())
    assert await count_rows(db, c.federation, "procurement_followup") == 0
    await followup.compute(db, person(world, world.a.id), c.id, OCTOBER, utcnow())  # A leads the procurement
    assert await count_rows(db, c.federation, "procurement_followup") == 6


async def test_a_municipality_sees_its_own_lines_and_the_federation_sees_all(
    db: Database, world: World, october: October
) -> None:
    c = october.contract
    await followup.compute(db, admin_of_federation(world), c.id, OCTOBER, utcnow())
    async with db.federation(c.federation) as scope:
        row = await followup.contract(scope, c.id)
    assert queries.own_lines_only(person(world, world.b.id, Role.STAFF), row) == world.b.id
    assert queries.own_lines_only(person(world, world.a.id, Role.STAFF), row) is None  # the lead
    assert queries.own_lines_only(admin_of_federation(world), row) is None
    assert queries.own_lines_only(of_vendor(world, c.vendor_id), row) is None  # the contract's own vendor
    with pytest.raises(api.PermissionDenied):
        queries.own_lines_only(of_vendor(world, uuid.uuid4()), row)  # another vendor
    with pytest.raises(api.PermissionDenied):
        queries.own_lines_only(person(world, world.b.id, Role.INTEGRATOR), row)
    (month,) = await stored(db, c, world.b.id)
    assert [m.municipality_id for m in month.municipalities] == [world.b.id]


async def test_another_federation_can_neither_compute_nor_read_a_contract_and_a_call_off_sees_only_its_own_lockers(
    db: Database, world: World, october: October
) -> None:
    c = october.contract
    other = await make_world(db)
    with pytest.raises(api.NotFound):
        await followup.compute(db, admin_of_federation(other), c.id, OCTOBER, utcnow())
    async with db.federation(other.federation_id) as scope:
        with pytest.raises(api.NotFound):
            await followup.contract(scope, c.id)
        assert await queries.months(scope, c.id, None, None) == []
    # The other federation's own contract, whose call-off names this federation's lockers: measured in
    # its own municipality's transaction, they are not there, so nothing is measured.
    theirs = await contract(db, other.federation_id)
    await call_off(db, theirs, other.a.id, [locker.id for locker in october.a])
    await followup.compute(db, admin_of_federation(other), theirs.id, OCTOBER, utcnow())
    got = lines(await stored(db, theirs))
    assert {x.measured for x in got.values()} == {None} and not any(x.breached for x in got.values())
    assert got[other.a.id, "availability"].details["reason"] == "no locker data for this period"
    assert await count_rows(db, c.federation, "procurement_followup") == 0


# --- reviews -------------------------------------------------------------------------------------


async def participant(db: Database, c: Contract, municipality: uuid.UUID, *, withdrawn: bool = False) -> None:
    async with db.federation(c.federation) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_participant (federation_id, procurement_id, municipality_id, share_percent,
                                                    withdrawn_at) VALUES ($1, $2, $3, 50, $4)""",
            c.federation,
            c.procurement_id,
            municipality,
            utcnow() if withdrawn else None,
        )


async def audit_actions(db: Database, tenant: uuid.UUID) -> list[str]:
    async with db.tenant(tenant) as scope:
        return [r["action"] for r in await scope.connection.fetch("SELECT action FROM audit_log ORDER BY id")]


async def test_a_municipality_that_used_the_contract_reviews_the_vendor_and_the_federation_reads_it(
    db: Database, world: World
) -> None:
    c = await contract(db, world.federation_id)
    await call_off(db, c, world.a.id, [])
    await participant(db, c, world.b.id)  # B took part in the procurement but has not called off yet
    admin_a = person(world, world.a.id, label="Anna Admin")
    first = await reviews.review(
        db, admin_a, vendor_id=c.vendor_id, contract_id=c.id, rating=4, text="  Skåpen fungerar, support svarar.  "
    )
    assert (first.rating, first.text, first.author, first.contract_id) == (
        4,
        "Skåpen fungerar, support svarar.",
        "Anna Admin",
        c.id,
    )
    await reviews.review(db, person(world, world.b.id), vendor_id=c.vendor_id, contract_id=None, rating=2, text="Sen.")
    for reader in (person(world, world.b.id, Role.STAFF), admin_of_federation(world)):
        seen = await reviews.reviews(db, reader, c.vendor_id)
        assert [(r.municipality_id, r.rating) for r in seen.reviews] == [(world.b.id, 2), (world.a.id, 4)]
        assert seen.average_rating == Decimal("3.00") and seen.reviews[1].author == "Anna Admin"
    own = await reviews.reviews(db, of_vendor(world, c.vendor_id), c.vendor_id)  # the vendor: without authors
    assert [r.rating for r in own.reviews] == [2, 4] and {r.author for r in own.reviews} == {None}
    with pytest.raises(api.PermissionDenied):
        await reviews.reviews(db, of_vendor(world, await vendor(db, world.federation_id, "Konkurrent AB")), c.vendor_id)
    assert (await log_actions(db, c.federation)).count("procurement.vendor_reviewed") == 2
    assert "procurement.vendor_reviewed" in await audit_actions(db, world.a.id)


async def test_bad_reviews_are_refused_and_change_nothing(db: Database, world: World) -> None:
    c = await contract(db, world.federation_id)
    other_vendors = await contract(db, world.federation_id)
    await call_off(db, c, world.a.id, [])
    await participant(db, other_vendors, world.b.id, withdrawn=True)
    admin_a = person(world, world.a.id)

    async def review(caller: Caller, **change: Any) -> None:
        args: dict[str, Any] = {"vendor_id": c.vendor_id, "contract_id": c.id, "rating": 3, "text": "Bra.", **change}
        await reviews.review(db, caller, **args)

    for change, field in (
        ({"rating": 0}, "rating"),
        ({"rating": 6}, "rating"),
        ({"text": "   "}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"contract_id": other_vendors.id}, "contractId"),
    ):
        with pytest.raises(api.ValidationFailed) as raised:
            await review(admin_a, **change)
        assert [f.field for f in raised.value.fields] == [field]
    with pytest.raises(api.NotFound):
        await review(admin_a, vendor_id=uuid.uuid4(), contract_id=None)
    with pytest.raises(api.NotFound):
        await review(admin_a, contract_id=uuid.uuid4())
    denied: list[tuple[Caller, dict[str, Any]]] = [
        (person(world, world.a.id, Role.STAFF), {}),  # staff read reviews; admins write them
        (person(world, world.b.id), {}),  # B has neither a call-off nor a share...
        (person(world, world.b.id), {"vendor_id": other_vendors.vendor_id, "contract_id": None}),  # ...it withdrew
        (admin_of_federation(world), {}),  # no municipality chosen
        (of_vendor(world, c.vendor_id), {}),
    ]
    for caller, change in denied:
        with pytest.raises(api.PermissionDenied):
            await review(caller, **change)
    assert await count_rows(db, c.federation, "procurement_review") == 0
    assert "procurement.vendor_reviewed" not in await log_actions(db, c.federation)
    assert "procurement.vendor_reviewed" not in await audit_actions(db, world.a.id)


async def test_another_federation_neither_reviews_nor_reads_a_vendor(db: Database, world: World) -> None:
    c = await contract(db, world.federation_id)
    await call_off(db, c, world.a.id, [])
    await reviews.review(db, person(world, world.a.id), vendor_id=c.vendor_id, contract_id=None, rating=5, text="Bra.")
    other = await make_world(db)
    with pytest.raises(api.NotFound):
        await reviews.reviews(db, admin_of_federation(other), c.vendor_id)
    with pytest.raises(api.NotFound):
        await reviews.review(db, person(other, other.a.id), vendor_id=c.vendor_id, contract_id=None, rating=1, text="?")
    assert await count_rows(db, other.federation_id, "procurement_review") == 0
