"""Across the web UI, in a real browser on the live server: municipality A's admin never reaches
municipality B's pages or objects by editing addresses or ids (a 404 page, never B's data); a
forged form gets the 403 page and changes nothing; an ended session leads to the login page; an
oversized upload gets the 413 page; script typed into text fields is shown as text everywhere.
The page fixtures fail any test during which the server answered ≥ 500 or an alert opened."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from playwright.async_api import APIResponse, Page, expect

from backend.lib import utcnow
from plugins import state as plugin_state
from plugins.deliveries.domain import Recipient, RecipientKind
from plugins.lockers import registration
from plugins.lockers.ingest_records import ALARM_RAISED
from plugins.registry import PluginRegistry
from tenants import accounts, tokens
from tenants.access import Actor, Role
from tenants.database import Database
from tenants.secrets import digest
from tenants.tables import UserSession
from tests.conftest import PASSWORD, World, make_world
from tests.integration.test_deliveries import Site, create, install, new
from tests.web.conftest import NewPage, SignIn, check_axe, shot

ACTOR = Actor.system("test")
LOCKERS = "/web/plugins/lockers"
DELIVERIES = "/web/plugins/deliveries"
FAULT_REPORT = "/web/plugins/fault_reports/report"
FEDERATION_REPORTS = ("/web/federation/deliveries/savings", "/web/federation/procurement/costs")
NOT_FOUND_SV = "Sidan hittades inte"
FORM_EXPIRED_SV = "Formuläret har gått ut"
SESSION_ENDED_SV = "Din session har avslutats"
TOO_LARGE_SV = "Filen är för stor"


@dataclass(frozen=True)
class Theirs:
    """Municipality B's objects, made through the service layer, and the texts that must never
    show on A's pages."""

    admin_id: uuid.UUID
    staff_id: uuid.UUID
    token_id: uuid.UUID
    site: Site
    delivery_id: uuid.UUID
    alarm_id: uuid.UUID
    secrets: tuple[str, ...]


async def user_id(db: Database, tenant: uuid.UUID, email: str) -> uuid.UUID:
    async with db.tenant(tenant) as scope:
        found = await accounts.find_user_by_email(scope, email)
    assert found is not None
    return found.id


async def roles_of(db: Database, tenant: uuid.UUID, user: uuid.UUID) -> list[Role]:
    async with db.tenant(tenant) as scope:
        return list((await accounts.memberships_in_tenant(scope, [user])).get(user, []))


async def install_all(db: Database, tenant: uuid.UUID) -> Site:
    """Lockers with a site and a locker, deliveries and fault reports, enabled through the service layer."""
    site = await install(db, tenant)
    async with db.tenant(tenant) as scope:
        await plugin_state.enable(scope, PluginRegistry.discover(), "fault_reports", config=None, actor=ACTOR)
    return site


@pytest.fixture
async def theirs(db: Database, world: World) -> Theirs:
    await install_all(db, world.a.id)  # A has the same plugins, so a 404 is isolation, not a disabled plugin
    site = await install_all(db, world.b.id)
    tag = uuid.uuid4().hex[:6]
    async with db.tenant(world.b.id) as scope:
        token = await tokens.create_token(scope, name=f"B-integration {tag}", scopes=["municipality:read"],
                                          expires_in_days=30, actor=ACTOR)
        site_name = await scope.connection.fetchval("SELECT name FROM lockers_site WHERE id = $1", site.site_id)
        alarm_id = await scope.connection.fetchval(  # as the ingest records a gateway's alarm
            ALARM_RAISED, world.b.id, f"door-{tag}", "door_ajar", "critical", f"B-larm {tag}", None,
            site.endpoint_id, site.locker_id, next(iter(site.compartments.values())), utcnow())
    delivery = await create(db, site, new(site, reference=f"B-ORDER-{tag}"))
    return Theirs(
        admin_id=await user_id(db, world.b.id, world.b.admin_email),
        staff_id=await user_id(db, world.b.id, world.b.staff_email),
        token_id=token.record.id,
        site=site,
        delivery_id=delivery.row["id"],
        alarm_id=alarm_id,
        secrets=(world.b.admin_email, world.b.staff_email, f"B-integration {tag}", site_name, site.locker_key,
                 f"B-ORDER-{tag}", f"B-larm {tag}", f"Kommun B {world.b.slug.removeprefix('b-')}"),
    )


def their_pages(b: Theirs) -> list[str]:
    """Every page address that takes an id, with one of B's ids in it."""
    compartment = next(iter(b.site.compartments.values()))
    return [
        f"/web/admin/users/{b.admin_id}",
        f"/web/admin/users/{b.staff_id}",
        f"{LOCKERS}/sites/{b.site.site_id}",
        f"{LOCKERS}/lockers/{b.site.locker_id}",
        f"{LOCKERS}/lockers/{b.site.locker_id}/live",
        f"{LOCKERS}/compartments/{compartment}",
        f"{LOCKERS}/compartments/{compartment}/live",
        f"{DELIVERIES}/{b.delivery_id}",
    ]


def assert_none_of(text: str, secrets: tuple[str, ...], where: str) -> None:
    shown = [s for s in secrets if s in text]
    assert not shown, f"{where} shows municipality B's {shown}"


async def csrf_token(page: Page, path: str = "/web/admin/users/new") -> str:
    """The CSRF token the page's forms carry, as a person editing a form by hand would have it."""
    await page.goto(path)
    return await page.locator("input[name=_csrf_token]").first.input_value()


async def set_cookie(page: Page, name: str, value: str) -> None:
    """Replace a cookie of the site by hand, as someone editing their browser's cookies would."""
    origin = "/".join(page.url.split("/")[:3]) + "/"
    await page.context.clear_cookies(name=name)
    await page.context.add_cookies([{"name": name, "value": value, "url": origin}])


async def post(page: Page, path: str, form: dict[str, str]) -> APIResponse:
    """A form post with the page's cookies (its session), without following the redirect."""
    return await page.request.post(path, form=form, max_redirects=0)


# --- another municipality's ids ---------------------------------------------------------------


async def test_a_tenant_admin_gets_the_404_page_for_every_page_of_another_municipalitys_ids(
    admin_page: Page, theirs: Theirs
) -> None:
    page = admin_page
    for path in their_pages(theirs):
        response = await page.goto(path)
        assert response is not None and response.status == 404, f"{path}: {response and response.status}"
        await expect(page.locator("h1")).to_contain_text(NOT_FOUND_SV)
        assert_none_of(await page.content(), theirs.secrets, path)
    await check_axe(page)
    await shot(page, "isolation-404")
    listings = ("/web/admin/users", "/web/admin/tokens", "/web/admin/audit", f"{LOCKERS}/", f"{LOCKERS}/alarms",
                f"{DELIVERIES}/", f"{DELIVERIES}/pickups", f"{LOCKERS}/open", FAULT_REPORT)
    for listing in listings:
        response = await page.goto(listing)
        assert response is not None and response.status == 200, listing
        assert_none_of(await page.content(), theirs.secrets, listing)


async def test_a_tenant_admin_cannot_change_another_municipalitys_users_tokens_or_alarms_by_their_ids(
    admin_page: Page, db: Database, world: World, theirs: Theirs
) -> None:
    token = await csrf_token(admin_page)
    attempts = [
        (f"/web/admin/users/{theirs.staff_id}/roles", {"role": Role.TENANT_ADMIN.value}),
        (f"/web/admin/users/{theirs.admin_id}/roles/remove", {"role": Role.TENANT_ADMIN.value}),
        (f"/web/admin/tokens/{theirs.token_id}/revoke", {}),
        (f"{LOCKERS}/alarms/{theirs.alarm_id}/acknowledge", {}),
    ]
    for path, form in attempts:
        response = await post(admin_page, path, {**form, "_csrf_token": token})
        assert response.status == 404, f"{path}: {response.status}"
        assert_none_of(await response.text(), theirs.secrets, path)
    assert await roles_of(db, world.b.id, theirs.staff_id) == [Role.STAFF]
    assert await roles_of(db, world.b.id, theirs.admin_id) == [Role.TENANT_ADMIN]
    async with db.tenant(world.b.id) as scope:
        assert (await tokens.get_token(scope, theirs.token_id)).revoked_at is None
        acknowledged = "SELECT acknowledged_at FROM lockers_alarm WHERE id = $1"
        assert await scope.connection.fetchval(acknowledged, theirs.alarm_id) is None


async def test_choosing_another_municipality_by_hand_never_shows_it(
    admin_page: Page, world: World, theirs: Theirs
) -> None:
    page = admin_page
    token = await csrf_token(page)
    response = await post(page, "/web/choose", {"municipality": world.b.slug, "_csrf_token": token})
    assert response.status == 404, "a municipality that is not yours is as unknown as one that does not exist"
    assert_none_of(await response.text(), theirs.secrets, "the refused choice")
    for path in ("/web/admin/users", f"{LOCKERS}/", "/web/admin/tokens"):
        await set_cookie(page, "samverka_tenant", world.b.slug)
        response = await page.goto(path)
        assert response is not None and response.status == 404, f"{path} with B's slug in the cookie"
        assert_none_of(await page.content(), theirs.secrets, f"{path} with B's slug in the cookie")
    await page.goto("/web/admin/users")  # the stale choice was forgotten: back in a municipality of one's own
    assert_none_of(await page.content(), theirs.secrets, "the page after the refused choice")


async def test_a_federation_admin_sees_nothing_of_another_federation(
    db: Database, world: World, new_page: NewPage, signed_in: SignIn
) -> None:
    other = await make_world(db)
    page = await signed_in(await new_page(), other.federation_admin_email)
    tag = world.a.slug.removeprefix("a-")
    ours = (f"Kommun A {tag}", f"Kommun B {tag}", world.a.admin_email)
    for path in ("/web/federation", "/web/federation/plugins", *FEDERATION_REPORTS, "/web/choose"):
        response = await page.goto(path)
        assert response is not None and response.status == 200, path
        assert_none_of(await page.content(), ours, f"{path} of another federation")
    await page.goto("/web/federation")
    await expect(page.locator("main")).to_contain_text(f"Kommun A {other.a.slug.removeprefix('a-')}")
    token = await csrf_token(page, "/web/choose")
    response = await post(page, "/web/choose", {"municipality": world.a.slug, "_csrf_token": token})
    assert response.status == 404, "a municipality of another federation is as unknown as none"


async def test_ids_that_are_no_ids_get_the_404_page(admin_page: Page) -> None:
    for bad in ("not-a-uuid", "1%27%20OR%20%271%27%3D%271", "%00", "0" * 400):
        for path in (f"/web/admin/users/{bad}", f"{LOCKERS}/sites/{bad}", f"{LOCKERS}/compartments/{bad}"):
            response = await admin_page.goto(path)
            assert response is not None and response.status in {400, 404}, f"{path}: {response and response.status}"


async def count(db: Database, tenant: uuid.UUID, table: str) -> int:
    async with db.tenant(tenant) as scope:
        return int(await scope.connection.fetchval(f"SELECT count(*) FROM {table}"))


async def test_staff_cannot_open_or_report_a_fault_on_another_municipalitys_lockers(
    staff_page: Page, db: Database, world: World, theirs: Theirs
) -> None:
    page = staff_page
    compartment = str(next(iter(theirs.site.compartments.values())))
    for path in (f"{LOCKERS}/open?compartment={compartment}", f"{FAULT_REPORT}?locker={theirs.site.locker_id}"):
        await page.goto(path)
        assert_none_of(await page.content(), theirs.secrets, path)
    token = await csrf_token(page, "/web/plugins/lockers/open")
    response = await post(page, "/web/plugins/lockers/open", {"compartment": compartment, "_csrf_token": token})
    assert response.status == 404, f"opening B's compartment: {response.status}"
    fault = {"_csrf_token": token, "target": f"{theirs.site.locker_id}/{compartment}", "category": "door_or_lock",
             "description": "Dörren går inte att stänga"}
    response = await page.request.post("/web/plugins/fault_reports/report", multipart=fault, max_redirects=0)
    assert response.status in {400, 404}, f"reporting on B's locker: {response.status}"
    assert_none_of(await response.text(), theirs.secrets, "the refused fault report")
    assert await count(db, world.b.id, "lockers_command") == 0
    assert await count(db, world.b.id, "fault_report") == 0
    assert await count(db, world.a.id, "fault_report") == 0


async def test_a_photo_larger_than_5_mb_gets_the_413_page_and_nothing_is_reported(
    staff_page: Page, db: Database, world: World
) -> None:
    await install_all(db, world.a.id)
    page = staff_page
    await page.goto("/web/plugins/fault_reports/report")
    await page.locator("#f-target").select_option(index=1)
    await page.locator("input[name=category]").first.check()
    await page.locator("#f-description").fill("Displayen är sönder")
    jpeg = b"\xff\xd8\xff\xe0" + bytes(6 * 1024 * 1024)
    await page.locator("input[name=photo]").set_input_files(
        files=[{"name": "stort-foto.jpg", "mimeType": "image/jpeg", "buffer": jpeg}])
    async with page.expect_response(lambda r: r.request.method == "POST") as sent:
        await page.locator("main form[method=post] [type=submit]").last.click()
    assert (await sent.value).status == 413
    await expect(page.locator("h1")).to_contain_text(TOO_LARGE_SV)
    await check_axe(page)
    await shot(page, "isolation-upload-413")
    assert await count(db, world.a.id, "fault_report") == 0


# --- forged forms and ended sessions ----------------------------------------------------------


async def test_a_forged_or_missing_csrf_token_gets_the_403_page_and_changes_nothing(
    admin_page: Page, db: Database, world: World
) -> None:
    page = admin_page
    for case, forge in (("forged", "el => el.value = 'forged-token'"), ("missing", "el => el.remove()")):
        email = f"csrf-{case}-{uuid.uuid4().hex[:6]}@test.example"
        await page.goto("/web/admin/users/new")
        await page.locator("#f-name").fill("Anna Andersson")
        await page.locator("#f-email").fill(email)
        await page.locator("#f-password").fill(PASSWORD)
        await page.locator("main form[method=post] input[name=_csrf_token]").evaluate(forge)
        async with page.expect_response(lambda r: r.request.method == "POST") as sent:
            await page.locator("main form[method=post] [type=submit]").last.click()
        assert (await sent.value).status == 403, case
        await expect(page.locator("h1")).to_contain_text(FORM_EXPIRED_SV)
        async with db.tenant(world.a.id) as scope:
            assert await accounts.find_user_by_email(scope, email) is None, f"{case}: the user was created"
    await check_axe(page)
    await shot(page, "isolation-csrf-403")


async def session_token(page: Page) -> str:
    cookies = {c["name"]: c["value"] for c in await page.context.cookies()}
    return cookies["samverka_session"]


@pytest.mark.parametrize("ending", ["expired", "signed-out-elsewhere", "made-up"])
async def test_an_ended_session_leads_to_the_login_page_with_a_message(
    admin_page: Page, db: Database, ending: str
) -> None:
    page = admin_page
    token = await session_token(page)
    if ending == "expired":
        async with db.shared():
            await UserSession.update({UserSession.expires_at: utcnow() - timedelta(minutes=1)}).where(
                UserSession.token_hash == digest(token))
    elif ending == "signed-out-elsewhere":
        await accounts.sign_out(db, token)
    else:
        await set_cookie(page, "samverka_session", "svs_" + "x" * 40)
    await page.goto("/web/admin/users")
    assert "/login" in page.url and "next=" in page.url, page.url
    await expect(page.locator("main")).to_contain_text(SESSION_ENDED_SV)
    await expect(page.locator("input[name=password]")).to_be_visible()
    await check_axe(page)


async def test_a_body_larger_than_allowed_gets_the_413_page(admin_page: Page) -> None:
    token = await csrf_token(admin_page)
    response = await post(admin_page, "/web/admin/users/new",
                          {"_csrf_token": token, "name": "x" * (12 * 1024 * 1024)})
    assert response.status == 413, response.status
    assert TOO_LARGE_SV in await response.text()


# --- script in text fields --------------------------------------------------------------------

SITE_SCRIPT = "<script>alert('site')</script>"
USER_SCRIPT = "<img src=x onerror=alert('user')>"
TOKEN_SCRIPT = "\"><script>alert('token')</script>"
RECIPIENT_SCRIPT = "<svg onload=alert('recipient')>"


async def no_injected_markup(page: Page, where: str) -> None:
    injected = await page.evaluate(
        """() => [...document.querySelectorAll('script')].filter(s => s.textContent.includes("alert('")).length
                 + document.querySelectorAll('img[src="x"], svg[onload]').length""")
    assert injected == 0, f"{where}: script from a text field became markup"


async def test_script_typed_into_names_is_shown_as_text_on_every_page(
    admin_page: Page, db: Database, world: World, new_page: NewPage, signed_in: SignIn
) -> None:
    lockers = await install(db, world.a.id)
    recipient = Recipient(RecipientKind.STAFF_UNIT, RECIPIENT_SCRIPT, "+46701234567", None)
    delivery = await create(db, lockers, replace(new(lockers), recipient=recipient))
    async with db.tenant(world.a.id) as scope:
        site = await registration.register_site(scope, registration.NewSite(SITE_SCRIPT, SITE_SCRIPT), actor=ACTOR)
        email = f"evil-{uuid.uuid4().hex[:6]}@test.example"
        person = await accounts.create_user(scope, email=email, name=USER_SCRIPT, password=PASSWORD,
                                            federation_id=world.federation_id)
        await accounts.grant_membership(scope, user_id=person.id, role=Role.STAFF, actor=ACTOR)
        await tokens.create_token(scope, name=TOKEN_SCRIPT, scopes=["municipality:read"], expires_in_days=5,
                                  actor=ACTOR)
    shown = [
        ("/web/admin/users", USER_SCRIPT),
        (f"/web/admin/users/{person.id}", USER_SCRIPT),
        ("/web/admin/tokens", TOKEN_SCRIPT),
        (f"{LOCKERS}/", SITE_SCRIPT),
        (f"{LOCKERS}/sites/{site['id']}", SITE_SCRIPT),
        (f"{DELIVERIES}/", RECIPIENT_SCRIPT),
        (f"{DELIVERIES}/{delivery.row['id']}", RECIPIENT_SCRIPT),
    ]
    for path, text in shown:
        response = await admin_page.goto(path)
        assert response is not None and response.status == 200, path
        await expect(admin_page.locator("main")).to_contain_text(text)
        await no_injected_markup(admin_page, path)
    await shot(admin_page, "isolation-escaped-site")
    reflected = [
        "/web/admin/audit?action=%3Cscript%3Ealert('q')%3C/script%3E",
        "/login?next=%22%3E%3Cscript%3Ealert('n')%3C/script%3E",
    ]
    for path in reflected:
        await admin_page.goto(path)
        await no_injected_markup(admin_page, path)
    staff = await signed_in(await new_page(phone=True), email, world.a.slug)
    await no_injected_markup(staff, "the start page of a user with script in their name")
