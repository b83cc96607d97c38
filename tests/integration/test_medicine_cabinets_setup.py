"""Set-up data of the medicine cabinets plugin can be listed, changed and removed by its service
functions on real PostgreSQL: a planner assigns a week at once and takes a day off again, a
restriction is lifted, the responsible nurse changes, a removed cabinet leaves its log entries,
and a care recipient goes only once their cabinet has gone. Each change is audited; bad input is
a typed error that changes nothing and records nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import local_day, utcnow
from plugins.medicine_cabinets import listing, log, queries, service, setup
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_lockers_ingest import redis as redis  # a fixture
from tests.integration.test_medicine_cabinets import ADMIN, audited, home


async def test_a_planner_assigns_a_week_at_once_and_takes_one_day_off_again(db: Database, world: World) -> None:
    h = await home(db, world.a.id)
    monday = local_day() + timedelta(days=7)
    async with db.tenant(world.a.id) as scope:
        added = await service.assign(scope, h.staff.id, h.recipient_id, monday, last_day=monday + timedelta(days=6),
                                     actor=ADMIN)  # type: ignore[arg-type]  # a member  # fmt: skip
        assert added == 7
        await setup.unassign(scope, h.staff.id, h.recipient_id, monday + timedelta(days=2), actor=ADMIN)  # type: ignore[arg-type]
        week = await listing.assignments(scope, monday, monday + timedelta(days=6))
    assert [a.day for a in week] == [monday + timedelta(days=d) for d in (0, 1, 3, 4, 5, 6)]
    assert {(a.user_id, a.recipient_id) for a in week} == {(h.staff.id, h.recipient_id)}
    assert await audited(db, world.a.id, "medicine_cabinets.unassigned") == 1


async def test_the_lists_show_cabinets_with_nurse_only_compartments_and_who_is_a_nurse(
    db: Database, world: World
) -> None:
    h = await home(db, world.a.id)
    async with db.tenant(world.a.id) as scope:
        [cabinet] = await queries.cabinets(scope)
        people = {q.user_id: q.nurse for q in await listing.qualifications(scope)}
        [recipient] = await listing.recipients(scope)
    assert (cabinet.id, cabinet.recipient_id, cabinet.responsible_nurse_id, cabinet.online) == (
        h.cabinet_id, h.recipient_id, h.nurse.id, True,
    )  # fmt: skip
    assert {c.key: c.restricted for c in cabinet.compartments} == {"1": False, "2": False, "3": False, "4": True}
    assert (people[h.nurse.id], people[h.staff.id]) == (True, False)  # type: ignore[index]  # members have ids
    assert (recipient.id, recipient.has_cabinet) == (h.recipient_id, True)
    async with db.tenant(world.b.id) as scope:
        assert await queries.cabinets(scope) == [] and await listing.recipients(scope) == []


async def test_a_lifted_restriction_and_a_new_responsible_nurse_show_in_the_list_and_are_audited(
    db: Database, world: World
) -> None:
    h = await home(db, world.a.id)
    async with db.tenant(world.a.id) as scope:
        await setup.unrestrict(scope, h.site.compartments["4"], actor=ADMIN)
        await setup.set_responsible_nurse(scope, h.cabinet_id, None, actor=ADMIN)
        [cabinet] = await queries.cabinets(scope)
    assert not any(c.restricted for c in cabinet.compartments) and cabinet.responsible_nurse_id is None
    assert await audited(db, world.a.id, "medicine_cabinets.unrestricted") == 1
    assert await audited(db, world.a.id, "medicine_cabinets.responsible_nurse_set") == 1


async def test_a_removed_cabinet_keeps_its_log_entries_and_then_its_care_recipient_can_go_with_their_assignments(
    db: Database, world: World, redis: Redis
) -> None:
    h = await home(db, world.a.id)
    await service.open_compartment(db, redis, world.a.id, h.site.compartments["4"], actor=h.staff, now=utcnow())
    async with db.tenant(world.a.id) as scope:
        with pytest.raises(api.Conflict):
            await setup.remove_recipient(scope, h.recipient_id, actor=ADMIN)
    async with db.tenant(world.a.id) as scope:
        await setup.remove_cabinet(scope, h.cabinet_id, actor=ADMIN)
        await setup.remove_recipient(scope, h.recipient_id, actor=ADMIN)
        assert await queries.cabinets(scope) == [] and await listing.recipients(scope) == []
        assert await listing.assignments(scope, local_day()) == []
        assert await scope.connection.fetchval("SELECT count(*) FROM medicine_cabinets_restriction") == 0
        [entry] = await log.entries(scope, cabinet_id=h.cabinet_id)
        assert entry["kind"] == "refused" and (await log.verify(scope)).intact
    assert await audited(db, world.a.id, "medicine_cabinets.cabinet_removed") == 1
    assert await audited(db, world.a.id, "medicine_cabinets.recipient_removed") == 1


async def test_bad_changes_are_typed_errors_that_change_nothing_and_record_nothing(db: Database, world: World) -> None:
    h = await home(db, world.a.id)
    b = await home(db, world.b.id)
    today = local_day()
    async with db.tenant(world.a.id) as scope:
        before = await scope.connection.fetchval("SELECT count(*) FROM audit_log")
    staff = h.staff.id
    assert staff is not None
    attempts = [
        (api.ValidationFailed, lambda s: service.assign(s, staff, h.recipient_id, today, last_day=today - timedelta(1),
                                                        actor=ADMIN)),
        (api.ValidationFailed, lambda s: service.assign(s, staff, h.recipient_id, today, last_day=today + timedelta(62),
                                                        actor=ADMIN)),
        (api.NotFound, lambda s: setup.unassign(s, staff, h.recipient_id, today + timedelta(30), actor=ADMIN)),
        (api.NotFound, lambda s: setup.unassign(s, staff, b.recipient_id, today, actor=ADMIN)),
        (api.NotFound, lambda s: setup.unrestrict(s, h.site.compartments["1"], actor=ADMIN)),
        (api.NotFound, lambda s: setup.unrestrict(s, b.site.compartments["4"], actor=ADMIN)),
        (api.NotFound, lambda s: setup.set_responsible_nurse(s, b.cabinet_id, None, actor=ADMIN)),
        (api.NotFound, lambda s: setup.set_responsible_nurse(s, h.cabinet_id, b.nurse.id, actor=ADMIN)),
        (api.NotFound, lambda s: setup.remove_cabinet(s, b.cabinet_id, actor=ADMIN)),
        (api.NotFound, lambda s: setup.remove_recipient(s, uuid.uuid4(), actor=ADMIN)),
        (api.Conflict, lambda s: setup.remove_recipient(s, h.recipient_id, actor=ADMIN)),
    ]  # fmt: skip
    for error, attempt in attempts:
        with pytest.raises(error):
            async with db.tenant(world.a.id) as scope:
                await attempt(scope)
    async with db.tenant(world.a.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM audit_log") == before
        [cabinet] = await queries.cabinets(scope)
        assert cabinet.responsible_nurse_id == h.nurse.id and cabinet.compartments[3].restricted
        assert len(await listing.assignments(scope, today)) == 2
    async with db.tenant(world.b.id) as scope:
        assert len(await queries.cabinets(scope)) == 1
