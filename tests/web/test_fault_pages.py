"""The fault pages in a real browser on a phone, against the live server: staff list the
municipality's faults (open ones first, with status, severity, source, vendor and times), open one
with its photo, reject it with a reason and see the transition; on a fault no vendor serves they
acknowledge and resolve it themselves, and a move that lost a race, or one on a fault a vendor's
contract serves, shows why it could not be done. Another municipality's fault is the 404 page,
and a move on it is audited and changes nothing. axe on every page; screenshots of each."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import Page, expect

from tenants.database import Database
from tests.conftest import Server, World, login
from tests.e2e.test_fault_reports_vendor import LIST, REPORT, data
from tests.e2e.test_lockers_api import AUDIT
from tests.e2e.test_procurement_setup_api import vendor
from tests.integration.test_fault_reports import installed, report
from tests.integration.test_fault_workflow_routing import contract
from tests.web.conftest import NewPage, check_axe, shot, sign_in
from tests.web.test_locker_pages import png

FAULTS = "/web/plugins/fault_reports/faults"


def by_description(faults: list[dict[str, Any]], text: str) -> dict[str, Any]:
    return next(f for f in faults if f["description"] == text)


async def test_staff_list_faults_open_one_reject_it_with_a_reason_and_handle_one_no_vendor_serves(
    server: Server, db: Database, world: World, staff_page: Page, new_page: NewPage
) -> None:
    where = await installed(db, world.a.id)
    staff = await login(server, world.a.staff_email)
    page = staff_page
    await page.goto("/web/plugins/fault_reports/report")
    await page.get_by_label("Var är felet?").select_option(f"{where.locker_id}/{where.compartments['1']}")
    await page.get_by_label("Dörr eller lås").check()
    await page.get_by_label("Beskriv felet").fill("Dörren går trögt.")
    await page.get_by_label("Foto (frivilligt)").set_input_files(
        files=[{"name": "dorr.png", "mimeType": "image/png", "buffer": png()}]
    )
    await page.get_by_role("button", name="Skicka felanmälan").click()
    await expect(page.locator(".flash")).to_have_text("Tack. Felet är anmält.")
    warm = {"lockerId": str(where.locker_id), "category": "TEMPERATURE", "description": "Det är varmt i skåpet."}
    assert data(await staff(REPORT, {"input": warm}), "reportFault")["vendorId"] is None
    await vendor(server, db, world, "Acme Skåpservice")
    async with db.federation(world.federation_id) as scope:
        acme_id = await scope.connection.fetchval("SELECT id FROM procurement_vendor WHERE name = 'Acme Skåpservice'")
    await contract(db, world, where, vendor_id=acme_id)
    dark = {
        "lockerId": str(where.locker_id),
        "compartmentId": str(where.compartments["2"]),
        "category": "KEYPAD_OR_DISPLAY",
        "description": "Displayen är svart.",
    }
    assert data(await staff(REPORT, {"input": dark}), "reportFault")["vendorId"] == str(acme_id)
    faults = data(await staff(LIST.replace("id status", "id description status")), "faultReports")
    door, warm_id, dark_id = (by_description(faults, d)["id"] for d in ("Dörren går trögt.", warm["description"],
                                                                         dark["description"]))  # fmt: skip

    await page.goto("/web/staff")
    await page.get_by_role("link", name="Felanmälningar").click()
    sections = page.locator("section.fault")
    await expect(sections).to_have_count(3)
    await expect(sections.nth(0)).to_contain_text("Skåp 1, fack 2")  # the newest first
    await expect(sections.nth(0)).to_contain_text("Leverantör: ja, enligt avtalet")
    await expect(sections.nth(0)).to_contain_text("mål 8 h")
    await expect(sections.nth(1)).to_contain_text("Leverantör: nej, kommunen hanterar det själv")
    await expect(sections.nth(1)).to_contain_text("Anmält av: Personal")
    await expect(page.get_by_role("link", name="Felanmäl", exact=True)).to_have_attribute(
        "href", "/web/plugins/fault_reports/report"
    )
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await check_axe(page)
    await shot(page, "faults-list")

    await page.locator(f"a[href='{FAULTS}/{door}']").click()
    await expect(page.locator("#status")).to_contain_text("Anmält")
    await expect(page.locator("img")).to_have_attribute("alt", "Fotot som skickades med felanmälan")
    photo = await page.request.get(f"{FAULTS}/{door}/photo")
    assert photo.status == 200 and await photo.body() == png()
    assert photo.headers["content-type"] == "image/png" and photo.headers["x-content-type-options"] == "nosniff"
    transitions = page.locator("table:has(#transitions-caption) tbody tr")
    await expect(transitions).to_have_count(1)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await check_axe(page)
    await shot(page, "faults-detail")
    reason = page.get_by_label("Varför avvisas den?")
    await reason.evaluate("el => el.removeAttribute('required')")  # the server asks for the reason too
    async with page.expect_navigation():
        await page.get_by_role("button", name="Avvisa felanmälan").click()
    await expect(page.locator(".error-summary")).to_contain_text("Ange varför felanmälan avvisas.")
    await expect(page.locator("#status")).to_contain_text("Anmält")
    await check_axe(page)
    await page.get_by_label("Varför avvisas den?").fill("Dubblett av en annan anmälan.")
    await page.get_by_role("button", name="Avvisa felanmälan").click()
    await expect(page.locator(".flash")).to_have_text("Felanmälan är avvisad.")
    await expect(page.locator("#status")).to_contain_text("Avvisat")
    await expect(transitions).to_have_count(2)
    await expect(transitions.nth(1)).to_contain_text("Anmält → Avvisat")
    await expect(transitions.nth(1)).to_contain_text(world.a.staff_email)
    await expect(transitions.nth(1)).to_contain_text("Dubblett av en annan anmälan.")
    assert await page.get_by_role("button", name="Avvisa felanmälan").count() == 0
    await check_axe(page)
    await shot(page, "faults-rejected")
    admin_api = await login(server, world.a.admin_email)
    rejected = data(await admin_api(AUDIT, {"action": "fault_reports.rejected"}), "auditLog")
    assert [n["actorLabel"] for n in rejected["nodes"]] == [world.a.staff_email]

    await page.goto(f"{FAULTS}/{warm_id}")  # no vendor serves it: the municipality handles it itself
    await page.get_by_role("button", name="Kvittera").click()
    await expect(page.locator(".flash")).to_have_text("Felet är kvitterat.")
    admin = await sign_in(await new_page(), world.a.admin_email, world.a.slug)
    await admin.goto(f"{FAULTS}/{warm_id}")
    await page.get_by_role("button", name="Markera som åtgärdat").click()
    await expect(page.locator("#status")).to_contain_text("Åtgärdat")
    async with admin.expect_navigation():
        await admin.get_by_role("button", name="Påbörja arbetet").click()  # the page it sees is out of date
    await expect(admin.locator("#problem")).to_contain_text("Felets status har ändrats under tiden")
    await expect(admin.locator("#status")).to_contain_text("Åtgärdat")
    await check_axe(admin)

    await page.goto(f"{FAULTS}/{dark_id}")  # a vendor's contract serves it: staff may only reject it
    assert await page.get_by_role("button", name="Kvittera").count() == 0
    await page.locator("input[name=to]").evaluate("el => el.value = 'acknowledged'")  # a forged move
    await page.get_by_label("Varför avvisas den?").fill("Kvitterar själv.")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Avvisa felanmälan").click()
    await expect(page.locator("#problem")).to_contain_text("Felet är skickat till leverantören enligt avtalet")
    await expect(page.locator("#status")).to_contain_text("Anmält")
    await check_axe(page)
    await shot(page, "faults-vendor-conflict")

    await page.goto(FAULTS)  # open ones first
    await expect(sections.nth(0)).to_contain_text("Status: Anmält")
    await expect(sections.nth(1)).to_contain_text("Status: Åtgärdat")
    await expect(sections.nth(2)).to_contain_text("Status: Avvisat")


async def test_another_municipalitys_fault_is_the_404_page_and_a_move_on_it_is_audited(
    server: Server, db: Database, world: World, staff_page: Page
) -> None:
    ours = await installed(db, world.a.id)
    theirs = await installed(db, world.b.id)
    own = await report(db, ours)
    foreign = await report(db, theirs, photo=png())
    page = staff_page
    for path in (f"{FAULTS}/{foreign['id']}", f"{FAULTS}/{foreign['id']}/photo", f"{FAULTS}/{uuid.uuid4()}",
                 f"{FAULTS}/not-an-id"):  # fmt: skip
        response = await page.goto(path)
        assert response is not None and response.status == 404, path
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")
    await check_axe(page)
    await shot(page, "faults-not-found")

    await page.goto(f"{FAULTS}/{own['id']}")
    await page.locator("form:has(input[value=rejected])").evaluate(
        "(form, id) => form.action = form.action.replace(/faults\\/[^/]+/, 'faults/' + id)", str(foreign["id"])
    )
    await page.get_by_label("Varför avvisas den?").fill("Inte vårt.")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Avvisa felanmälan").click()
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval("SELECT status FROM fault_report WHERE id = $1", foreign["id"]) == (
            "reported"
        )
    async with db.tenant(world.a.id) as scope:
        denied = await scope.connection.fetch(
            "SELECT actor_label, target_id FROM audit_log WHERE action = 'fault_reports.denied'"
        )
    assert [(d["actor_label"], d["target_id"]) for d in denied] == [(world.a.staff_email, str(foreign["id"]))]
