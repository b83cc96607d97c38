"""The deliveries plugin on real PostgreSQL and Redis, driven through the lockers ingest with the
events a gateway would send (the end-to-end tests use real simulators and the gateway).

Covers reservation (fit, fair spread, no double booking under concurrency), codes (single use,
expiry, lock-out, audit), the lifecycle from locker events, the cold-chain record and its
break, expiry and return, no-shows, retention, and bad input that changes nothing.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import utcnow
from backend.lib.errors import DomainError
from backend.notifications import endpoints
from opcua_gateway import contracts
from opcua_gateway.contracts import CodeEntered, CompartmentState, SizeClass, StateChanged, Telemetry, TemperatureClass
from plugins import state as plugin_state
from plugins.deliveries import codes, lifecycle, service
from plugins.deliveries.config import DeliveriesConfig
from plugins.deliveries.domain import NewDelivery, Recipient, RecipientKind, Status
from plugins.deliveries.effects import Effects
from plugins.lockers import registration
from plugins.lockers.hooks import subscribers
from plugins.lockers.ingest import Ingest
from plugins.lockers.streams import Streams
from plugins.registry import PluginRegistry
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_lockers_ingest import QUIET, own_streams, push
from tests.integration.test_lockers_ingest import redis as redis  # a fixture

ACTOR = Actor.system("test")
INTEGRATOR = uuid.uuid4()
LOCKERS_CONFIG = {"door_ajar_limit_s": 600, "temperature_excursion_limit_s": 600, "open_timeout_s": 5}
SETTINGS = DeliveriesConfig(cold_chain_allowed_minutes=1.0, pickup_hours=2.0, return_hours=2.0, reminder_hours=1.0)
CONFIG = {
    "cold_chain_allowed_minutes": 1.0,
    "pickup_hours": 2.0,
    "return_hours": 2.0,
    "reminder_hours": 1.0,
    "alert_email": "kyl@kommun.example.se",
}


@dataclass(frozen=True)
class Site:
    tenant: uuid.UUID
    site_id: uuid.UUID
    endpoint_id: str
    locker_key: str
    locker_id: uuid.UUID
    compartments: dict[str, uuid.UUID]  # key -> id
    classes: dict[str, tuple[TemperatureClass, SizeClass]]


LAYOUT = {
    "1": (TemperatureClass.CHILLED, SizeClass.M),
    "2": (TemperatureClass.CHILLED, SizeClass.M),
    "3": (TemperatureClass.CHILLED, SizeClass.L),
    "4": (TemperatureClass.FROZEN, SizeClass.S),
}


async def install(
    db: Database,
    tenant: uuid.UUID,
    layout: dict[str, tuple[TemperatureClass, SizeClass]] = LAYOUT,
    config: dict[str, Any] | None = None,
) -> Site:
    registry = PluginRegistry.discover()
    async with db.tenant(tenant) as scope:
        enabled = await api.plugin_enabled(scope, "lockers")
        if not enabled:
            await plugin_state.enable(scope, registry, "lockers", config=LOCKERS_CONFIG, actor=ACTOR)
        if not await api.plugin_enabled(scope, "deliveries"):
            await plugin_state.enable(scope, registry, "deliveries", config=config or CONFIG, actor=ACTOR)
    tag = uuid.uuid4().hex[:6]
    async with db.tenant(tenant) as scope:
        site = await registration.register_site(
            scope, registration.NewSite(f"Vårdcentralen {tag}", "Storgatan 1", 58.5035, 13.1577), actor=ACTOR
        )
        ep = await registration.register_endpoint(
            scope, registration.NewEndpoint(f"kb-{tag}", "kylbox", "opc.tcp://127.0.0.1:4841"), actor=ACTOR
        )
        compartments = tuple(registration.NewCompartment(k, c, s) for k, (c, s) in layout.items())
        row = await registration.register_locker(
            scope, registration.NewLocker(str(site["id"]), ep["id"], f"L-{tag}", "Skåp", compartments), actor=ACTOR
        )
        ids = {
            r["compartment_key"]: r["id"]
            for r in await scope.connection.fetch(
                "SELECT id, compartment_key FROM lockers_compartment WHERE locker_id = $1", row["id"]
            )
        }
    return Site(tenant, site["id"], ep["id"], f"L-{tag}", row["id"], ids, dict(layout))


def new(
    site: Site,
    *,
    reference: str | None = None,
    cls: TemperatureClass = TemperatureClass.CHILLED,
    size: SizeClass = SizeClass.M,
    start: datetime | None = None,
    hours: float = 4,
    phone: str | None = "+46701234567",
    email: str | None = None,
) -> NewDelivery:
    start = start or utcnow() + timedelta(minutes=5)
    return NewDelivery(
        reference=reference or f"ORD-{uuid.uuid4().hex[:8]}",
        site_id=str(site.site_id),
        temperature_class=cls,
        size_class=size,
        recipient=Recipient(RecipientKind.STAFF_UNIT, "Hemtjänst Norr", phone, email),
        window_start=start,
        window_end=start + timedelta(hours=hours),
    )


async def create(
    db: Database, site: Site, delivery: NewDelivery, *, integrator: uuid.UUID = INTEGRATOR, now: datetime | None = None
) -> service.Created:
    async with db.tenant(site.tenant) as scope:
        return await service.create(
            scope,
            delivery,
            integrator=integrator,
            actor=ACTOR,
            settings=SETTINGS,
            now=now or utcnow(),
            effects=Effects(site.tenant),
        )


async def row(db: Database, tenant: uuid.UUID, delivery_id: uuid.UUID) -> Any:
    async with db.tenant(tenant) as scope:
        return await service.load(scope, delivery_id)


class Locker:
    """Plays one locker's gateway: typed codes, door and content changes, temperatures."""

    def __init__(self, site: Site, client: Redis, streams: Streams, ingest: Ingest) -> None:
        self.site, self.redis, self.streams, self.ingest = site, client, streams, ingest
        self.seq = 0
        self.clock = utcnow()

    def _base(self, compartment: str | None, at: datetime | None) -> dict[str, Any]:
        self.seq += 1
        self.clock = at or max(self.clock + timedelta(milliseconds=1), utcnow())
        return {
            "event_id": uuid.uuid4().hex,
            "endpoint_id": self.site.endpoint_id,
            "locker": self.site.locker_key,
            "compartment": compartment,
            "seq": self.seq,
            "at": self.clock,
        }

    async def send(self, *events: contracts.Struct) -> None:
        await push(self.redis, self.streams.events, events)
        await self.ingest.drain()

    async def type(self, code: str) -> None:
        await self.send(CodeEntered(**self._base(None, None), code=code))

    def state(
        self, key: str, *, door_open: bool, occupied: bool, at: datetime | None = None, temperature_c: float = 4.0
    ) -> StateChanged:
        cls, size = self.site.classes[key]
        s = CompartmentState(
            compartment=key,
            temperature_class=cls,
            size_class=size,
            door_open=door_open,
            locked=not door_open,
            occupied=occupied,
            temperature_c=temperature_c,
        )
        return StateChanged(**self._base(key, at), state=s, changed=("door_open", "occupied"))

    def temperature(self, key: str, value: float, at: datetime) -> Telemetry:
        return Telemetry(**self._base(key, at), temperature_c=value)

    async def commands(self) -> list[contracts.UnlockCompartment]:
        entries = await self.redis.xrange(contracts.commands_stream(self.site.endpoint_id))
        return [contracts.decode_command(e[1][b"m"]) for e in entries]  # type: ignore[misc]


@pytest.fixture
async def locker(db: Database, world: World, redis: Redis) -> Locker:
    site = await install(db, world.a.id)
    streams = own_streams()
    ingest = Ingest(
        db, redis, streams=streams, tuning=QUIET, consumer="test", hooks=subscribers(PluginRegistry.discover())
    )
    await ingest.group.create()
    async with db.tenant(site.tenant) as scope:  # the integrator listens for webhooks
        await endpoints.set_endpoint(
            scope, owner_id=INTEGRATOR, url="http://127.0.0.1:9/hooks", allow_local=True, actor=ACTOR
        )
    return Locker(site, redis, streams, ingest)


async def notifications(db: Database, tenant: uuid.UUID, delivery_id: uuid.UUID) -> list[Any]:
    async with db.tenant(tenant) as scope:
        return list(
            await scope.connection.fetch(
                "SELECT channel, recipient, topic, body FROM notification WHERE subject_id = $1 ORDER BY created_at",
                delivery_id,
            )
        )


async def pickup_code(db: Database, tenant: uuid.UUID, delivery_id: uuid.UUID) -> str:
    """The code as the recipient's SMS carried it (the outbox keeps the message body)."""
    sent = [n["body"] for n in await notifications(db, tenant, delivery_id) if n["topic"] == "deliveries.pickup_code"]
    body = sent[0] if sent else None
    assert body, "no pickup code was sent"
    return str(body.split("Hämtkod: ")[1][:6])


async def audit_actions(db: Database, tenant: uuid.UUID, prefix: str = "deliveries.") -> list[str]:
    async with db.tenant(tenant) as scope:
        return [
            r["action"]
            for r in await scope.connection.fetch(
                "SELECT action FROM audit_log WHERE tenant_id = $1 AND action LIKE $2 ORDER BY id", tenant, prefix + "%"
            )
        ]


# --- reservation -------------------------------------------------------------------------------


async def test_a_delivery_gets_the_smallest_fitting_free_compartment_spread_fairly(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    first = await create(db, site, new(site))
    second = await create(db, site, new(site))
    third = await create(db, site, new(site))  # both M compartments are held: the L one fits
    held = [c.row["compartment_id"] for c in (first, second, third)]
    assert set(held[:2]) == {site.compartments["1"], site.compartments["2"]}
    assert held[2] == site.compartments["3"]
    assert first.dropoff.code.isdigit() and len(first.dropoff.code) == 6
    assert first.row["status"] == Status.RESERVED.value
    later = utcnow() + timedelta(days=10)  # another window: the least recently used M compartment comes first
    nxt = await create(db, site, new(site, start=later))
    assert nxt.row["compartment_id"] == site.compartments["1"] or nxt.row["compartment_id"] == site.compartments["2"]
    assert nxt.row["compartment_id"] == held[0]


async def test_concurrent_reservations_never_double_book(db: Database, world: World) -> None:
    layout = {str(i): (TemperatureClass.CHILLED, SizeClass.M) for i in range(1, 7)}
    site = await install(db, world.a.id, layout)
    start = utcnow() + timedelta(hours=1)

    async def attempt(i: int) -> str:
        try:
            await create(db, site, new(site, reference=f"C-{i}", start=start))
        except api.Conflict:
            return "conflict"
        return "ok"

    outcomes = await asyncio.gather(*(attempt(i) for i in range(30)))
    assert outcomes.count("ok") == 6 and outcomes.count("conflict") == 24
    async with db.tenant(site.tenant) as scope:
        overlapping = await scope.connection.fetchval(
            """SELECT count(*) FROM deliveries_delivery a JOIN deliveries_delivery b
               ON a.tenant_id = b.tenant_id AND a.compartment_id = b.compartment_id AND a.id < b.id
               AND a.hold && b.hold WHERE a.tenant_id = $1""",
            site.tenant,
        )
        used = await scope.connection.fetchval(
            "SELECT count(DISTINCT compartment_id) FROM deliveries_delivery WHERE tenant_id = $1 AND site_id = $2",
            site.tenant,
            site.site_id,
        )
    assert (overlapping, used) == (0, 6)


async def test_the_database_itself_refuses_an_overlapping_hold(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    first = await create(db, site, new(site))
    second = await create(db, site, new(site))
    assert first.row["compartment_id"] != second.row["compartment_id"]
    with pytest.raises(asyncpg.ExclusionViolationError):
        async with db.tenant(site.tenant) as scope:  # what a buggy release of the code could try
            await scope.connection.execute(
                "UPDATE deliveries_delivery SET compartment_id = $2 WHERE tenant_id = $1 AND id = $3",
                site.tenant,
                first.row["compartment_id"],
                second.row["id"],
            )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"site_id": str(uuid.uuid4())}, None, "Site"),
        ({"temperature_class": TemperatureClass.AMBIENT}, "input.temperatureClass", "no ambient"),
        ({"size_class": SizeClass.XL}, "input.sizeClass", "Oversize"),
        (
            {"window_start": datetime(2020, 1, 1, 8, tzinfo=UTC), "window_end": datetime(2020, 1, 1, 12, tzinfo=UTC)},
            "input.windowEnd",
            "past",
        ),
        (
            {"window_start": datetime(2030, 1, 1, 12, tzinfo=UTC), "window_end": datetime(2030, 1, 1, 8, tzinfo=UTC)},
            "input.windowEnd",
            "after it starts",
        ),
        ({"recipient": Recipient(RecipientKind.CITIZEN, "Anna", None, None)}, "input.recipient", "phone number"),
        ({"recipient": Recipient(RecipientKind.CITIZEN, "Anna", "call me", None)}, "input.recipient.phone", "phone"),
    ],
)
async def test_bad_input_gets_a_typed_error_and_changes_nothing(
    db: Database, world: World, change: dict[str, Any], field: str | None, words: str
) -> None:
    site = await install(db, world.a.id)
    base = new(site)
    bad = NewDelivery(**{**base.__dict__, **change})
    with pytest.raises(DomainError) as caught:
        await create(db, site, bad)
    error = caught.value
    assert words in str(error)
    if field is not None:
        assert isinstance(error, api.ValidationFailed) and [f.field for f in error.fields] == [field]
    else:
        assert isinstance(error, api.NotFound)
    async with db.tenant(site.tenant) as scope:
        assert (
            await scope.connection.fetchval("SELECT count(*) FROM deliveries_delivery WHERE site_id = $1", site.site_id)
            == 0
        )


async def test_a_reference_is_booked_once_per_integrator(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    await create(db, site, new(site, reference="ORD-1"))
    with pytest.raises(api.Conflict, match="ORD-1"):
        await create(db, site, new(site, reference="ORD-1"))
    other = await create(db, site, new(site, reference="ORD-1"), integrator=uuid.uuid4())  # another integrator's
    assert other.row["reference"] == "ORD-1"


async def test_when_nothing_is_free_the_error_says_what_to_do(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    await create(db, site, new(site, cls=TemperatureClass.FROZEN, size=SizeClass.S))
    with pytest.raises(api.Conflict, match="Choose another window or site"):
        await create(db, site, new(site, cls=TemperatureClass.FROZEN, size=SizeClass.S))


async def test_cancel_frees_the_compartment_and_a_window_change_keeps_or_moves_it(db: Database, world: World) -> None:
    site = await install(db, world.a.id, {"1": (TemperatureClass.CHILLED, SizeClass.M)})
    first = await create(db, site, new(site))
    async with db.tenant(site.tenant) as scope:
        cancelled = await service.cancel(
            scope,
            first.row["id"],
            integrator=INTEGRATOR,
            actor=ACTOR,
            reason="test",
            now=utcnow(),
            effects=Effects(site.tenant),
        )
    assert cancelled["status"] == "cancelled" and cancelled["cancelled_at"] is not None
    second = await create(db, site, new(site))  # the only compartment is free again
    later = utcnow() + timedelta(days=3)
    async with db.tenant(site.tenant) as scope:
        moved, issued = await service.update_window(
            scope,
            second.row["id"],
            later,
            later + timedelta(hours=2),
            integrator=INTEGRATOR,
            actor=ACTOR,
            settings=SETTINGS,
            now=utcnow(),
            effects=Effects(site.tenant),
        )
    assert moved["window_start"] == later and issued is None  # same locker: the code still works
    with pytest.raises(api.NotFound):  # another integrator cannot touch it (and learns nothing)
        async with db.tenant(site.tenant) as scope:
            await service.cancel(
                scope,
                second.row["id"],
                integrator=uuid.uuid4(),
                actor=ACTOR,
                reason="x",
                now=utcnow(),
                effects=Effects(site.tenant),
            )


# --- codes and the lifecycle from locker events -------------------------------------------------


async def test_a_delivery_goes_from_drop_off_to_pickup_on_locker_events(db: Database, locker: Locker) -> None:
    site = locker.site
    created = await create(db, site, new(site))
    key = next(k for k, v in site.compartments.items() if v == created.row["compartment_id"])

    await locker.type(created.dropoff.code)
    [command] = await locker.commands()
    assert (command.compartment, command.locker) == (key, site.locker_key)
    await locker.send(locker.state(key, door_open=True, occupied=False))
    await locker.send(locker.state(key, door_open=False, occupied=True, temperature_c=4.0))
    dropped = await row(db, site.tenant, created.row["id"])
    assert dropped["status"] == "pickup_code_sent" and dropped["dropped_off_at"] is not None
    code = await pickup_code(db, site.tenant, created.row["id"])

    await locker.type(created.dropoff.code)  # a double drop-off: the code is used up
    assert len(await locker.commands()) == 1
    t0 = locker.clock
    await locker.send(
        locker.temperature(key, 5.0, t0 + timedelta(seconds=10)),
        locker.temperature(key, 3.0, t0 + timedelta(seconds=20)),
    )
    await locker.type(code)
    assert len(await locker.commands()) == 2
    await locker.send(locker.state(key, door_open=True, occupied=True, at=t0 + timedelta(seconds=30)))
    await locker.send(locker.state(key, door_open=False, occupied=False, at=t0 + timedelta(seconds=40)))
    done = await row(db, site.tenant, created.row["id"])
    assert done["status"] == "picked_up" and done["picked_up_by"] == "recipient (pickup code)"
    assert (done["cold_min_c"], done["cold_max_c"], done["cold_seconds_above"]) == (3.0, 5.0, 0.0)
    assert not done["cold_chain_broken"]
    async with db.tenant(site.tenant) as scope:
        steps = [
            r["to_status"]
            for r in await scope.connection.fetch(
                "SELECT to_status FROM deliveries_transition WHERE delivery_id = $1 ORDER BY id", created.row["id"]
            )
        ]
        hold_empty = await scope.connection.fetchval(
            "SELECT upper(hold) <= $2 OR isempty(hold) FROM deliveries_delivery WHERE id = $1",
            created.row["id"],
            done["picked_up_at"],
        )
    assert steps == ["reserved", "dropped_off", "pickup_code_sent", "picked_up"]
    assert hold_empty  # the compartment is free again
    actions = await audit_actions(db, site.tenant)
    assert actions.count("deliveries.code_accepted") == 2 and "deliveries.code_rejected" in actions
    assert {"deliveries.dropped_off", "deliveries.pickup_code_sent", "deliveries.picked_up"} <= set(actions)
    async with db.tenant(site.tenant) as scope:
        stored = await scope.connection.fetch(
            "SELECT body::text AS body FROM lockers_event WHERE tenant_id = $1 AND kind = 'code_entered'", site.tenant
        )
    assert stored and all(created.dropoff.code not in r["body"] for r in stored)  # a code is never stored in clear


async def test_wrong_codes_block_the_locker_for_a_while_and_are_audited(db: Database, locker: Locker) -> None:
    site = locker.site
    created = await create(db, site, new(site))
    wrong = "000000" if created.dropoff.code != "000000" else "111111"
    for _ in range(SETTINGS.code_attempts):
        await locker.type(wrong)
    await locker.type(created.dropoff.code)  # right, but the locker refuses codes now
    assert await locker.commands() == []
    actions = await audit_actions(db, site.tenant)
    assert actions.count("deliveries.code_rejected") == SETTINGS.code_attempts
    assert actions.count("deliveries.keypad_blocked") == 1 and actions.count("deliveries.code_refused") == 1
    async with db.tenant(site.tenant) as scope:  # after the lock-out the good code works (still unused)
        checked = await codes.check(
            scope,
            site.locker_id,
            created.dropoff.code,
            utcnow() + timedelta(minutes=SETTINGS.code_lockout_minutes + 1),
            attempts=5,
            lockout=timedelta(minutes=15),
        )
    assert checked.verdict is codes.Verdict.ACCEPTED


async def test_an_expired_code_does_not_open(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    created = await create(db, site, new(site))
    async with db.tenant(site.tenant) as scope:
        checked = await codes.check(
            scope,
            site.locker_id,
            created.dropoff.code,
            created.dropoff.expires_at + timedelta(seconds=1),
            attempts=5,
            lockout=timedelta(minutes=15),
        )
    assert checked.verdict is codes.Verdict.EXPIRED


async def test_a_cold_chain_break_is_flagged_at_once_and_told(db: Database, locker: Locker) -> None:
    site = locker.site
    created = await create(db, site, new(site))
    key = next(k for k, v in site.compartments.items() if v == created.row["compartment_id"])
    await locker.type(created.dropoff.code)
    await locker.send(locker.state(key, door_open=True, occupied=False))
    await locker.send(locker.state(key, door_open=False, occupied=True))
    t0 = locker.clock
    await locker.send(
        locker.temperature(key, 9.5, t0 + timedelta(seconds=10)),
        locker.temperature(key, 11.0, t0 + timedelta(seconds=40)),
    )
    assert not (await row(db, site.tenant, created.row["id"]))["cold_chain_broken"]  # 30 s above: allowed
    await locker.send(locker.temperature(key, 10.0, t0 + timedelta(seconds=75)))  # 65 s above 8 °C: broken
    broken = await row(db, site.tenant, created.row["id"])
    assert broken["cold_chain_broken"] and broken["cold_broken_at"] == t0 + timedelta(seconds=75)
    assert (broken["cold_max_c"], broken["cold_seconds_above"]) == (11.0, 65.0)
    told = [n for n in await notifications(db, site.tenant, created.row["id"]) if "cold_chain" in n["topic"]]
    assert ("email", "kyl@kommun.example.se") in {(r["channel"], r["recipient"]) for r in told}
    assert "webhook" in {r["channel"] for r in told}  # and the integrator, through its webhook
    assert "deliveries.cold_chain_broken" in await audit_actions(db, site.tenant)


async def test_an_uncollected_delivery_expires_and_goes_back_with_a_return_code(db: Database, locker: Locker) -> None:
    site = locker.site
    created = await create(db, site, new(site))
    key = next(k for k, v in site.compartments.items() if v == created.row["compartment_id"])
    await locker.type(created.dropoff.code)
    await locker.send(locker.state(key, door_open=True, occupied=False))
    await locker.send(locker.state(key, door_open=False, occupied=True))
    dropped = await row(db, site.tenant, created.row["id"])
    async with db.tenant(site.tenant) as scope:  # an hour before the deadline: the reminder
        await lifecycle.sweep(scope, dropped["pickup_deadline"] - timedelta(minutes=30))
        effects = await lifecycle.sweep(scope, dropped["pickup_deadline"] + timedelta(seconds=1))
    expired = await row(db, site.tenant, created.row["id"])
    assert expired["status"] == "expired" and expired["reminder_sent_at"] is not None
    assert [u["kind"] for u in effects.live] == ["status"]
    sent = await notifications(db, site.tenant, created.row["id"])
    assert {"deliveries.pickup_code", "deliveries.reminder", "deliveries.expired"} <= {n["topic"] for n in sent}
    async with db.tenant(site.tenant) as scope:  # the integrator's webhook carries the return code
        payload = await scope.connection.fetchval(
            "SELECT payload FROM notification WHERE subject_id = $1 AND topic = 'delivery.expired'", created.row["id"]
        )
    return_code = json.loads(payload)["returnCode"]["code"]
    pickup = await pickup_code(db, site.tenant, created.row["id"])
    await locker.type(pickup)  # the pickup code was revoked when it expired
    assert len(await locker.commands()) == 1
    await locker.type(return_code)
    assert len(await locker.commands()) == 2
    await locker.send(locker.state(key, door_open=True, occupied=True))
    await locker.send(locker.state(key, door_open=False, occupied=False))
    returned = await row(db, site.tenant, created.row["id"])
    assert returned["status"] == "returned" and returned["picked_up_by"] == "courier (return code)"


async def test_a_no_show_is_cancelled_and_recipients_are_erased_after_retention(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    created = await create(db, site, new(site, email="anna@example.se"))
    after_window = created.row["window_end"] + timedelta(minutes=SETTINGS.dropoff_grace_minutes, seconds=1)
    async with db.tenant(site.tenant) as scope:
        await lifecycle.sweep(scope, after_window)
    cancelled = await row(db, site.tenant, created.row["id"])
    assert cancelled["status"] == "cancelled"
    async with db.tenant(site.tenant) as scope:
        await lifecycle.sweep(scope, after_window + timedelta(days=SETTINGS.retention_days, minutes=1))
    erased = await row(db, site.tenant, created.row["id"])
    assert erased["recipient_erased_at"] is not None
    assert (erased["recipient_name"], erased["recipient_phone"], erased["recipient_email"]) == (None, None, None)
    assert "deliveries.recipients_erased" in await audit_actions(db, site.tenant)


async def test_tenants_never_see_each_others_deliveries(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    created = await create(db, site, new(site))
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM deliveries_delivery") == 0
        assert await scope.connection.fetchval("SELECT count(*) FROM deliveries_code") == 0
        with pytest.raises(api.NotFound):
            await service.load(scope, created.row["id"])


async def test_the_same_reference_sent_twice_at_once_books_once(db: Database, world: World) -> None:
    site = await install(db, world.a.id)
    booking = new(site, reference="ORD-TWICE")

    async def attempt() -> str:
        try:
            await create(db, site, booking)
        except api.Conflict:
            return "conflict"
        return "ok"

    assert sorted(await asyncio.gather(*(attempt() for _ in range(8)))) == ["conflict"] * 7 + ["ok"]


async def test_a_booking_in_progress_does_not_hide_its_compartment_from_other_windows(
    db: Database, world: World, owner: asyncpg.Connection
) -> None:
    site = await install(db, world.a.id, {"1": (TemperatureClass.CHILLED, SizeClass.M)})
    await create(db, site, new(site))  # the slot row exists now
    async with owner.transaction():  # another booking of the compartment is in progress: it holds the slot
        await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(site.tenant))
        locked = await owner.fetchval(
            "SELECT count(*) FROM (SELECT 1 FROM deliveries_slot WHERE compartment_id = $1 FOR UPDATE) AS s",
            site.compartments["1"],
        )
        assert locked == 1
        later = await create(db, site, new(site, start=utcnow() + timedelta(days=8)))  # overlaps nothing
        assert later.row["compartment_id"] == site.compartments["1"]
        with pytest.raises(api.Conflict):  # the same window as the first: really taken
            await create(db, site, new(site))
