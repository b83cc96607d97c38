"""The medication alarms page in a real browser on a phone, against the live server: a cabinet door
forced open (played through the real lockers ingest, as the plugin's own alarm path sees it) is an
open alarm; staff who are not nurses get the 403 page and no banner; a nurse sees the banner on the
today page, follows it, is told a note is required, and acknowledges the alarm with a note that the
medication log then shows as ``alarm_acknowledged``. Another municipality's alarm is the 404 page
and stays open. The alarm e-mail names the page. axe on every page; screenshots of each."""

from __future__ import annotations

from uuid import UUID

from playwright.async_api import Page, expect
from redis.asyncio import Redis

from plugins.lockers.hooks import subscribers
from plugins.lockers.ingest import Ingest
from plugins.medicine_cabinets import alarms, listing, service
from plugins.registry import PluginRegistry
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_deliveries import Locker
from tests.integration.test_lockers_ingest import QUIET, own_streams
from tests.integration.test_lockers_ingest import redis as redis  # a fixture
from tests.integration.test_medicine_cabinets import ADMIN, Home, home
from tests.web.conftest import check_axe, shot

ROOT = "/web/plugins/medicine_cabinets"
ALARMS, TODAY, LOG = f"{ROOT}/alarms", f"{ROOT}/today", f"{ROOT}/log"
NOTE = "Skåpet kontrollerat, inget saknas."


async def forced_open(db: Database, redis: Redis, h: Home, *keys: str) -> None:
    """The cabinet's doors ``keys`` open with no request (a key, or force), through the ingest."""
    streams = own_streams()
    ingest = Ingest(db, redis, streams=streams, tuning=QUIET, consumer="web-test",
                    hooks=subscribers(PluginRegistry.discover()))  # fmt: skip
    await ingest.group.create()
    locker = Locker(h.site, redis, streams, ingest)
    for key in keys:
        await locker.send(locker.state(key, door_open=True, occupied=True))


async def open_alarms(db: Database, tenant: UUID) -> list[int]:
    async with db.tenant(tenant) as scope:
        return [a.log_seq for a in await alarms.alarms(scope)]


async def test_a_nurse_acknowledges_an_alarm_with_a_note_that_the_log_then_shows(
    db: Database, world: World, redis: Redis, staff_page: Page
) -> None:
    h, elsewhere = await home(db, world.a.id), await home(db, world.b.id)
    await forced_open(db, redis, h, "4")
    await forced_open(db, redis, elsewhere, "4", "3")
    assert (await open_alarms(db, world.a.id), await open_alarms(db, world.b.id)) == ([1], [1, 2])
    page = staff_page

    await page.goto(TODAY)  # not a nurse: no banner, and the alarms page is refused
    assert await page.locator("#open-alarms").count() == 0
    refused = await page.goto(ALARMS)
    assert refused is not None and refused.status == 403
    async with db.tenant(world.a.id) as scope:
        await service.qualify(scope, h.staff.id, nurse=True, actor=ADMIN)  # type: ignore[arg-type]  # a user
        [reference] = [r.reference for r in await listing.recipients(scope)]

    await page.goto(TODAY)
    await expect(page.locator("#open-alarms")).to_contain_text("Läkemedelslarm som inte är kvitterade: 1.")
    await check_axe(page)
    await shot(page, "cabinet-alarms-banner")
    await page.get_by_role("link", name="Se och kvittera larmen").click()
    alarm = page.locator("#open-1")
    await expect(alarm).to_contain_text("Öppnat utan begäran (loggpost 1)")
    await expect(alarm).to_contain_text(reference)
    await expect(alarm.locator("dd").nth(2)).to_have_text("4")
    await expect(alarm).to_contain_text("den ansvariga sjuksköterskan")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await check_axe(page)
    await shot(page, "cabinet-alarms")

    async with page.expect_navigation():  # municipality B's alarm 2, through A's form: the 404 page
        await alarm.locator("form").evaluate("(form, to) => { form.action = to; }", f"{ALARMS}/2/acknowledge")
        await page.get_by_label("Vad som gjordes").fill(NOTE)
        await page.get_by_role("button", name="Kvittera loggpost 1").click()
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")
    assert await open_alarms(db, world.b.id) == [1, 2]

    await page.goto(ALARMS)
    async with page.expect_navigation():  # no note: the field says so, nothing changes
        await page.get_by_role("button", name="Kvittera loggpost 1").click()
    await expect(page.locator("#note-1-error")).to_contain_text("Skriv vad som gjordes")
    await expect(page.get_by_label("Vad som gjordes")).to_have_attribute("aria-invalid", "true")
    assert await open_alarms(db, world.a.id) == [1]
    await check_axe(page)
    await shot(page, "cabinet-alarms-note-missing")

    await page.get_by_label("Vad som gjordes").fill(NOTE)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Kvittera loggpost 1").click()
    await expect(page.locator(".flash")).to_contain_text("Din anteckning är post 2 i läkemedelsloggen.")
    await expect(page.locator("#no-alarms")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("Kvitterat av staff a")
    assert await open_alarms(db, world.a.id) == []
    await check_axe(page)
    await shot(page, "cabinet-alarms-acknowledged")

    await page.goto(TODAY)
    assert await page.locator("#open-alarms").count() == 0
    await page.goto(LOG)
    entry = page.locator("table:has(#log-caption) tbody tr", has_text="Larmet kvitterat")
    await expect(entry).to_contain_text(f"alarm 1: {NOTE}")
    await expect(entry).to_contain_text("staff a")
    async with db.tenant(world.a.id) as scope:
        bodies = await scope.connection.fetch(
            "SELECT body FROM notification WHERE topic = 'medicine_cabinets.unauthorised_opening'"
        )
    assert [ALARMS in r["body"] for r in bodies] == [True]
