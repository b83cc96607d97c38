"""The medicine cabinets' staff pages in a real browser on a phone, against the live server: an
assigned staff member sees the care recipient's cabinet (by its internal reference) and is refused,
with the reason in Swedish, at a nurse-only compartment and at an offline cabinet; a compartment of
another municipality is the 404 page; the log is the 403 page for staff who are not nurses, while a
nurse reads it with the kept verdict of a full check she asks for (a plain view keeps no check; an
entry altered at the kept head shows at once, the full check names it) and downloads the export;
the log is read 100 entries at a time, newest first, the links to older and newer keeping the filter.
An opening that succeeds is done on a simulated Kylbox through the real gateway; one that fails is
played on the gateway's Redis streams. axe on every page; screenshots of each."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from playwright.async_api import Page, expect
from redis.asyncio import Redis

from backend.lib import local_day, utcnow
from opcua_gateway import contracts
from opcua_gateway.contracts import Connectivity
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from plugins.medicine_cabinets import log
from tenants.database import Database
from tests.conftest import GraphQLClient, Server, World, login
from tests.e2e.simulated_locker import online, register_simulated
from tests.e2e.test_lockers_api import AUDIT, LOCKERS, _play_gateway, data, eventually, register
from tests.e2e.test_medicine_cabinets_api import CABINET, ENABLE, ME, OPEN, QUALIFY, RECIPIENT
from tests.e2e.test_medicine_cabinets_simulated import ASSIGN, LOCKERS_ON, RESTRICT
from tests.integration.gateway_support import running_gateway, write_config
from tests.integration.test_lockers_ingest import health, push
from tests.integration.test_medicine_cabinets import tamper
from tests.web.conftest import check_axe, shot

ROOT = "/web/plugins/medicine_cabinets"
TODAY = f"{ROOT}/today"
LOG = f"{ROOT}/log"
FAULTS_ON = """mutation { enablePlugin(pluginId: "fault_reports") { __typename } }"""


@dataclass(frozen=True)
class Cabinet:
    admin: GraphQLClient
    staff: GraphQLClient
    staff_id: str
    reference: str
    recipient_id: str
    cabinet_id: str
    endpoint_id: str
    compartments: dict[str, str]


async def cabinet(server: Server, world: World, *, locker: str = "M1", assigned: bool = True) -> Cabinet:
    """A registered locker (never online: no gateway speaks for it) made a medicine cabinet (see
    :func:`make_cabinet`)."""
    r = await register(server, world.a.admin_email, locker=locker)
    assert data(await r.admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    return await make_cabinet(server, world, r.admin, r.locker_id, r.endpoint_id, r.compartments, assigned=assigned)


async def make_cabinet(
    server: Server, world: World, admin: GraphQLClient, locker_id: str, endpoint_id: str,
    compartments: dict[str, str], *, assigned: bool = True,
) -> Cabinet:  # fmt: skip
    """The locker made the medicine cabinet of a new care recipient, compartment 2 nurse-only, and
    A's staff member assigned there today (unless not ``assigned``)."""
    staff = await login(server, world.a.staff_email)
    reference = f"BR-{uuid.uuid4().hex[:6]}"
    recipient = data(await admin(RECIPIENT, {"ref": reference}), "addCareRecipient")["id"]
    cabinet_id = data(await admin(CABINET, {"locker": locker_id, "recipient": recipient}), "addMedicineCabinet")["id"]
    restricted = data(await admin(RESTRICT, {"id": compartments["2"]}), "restrictCabinetCompartment")
    assert restricted["__typename"] == "MedicineDone", restricted
    staff_id = data(await staff(ME), "me")["user"]["id"]
    c = Cabinet(admin, staff, staff_id, reference, recipient, cabinet_id, endpoint_id, compartments)
    if assigned:
        await assign(c)
    return c


async def assign(c: Cabinet) -> None:
    """Assign the staff member to the cabinet's care recipient today."""
    today = local_day().isoformat()
    answer = data(await c.admin(ASSIGN, {"user": c.staff_id, "recipient": c.recipient_id, "day": today}), "assignStaff")
    assert answer["__typename"] == "MedicineDone", answer


async def open_compartment(page: Page, key: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=f"Öppna fack {key}").click()


async def test_an_assigned_staff_member_is_refused_at_a_nurse_only_compartment_and_an_offline_cabinet(
    server: Server, world: World, staff_page: Page
) -> None:
    page = staff_page
    c = await cabinet(server, world, assigned=False)
    elsewhere = await register(server, world.b.admin_email, locker="MB")
    await page.goto(TODAY)
    await expect(page.locator("main .alert")).to_contain_text("Fråga planeraren")
    await check_axe(page)
    await shot(page, "cabinets-today-empty")

    await assign(c)
    await page.goto("/web/staff")
    await page.get_by_role("link", name="Dagens läkemedelsskåp").click()
    section = page.locator("section", has=page.get_by_role("heading", name=c.reference))
    await expect(section).to_contain_text("Skåp 1")
    await expect(section.get_by_role("button", name="Öppna fack 2")).to_contain_text("Endast sjuksköterska")
    await expect(section.get_by_role("button", name="Öppna fack 1")).not_to_contain_text("Endast sjuksköterska")
    await expect(section.locator(".alert")).to_have_text("Skåpet är inte uppkopplat just nu och kan inte öppnas.")
    assert await page.get_by_role("link", name="Läkemedelsloggen").count() == 0  # not a nurse
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await check_axe(page)
    await shot(page, "cabinets-today")

    await open_compartment(page, "2")
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text("Nekat.")
    await expect(outcome).to_contain_text("Bara en sjuksköterska får öppna det här facket.")
    assert await page.get_by_role("button", name="Försök igen").count() == 0
    await check_axe(page)
    await shot(page, "cabinets-refused-nurse-only")
    reloaded = await page.reload()  # the answer page: reloading it opens nothing again
    assert reloaded is not None and reloaded.status == 200
    await page.get_by_role("link", name="Tillbaka till dagens skåp").click()
    await open_compartment(page, "1")
    await expect(outcome).to_contain_text("Nekat.")
    await expect(outcome).to_contain_text("Skåpet är inte uppkopplat och kan inte öppnas nu.")
    await expect(page.get_by_role("button", name="Försök igen")).to_be_visible()
    await check_axe(page)
    await shot(page, "cabinets-refused-offline")
    refusals = data(await c.admin(AUDIT, {"action": "medicine_cabinets.open_refused"}), "auditLog")["nodes"]
    assert sorted(n["details"]["reason"] for n in refusals) == ["nurse_only", "offline"]

    await page.goto(TODAY)  # another municipality's compartment: the 404 page, audited, nothing logged
    await page.locator("input[name=compartment]").first.evaluate(
        "(el, id) => el.value = id", elsewhere.compartments["1"]
    )
    await open_compartment(page, "1")
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")
    denied = data(await c.admin(AUDIT, {"action": "medicine_cabinets.open_denied"}), "auditLog")["nodes"]
    assert [n["actorLabel"] for n in denied] == [world.a.staff_email]
    admins = data(await c.admin(OPEN, {"id": c.compartments["1"]}), "openCabinetCompartment")
    assert admins["reason"] == "not_assigned", admins
    someone_else = await page.goto(f"{TODAY}/answers/{admins['logSeq']}")  # not this staff member's opening
    assert someone_else is not None and someone_else.status == 404

    forbidden = await page.goto(LOG)
    assert forbidden is not None and forbidden.status == 403
    await expect(page.locator("h1")).to_have_text("Du saknar behörighet")
    export = await page.goto(f"{LOG}/export")
    assert export is not None and export.status == 403
    await check_axe(page)


async def verdict_says(page: Page, text: str, seconds: float = 60) -> None:
    """Reload the log until its verdict says ``text`` (a requested full check runs in the worker)."""

    async def shown() -> bool:
        await page.reload()
        return text in await page.locator("#verdict").inner_text()

    assert await eventually(shown, seconds), await page.locator("#verdict").inner_text()


async def checks_kept(db: Database, world: World) -> int:
    async with db.tenant(world.a.id) as scope:
        return int(await scope.connection.fetchval("SELECT count(*) FROM medicine_cabinets_log_check"))


async def test_a_nurse_reads_the_log_with_its_verdict_filters_it_and_downloads_the_export(
    server: Server, world: World, staff_page: Page, owner: asyncpg.Connection, db: Database
) -> None:
    c = await cabinet(server, world, locker="M3")
    for key in ("1", "2"):
        refused = data(await c.staff(OPEN, {"id": c.compartments[key]}), "openCabinetCompartment")
        assert refused["__typename"] == "CabinetRefused", refused
    assert data(await c.admin(QUALIFY, {"user": c.staff_id}), "setStaffQualification")["__typename"] == "MedicineDone"
    page = staff_page
    await page.goto(TODAY)
    await page.get_by_role("link", name="Läkemedelsloggen").click()
    await page.get_by_role("button", name="Kontrollera hela loggen nu").click()
    await expect(page.locator(".flash")).to_contain_text("kontrolleras i bakgrunden")
    await verdict_says(page, "Hela loggen kontrollerades")
    await expect(page.locator("#verdict")).to_contain_text("Kedjan är obruten.")
    await expect(page.locator("#verdict")).to_contain_text("alla 2 poster fram till dess håller")
    kept, shown = await checks_kept(db, world), await page.locator("#verdict").inner_text()
    await page.reload()  # a plain view shows the kept verdict and walks nothing it would keep
    assert (await checks_kept(db, world), await page.locator("#verdict").inner_text()) == (kept, shown)
    await page.get_by_label("Skåp", exact=True).select_option(c.cabinet_id)
    await page.get_by_role("button", name="Filtrera").click()
    rows = page.locator("table:has(#log-caption) tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(1)).to_contain_text("Nekat")
    await expect(rows.nth(1)).to_contain_text("skåpet inte uppkopplat")
    await expect(rows.nth(0)).to_contain_text("endast sjuksköterska")
    await expect(rows.nth(0)).to_contain_text(f"{c.reference}, Skåp 1")
    await expect(page.get_by_label("Medarbetare")).to_contain_text(world.a.staff_email)
    await check_axe(page)
    await shot(page, "cabinets-log")

    async with page.expect_download() as downloading:
        await page.get_by_role("link", name="Ladda ned loggen för granskning (JSON)").click()
    download = await downloading.value
    assert download.suggested_filename.startswith("medication-log-") and download.suggested_filename.endswith(".json")
    exported = json.loads(await asyncio.to_thread(Path(await download.path()).read_text))
    assert exported["intact"] is True
    assert [(e["kind"], e["detail"]) for e in exported["entries"]] == [
        ("refused", "offline"),
        ("refused", "nurse_only"),
    ]
    assert {e["cabinet_id"] for e in exported["entries"]} == {c.cabinet_id}
    audited = data(await c.admin(AUDIT, {"action": "medicine_cabinets.log_exported"}), "auditLog")["nodes"]
    assert [(n["actorLabel"], n["details"]["entries"]) for n in audited] == [(world.a.staff_email, 2)]

    bad = await page.goto(f"{LOG}?staff=not-an-id")
    assert bad is not None and bad.status == 400
    await expect(page.locator(".error-summary")).to_contain_text("Välj i listan.")
    await check_axe(page)

    async with owner.transaction():  # someone with the database owner's rights alters an entry
        await tamper(
            owner, world.a.id, "UPDATE medicine_cabinets_log SET detail = 'x' WHERE tenant_id = $1 AND seq = 2"
        )
        await owner.execute("ALTER TABLE medicine_cabinets_log ENABLE TRIGGER medicine_cabinets_log_append_only")
    await page.goto(LOG)  # the kept check ended at entry 2, which the view finds changed at once
    await expect(page.locator("#verdict")).to_contain_text("Kedjan är bruten.")
    await expect(page.locator("#verdict")).to_contain_text("Post 2 är inte den som registrerades när den skrevs.")
    await page.get_by_role("button", name="Kontrollera hela loggen nu").click()
    await verdict_says(page, "Post 2 har ändrats.")
    await expect(page.locator("#verdict")).to_contain_text("Kedjan är bruten.")
    asked = data(await c.admin(AUDIT, {"action": "medicine_cabinets.log_check_requested"}), "auditLog")["nodes"]
    assert [n["actorLabel"] for n in asked] == [world.a.staff_email] * 2
    await check_axe(page)
    await shot(page, "cabinets-log-broken")


async def test_the_log_is_read_a_page_at_a_time_and_the_links_keep_the_filter(
    server: Server, world: World, admin_page: Page, db: Database
) -> None:
    c = await cabinet(server, world, locker="M4")
    async with db.tenant(world.a.id) as scope:  # 250 entries, 200 of them at the cabinet
        for n in range(250):
            at_cabinet = uuid.UUID(c.cabinet_id) if n % 5 else None
            await log.append(scope, kind="refused", at=utcnow(), cabinet_id=at_cabinet, detail="offline")
    page = admin_page
    await page.goto(LOG)
    rows = page.locator("table:has(#log-caption) tbody tr")
    await expect(rows).to_have_count(100)
    await expect(rows.nth(0).locator("th")).to_have_text("250")
    await page.get_by_label("Skåp", exact=True).select_option(c.cabinet_id)
    await page.get_by_role("button", name="Filtrera").click()
    await expect(rows).to_have_count(100)
    await expect(rows.nth(0).locator("th")).to_have_text("250")
    await expect(page.get_by_role("link", name="Nyare poster")).to_have_count(0)
    await page.get_by_role("link", name="Äldre poster").click()
    await expect(rows).to_have_count(100)
    await expect(rows.nth(99).locator("th")).to_have_text("2")
    assert f"cabinet={c.cabinet_id}" in page.url
    await expect(page.get_by_label("Skåp", exact=True)).to_have_value(c.cabinet_id)
    await expect(page.get_by_role("link", name="Äldre poster")).to_have_count(0)
    await page.get_by_role("link", name="Nyare poster").click()
    await expect(rows.nth(0).locator("th")).to_have_text("250")
    await check_axe(page)


async def test_a_cabinet_that_does_not_open_says_what_to_do_next(
    server: Server, world: World, staff_page: Page, redis: Redis
) -> None:
    c = await cabinet(server, world, locker="M4")
    assert data(await c.admin(FAULTS_ON), "enablePlugin")["__typename"] == "PluginInfo"
    await push(redis, contracts.EVENTS_STREAM, [health(c.endpoint_id, 1, Connectivity.ONLINE, locker="M4")])

    async def online() -> bool:
        rows = data(await c.admin(LOCKERS, {"site": None}), "lockers")
        return any(r["health"]["connectivity"] == "ONLINE" for r in rows)

    assert await eventually(online)
    page = staff_page
    await page.goto(TODAY)
    gateway = asyncio.create_task(_play_gateway(redis, c.endpoint_id, outcome="failed"))
    await open_compartment(page, "1")
    command = await gateway
    assert command.requested_by == world.a.staff_email
    outcome = page.locator("#outcome")
    await expect(outcome).to_contain_text("Misslyckades.")
    await expect(outcome).to_contain_text("felanmäl skåpet och ring den ansvariga sjuksköterskan")
    await expect(page.get_by_role("button", name="Försök igen")).to_be_visible()
    await expect(page.get_by_role("link", name="Felanmäl facket")).to_be_visible()
    await check_axe(page)
    await shot(page, "cabinets-failed")


@pytest.fixture
async def redis(server: Server) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.settings.redis_url or "")
    yield client
    await client.aclose()


async def test_staff_open_a_compartment_of_a_simulated_cabinet_through_the_real_gateway(
    server: Server, world: World, staff_page: Page, tmp_path: Path
) -> None:
    sim = KylboxSimulator(SimulatorSpec(vendor="kylbox", compartments=2, tick_s=0.25, physics=PhysicsParams(noise_c=0)))
    await sim.start()
    try:
        admin = await login(server, world.a.admin_email)
        assert data(await admin(LOCKERS_ON), "enablePlugin")["__typename"] == "PluginInfo"
        assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
        simulated = await register_simulated(admin, sim, "Läkemedelsskåp")
        keys = {str(k): v for k, v in simulated.compartments.items()}
        c = await make_cabinet(server, world, admin, simulated.locker_id, simulated.endpoint_id, keys)
        endpoints = [{"id": simulated.endpoint_id, "url": sim.url, "profile": "kylbox"}]
        async with running_gateway(write_config(tmp_path, server.settings.redis_url or "", endpoints)):
            assert await online(admin, simulated), "the cabinet never came online"
            page = staff_page
            await page.goto(TODAY)
            section = page.locator("section", has=page.get_by_role("heading", name=c.reference))
            await expect(section.locator(".alert")).to_have_count(0)  # online
            await open_compartment(page, "1")
            await expect(page.locator("#outcome")).to_contain_text("Öppnat.")
            await expect(page.locator("#outcome")).to_contain_text("Ta det du behöver och stäng dörren efter dig.")
            assert simulated.model.compartments[1].door_open
            await check_axe(page)
            await shot(page, "cabinets-opened")
            await page.get_by_role("link", name="Tillbaka till dagens skåp").click()
            await open_compartment(page, "2")  # nurse-only: refused, and the door stays shut
            await expect(page.locator("#outcome")).to_contain_text("Bara en sjuksköterska får öppna det här facket.")
            assert not simulated.model.compartments[2].door_open
    finally:
        await sim.stop()
