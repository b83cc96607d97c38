"""Alarms for unauthorised openings, through the real lockers ingest on PostgreSQL and Redis: the
alarm is listed until a nurse acknowledges it (the note goes into the log, once), and it reaches
someone when the cabinet has no responsible nurse: the municipality's alert address, else its
tenant admins."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import utcnow
from plugins import state as plugin_state
from plugins.lockers.hooks import subscribers
from plugins.lockers.ingest import Ingest
from plugins.medicine_cabinets import alarms, log, setup
from plugins.registry import PluginRegistry
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_deliveries import Locker
from tests.integration.test_lockers_ingest import QUIET, own_streams
from tests.integration.test_lockers_ingest import redis as redis  # a fixture
from tests.integration.test_medicine_cabinets import ADMIN, Home, home


async def forced_open(db: Database, redis: Redis, h: Home) -> None:
    """Compartment 4's door opens at the cabinet with no request (a key, or force)."""
    streams = own_streams()
    hooks = subscribers(PluginRegistry.discover())
    ingest = Ingest(db, redis, streams=streams, tuning=QUIET, consumer="test", hooks=hooks)
    await ingest.group.create()
    locker = Locker(h.site, redis, streams, ingest)
    await locker.send(locker.state("4", door_open=True, occupied=True))


async def told(db: Database, tenant: uuid.UUID) -> list[str]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch(
            "SELECT recipient FROM notification WHERE topic = 'medicine_cabinets.unauthorised_opening'"
        )
    return [r["recipient"] for r in rows]


async def test_an_unauthorised_opening_is_an_open_alarm_until_a_nurse_acknowledges_it_in_the_log(
    db: Database, world: World, redis: Redis
) -> None:
    h = await home(db, world.a.id)
    await forced_open(db, redis, h)
    async with db.tenant(world.a.id) as scope:
        [alarm] = await alarms.alarms(scope)
        assert (alarm.notified, alarm.compartment_id, alarm.acknowledged_at) == (
            "responsible_nurse", h.site.compartments["4"], None,
        )  # fmt: skip
        entry = await alarms.acknowledge(scope, alarm.log_seq, "Skåpet kontrollerat, inget saknas.", actor=h.nurse,
                                         now=utcnow())  # fmt: skip
    attempts = [
        (api.Conflict, alarm.log_seq, "igen"),
        (api.NotFound, 999, "finns inte"),
        (api.ValidationFailed, alarm.log_seq, "Gäller 19121212-1212"),
        (api.ValidationFailed, alarm.log_seq, " "),
    ]
    for error, seq, note in attempts:
        with pytest.raises(error):
            async with db.tenant(world.a.id) as scope:
                await alarms.acknowledge(scope, seq, note, actor=h.nurse, now=utcnow())
    async with db.tenant(world.a.id) as scope:
        assert await alarms.alarms(scope) == []
        [done] = await alarms.alarms(scope, include_acknowledged=True)
        entries = await log.entries(scope)
        assert (await log.verify(scope)).intact
    assert (done.acknowledged_by, done.acknowledgement_seq) == (h.nurse.id, entry)
    assert [(e["kind"], e["staff_user_id"]) for e in entries] == [
        ("unauthorised_opening", None), ("alarm_acknowledged", h.nurse.id),
    ]  # fmt: skip
    assert entries[1]["detail"] == f"alarm {alarm.log_seq}: Skåpet kontrollerat, inget saknas."
    assert entries[1]["cabinet_id"] == h.cabinet_id


async def test_with_no_responsible_nurse_the_alarm_goes_to_the_municipalitys_alert_address(
    db: Database, world: World, redis: Redis
) -> None:
    h = await home(db, world.a.id)
    async with db.tenant(world.a.id) as scope:
        await setup.set_responsible_nurse(scope, h.cabinet_id, None, actor=ADMIN)
        await plugin_state.configure(
            scope, PluginRegistry.discover(), "medicine_cabinets", config={"alert_email": "larm@a.example"}, actor=ADMIN
        )
    await forced_open(db, redis, h)
    async with db.tenant(world.a.id) as scope:
        assert [a.notified for a in await alarms.alarms(scope)] == ["alert_address"]
    assert await told(db, world.a.id) == ["larm@a.example"]


async def test_with_neither_a_nurse_nor_an_alert_address_the_tenant_admins_are_told(
    db: Database, world: World, redis: Redis
) -> None:
    h = await home(db, world.a.id)
    async with db.tenant(world.a.id) as scope:
        await setup.set_responsible_nurse(scope, h.cabinet_id, None, actor=ADMIN)
    await forced_open(db, redis, h)
    async with db.tenant(world.a.id) as scope:
        assert [a.notified for a in await alarms.alarms(scope)] == ["tenant_admins"]
    assert await told(db, world.a.id) == [world.a.admin_email]
    async with db.tenant(world.b.id) as scope:
        assert await alarms.alarms(scope, include_acknowledged=True) == []
