"""Personal identity numbers of care recipients, on real PostgreSQL: refused (with how to turn
them on) unless the municipality turned them on; then checked by date and check digit, one per
person, kept as twelve digits, never in the medication log, audit details or an export; and
turning the setting off erases them, whichever way it was turned off."""

from __future__ import annotations

import json
from typing import Any

import pytest
from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import utcnow
from plugins import state as plugin_state
from plugins.medicine_cabinets import log, recipients, service
from plugins.registry import PluginRegistry
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_lockers_ingest import redis as redis  # a fixture
from tests.integration.test_medicine_cabinets import ADMIN, home

NUMBER = "19121212-1212"  # Skatteverket's well-known test number
KEPT = "191212121212"


async def numbers_on(db: Database, tenant: Any, on: bool) -> None:
    async with db.tenant(tenant) as scope:
        registry = PluginRegistry.discover()
        await plugin_state.configure(
            scope, registry, "medicine_cabinets", config={"personal_identity_numbers": on}, actor=ADMIN
        )


async def kept(db: Database, tenant: Any) -> list[str | None]:
    async with db.tenant(tenant) as scope:
        rows = await scope.connection.fetch("SELECT personal_identity_number FROM medicine_cabinets_recipient")
    return [r[0] for r in rows]


async def test_a_number_is_refused_with_how_to_turn_them_on_while_the_setting_is_off(
    db: Database, world: World
) -> None:
    h = await home(db, world.a.id)
    for attempt in (
        lambda scope: service.add_recipient(scope, "BR-2", personal_identity_number=NUMBER, actor=ADMIN),
        lambda scope: recipients.set_number(scope, h.recipient_id, NUMBER, actor=ADMIN),
    ):
        with pytest.raises(api.ValidationFailed) as refused:
            async with db.tenant(world.a.id) as scope:
                await attempt(scope)
        assert "personal_identity_numbers: true" in refused.value.message
        assert refused.value.fields[0].field == "personalIdentityNumber"
    assert await kept(db, world.a.id) == [None]


async def test_a_reference_that_is_a_personal_identity_number_is_refused(db: Database, world: World) -> None:
    async with db.tenant(world.a.id) as scope:
        with pytest.raises(api.ValidationFailed):
            await service.add_recipient(scope, KEPT, actor=ADMIN)


async def test_with_the_setting_on_a_valid_number_is_kept_as_twelve_digits_and_a_bad_or_taken_one_is_refused(
    db: Database, world: World
) -> None:
    h = await home(db, world.a.id)
    await numbers_on(db, world.a.id, True)
    async with db.tenant(world.a.id) as scope:
        await recipients.set_number(scope, h.recipient_id, NUMBER, actor=ADMIN)
    attempts = [
        (api.ValidationFailed, "19121212-1213"),  # check digit
        (api.ValidationFailed, "19121312-1212"),  # no 13th month
        (api.ValidationFailed, "Anna"),
        (api.Conflict, "191212121212"),  # another recipient's
    ]
    for error, number in attempts:
        with pytest.raises(error):
            async with db.tenant(world.a.id) as scope:
                await service.add_recipient(scope, "BR-3", personal_identity_number=number, actor=ADMIN)
    async with db.tenant(world.a.id) as scope:
        assert await recipients.numbers(scope) == {h.recipient_id: KEPT}
        coordination = await service.add_recipient(scope, "BR-4", personal_identity_number="19121272-1219",
                                                   actor=ADMIN)  # fmt: skip
        assert (await recipients.numbers(scope))[coordination] == "191212721219"


async def test_the_number_is_never_in_the_log_the_audit_details_or_an_export(
    db: Database, world: World, redis: Redis
) -> None:
    h = await home(db, world.a.id)
    await numbers_on(db, world.a.id, True)
    async with db.tenant(world.a.id) as scope:
        await recipients.set_number(scope, h.recipient_id, NUMBER, actor=ADMIN)
    await service.open_compartment(db, redis, world.a.id, h.site.compartments["4"], actor=h.staff, now=utcnow())
    async with db.tenant(world.a.id) as scope:
        rows = await log.entries(scope, recipient_id=h.recipient_id)
        export = json.dumps(log.export(world.a.id, rows, await log.verify(scope)))
        audit = await scope.connection.fetchval("SELECT string_agg(details::text, ' ') FROM audit_log")
    assert rows and all(digits not in text for text in (export, audit) for digits in (KEPT, "121212-1212"))


async def test_turning_the_setting_off_erases_every_number_and_on_again_brings_none_back(
    db: Database, world: World
) -> None:
    h = await home(db, world.a.id)
    b = await home(db, world.b.id)
    for tenant, recipient in ((world.a.id, h.recipient_id), (world.b.id, b.recipient_id)):
        await numbers_on(db, tenant, True)
        async with db.tenant(tenant) as scope:
            await recipients.set_number(scope, recipient, NUMBER, actor=ADMIN)
    await numbers_on(db, world.a.id, False)
    assert await kept(db, world.a.id) == [None]
    assert await kept(db, world.b.id) == [KEPT]  # another municipality's setting is its own
    await numbers_on(db, world.a.id, True)
    async with db.tenant(world.a.id) as scope:
        assert await recipients.numbers(scope) == {}
    async with db.tenant(world.b.id) as scope:  # enabling again with a config that leaves it out: off
        await plugin_state.enable(scope, PluginRegistry.discover(), "medicine_cabinets", config={}, actor=ADMIN)
    assert await kept(db, world.b.id) == [None]
