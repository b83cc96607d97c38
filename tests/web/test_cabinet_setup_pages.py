"""The medicine cabinets' set-up pages in a real browser at desktop size, against the live server:
a tenant admin adds a care recipient (a personal identity number as the reference is a field error
that adds nothing), makes a registered locker that recipient's cabinet, makes a compartment
nurse-only, marks a nurse and assigns the staff member for a week, after which the staff member's
phone page shows the cabinet; the admin takes a day off and removes the cabinet. Staff get the 403
page, another municipality's cabinet is the 404 page. axe on every page; screenshots of each."""

from __future__ import annotations

from datetime import timedelta

from playwright.async_api import Page, expect

from backend.lib import local_day
from tests.conftest import Server, World, login
from tests.e2e.test_lockers_api import AUDIT, data, register
from tests.e2e.test_medicine_cabinets_api import CABINET, ENABLE, ME, RECIPIENT
from tests.e2e.test_medicine_cabinets_setup_api import CONFIGURE
from tests.web.conftest import NewPage, check_axe, shot, sign_in

SETUP = "/web/plugins/medicine_cabinets/setup"
TODAY = "/web/plugins/medicine_cabinets/today"
RECIPIENTS = "{ careRecipients { reference } }"


async def submit(page: Page, button: str) -> None:
    async with page.expect_navigation():
        await page.get_by_role("button", name=button, exact=True).click()


async def test_an_admin_sets_up_a_cabinet_and_the_assigned_staff_member_sees_it_today(
    server: Server, world: World, admin_page: Page, new_page: NewPage
) -> None:
    a = await register(server, world.a.admin_email, locker="W1")
    assert data(await a.admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    b = await register(server, world.b.admin_email, locker="WB")  # municipality B's own cabinet
    assert data(await b.admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    b_recipient = data(await b.admin(RECIPIENT, {"ref": "BR-B"}), "addCareRecipient")["id"]
    b_cabinet = data(await b.admin(CABINET, {"locker": b.locker_id, "recipient": b_recipient}), "addMedicineCabinet")
    staff_id = data(await (await login(server, world.a.staff_email))(ME), "me")["user"]["id"]
    page = admin_page

    await page.goto("/")
    await page.get_by_role("link", name="Läkemedelsskåp: inställningar").click()
    await expect(page.locator("h1")).to_have_text("Brukare")
    await page.get_by_label("Intern referens").fill("19121212-1212")  # a personal identity number
    await submit(page, "Lägg till brukaren")
    await expect(page.locator("#f-reference-error")).to_contain_text("inte personnummer")
    await expect(page.get_by_label("Intern referens")).to_have_attribute("aria-invalid", "true")
    assert data(await a.admin(RECIPIENTS), "careRecipients") == []
    await check_axe(page)
    await shot(page, "cabinet-setup-recipient-error")
    await page.get_by_label("Intern referens").fill("BR-web1")
    await submit(page, "Lägg till brukaren")
    await expect(page.locator(".flash")).to_contain_text("BR-web1 är tillagd.")
    await expect(page.locator("table:has(#recipients-caption) tbody")).to_contain_text("BR-web1")
    await check_axe(page)
    await shot(page, "cabinet-setup-recipients")

    await page.get_by_role("link", name="Skåp", exact=True).click()
    await page.locator("#f-locker").select_option(a.locker_id)
    await page.locator("#f-recipient").select_option(label="BR-web1")
    await check_axe(page)
    await shot(page, "cabinet-setup-cabinets")
    await submit(page, "Gör det till läkemedelsskåp")
    await expect(page.locator("h1")).to_have_text("Läkemedelsskåp BR-web1")
    await page.locator("tr:has(th:text-is('2'))").get_by_role("button").click()
    await expect(page.locator("tr:has(th:text-is('2'))")).to_contain_text("Endast sjuksköterskor")
    await expect(page.locator("tr:has(th:text-is('1'))")).to_contain_text("All schemalagd personal")
    await check_axe(page)
    await shot(page, "cabinet-setup-cabinet")

    await page.get_by_role("link", name="Sjuksköterskor").click()
    row = page.locator("tr", has_text="staff a")
    await row.get_by_role("button", name="Markera som sjuksköterska staff a").click()
    await expect(page.locator("tr", has_text="staff a")).to_contain_text("Ja")
    await check_axe(page)

    await page.get_by_role("link", name="Schema").click()
    today = local_day()
    await page.locator("#f-staff").select_option(staff_id)
    await page.locator("#f-recipient").select_option(label="BR-web1")
    await page.locator("#f-day").fill(today.isoformat())
    await page.locator("#f-last_day").fill((today + timedelta(days=6)).isoformat())
    await submit(page, "Schemalägg")
    await expect(page.locator(".flash")).to_contain_text("Nya dagar: 7.")
    await expect(page.locator("table:has(#schedule-caption) tbody")).to_contain_text("staff a")
    await check_axe(page)
    await shot(page, "cabinet-setup-schedule")

    staff = await sign_in(await new_page(phone=True), world.a.staff_email, world.a.slug)
    await staff.goto(TODAY)
    section = staff.locator("section", has=staff.get_by_role("heading", name="BR-web1"))
    await expect(section).to_contain_text("Skåp 1")
    await expect(section.get_by_role("button", name="Öppna fack 2")).to_contain_text("Endast sjuksköterska")
    menu_link = f'nav[aria-label="Huvudmeny"] a[href="{SETUP}"]'
    await expect(page.locator(menu_link)).to_have_count(1)  # offered to the admin ...
    await expect(staff.locator(menu_link)).to_have_count(0)  # ... not to staff
    for path in (SETUP, f"{SETUP}/cabinets", f"{SETUP}/schedule"):  # set-up is for tenant admins only
        refused = await staff.goto(path)
        assert refused is not None and refused.status == 403
    await expect(staff.locator("h1")).to_have_text("Du saknar behörighet")

    elsewhere = await page.goto(f"{SETUP}/cabinets/{b_cabinet['id']}")  # municipality B's cabinet
    assert elsewhere is not None and elsewhere.status == 404
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")

    await page.goto(f"{SETUP}/schedule?day={(today + timedelta(days=6)).isoformat()}")
    await page.get_by_role("button", name="Ta bort staff a, BR-web1").click()
    await expect(page.locator("table:has(#schedule-caption) tbody")).to_contain_text("Ingen är schemalagd")
    await page.goto(f"{SETUP}/cabinets")
    await page.get_by_role("link", name="BR-web1").click()
    await submit(page, "Ta bort skåpet")
    await expect(page.locator(".flash")).to_contain_text("Läkemedelsloggen behåller dess poster.")
    await expect(page.locator("table:has(#cabinets-caption) tbody")).to_contain_text("Inga läkemedelsskåp ännu.")
    audited = data(await a.admin(AUDIT, {"action": None}), "auditLog")["nodes"]
    actions = {n["action"] for n in audited if n["actorLabel"] == world.a.admin_email}
    assert {
        "medicine_cabinets.recipient_added", "medicine_cabinets.cabinet_added", "medicine_cabinets.restricted",
        "medicine_cabinets.qualified", "medicine_cabinets.assigned", "medicine_cabinets.unassigned",
        "medicine_cabinets.cabinet_removed",
    } <= actions  # fmt: skip


async def test_personal_identity_numbers_are_asked_for_only_where_the_municipality_keeps_them(
    server: Server, world: World, admin_page: Page
) -> None:
    admin = (await register(server, world.a.admin_email, locker="W2")).admin  # lockers on: cabinets depend on it
    assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    page = admin_page
    await page.goto(SETUP)
    assert await page.locator("#f-pin").count() == 0  # the setting is off
    assert data(await admin(CONFIGURE, {"on": True}), "configurePlugin")["__typename"] == "PluginInfo"
    await page.goto(SETUP)
    await page.get_by_label("Intern referens").fill("BR-pnr")
    await page.get_by_label("Personnummer (valfritt)").fill("19121212-1213")  # wrong check digit
    await submit(page, "Lägg till brukaren")
    await expect(page.locator("#f-pin-error")).to_contain_text("Ogiltigt personnummer")
    await expect(page.locator("#f-reference-error")).to_have_count(0)
    assert data(await admin(RECIPIENTS), "careRecipients") == []
    await check_axe(page)
    await page.get_by_label("Personnummer (valfritt)").fill("19121212-1212")
    await submit(page, "Lägg till brukaren")
    row = page.locator("table:has(#recipients-caption) tbody tr", has_text="BR-pnr")
    await expect(row).to_contain_text("191212121212")
    await page.get_by_label("Intern referens").fill("BR-pnr")  # taken: marked on the reference
    await submit(page, "Lägg till brukaren")
    await expect(page.locator("#f-reference-error")).to_contain_text("Referensen finns redan.")
    await page.get_by_label("Intern referens").fill("BR-pnr2")  # another recipient's number: marked on it
    await page.get_by_label("Personnummer (valfritt)").fill("191212121212")
    await submit(page, "Lägg till brukaren")
    await expect(page.locator("#f-pin-error")).to_contain_text("En annan brukare har det personnumret.")
    assert [r["reference"] for r in data(await admin(RECIPIENTS), "careRecipients")] == ["BR-pnr"]
    await check_axe(page)
    await shot(page, "cabinet-setup-personal-identity-numbers")
