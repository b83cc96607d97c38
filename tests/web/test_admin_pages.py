"""The municipality's administration in the browser: users and roles, plugins and their settings,
integrator tokens (shown once, revoked at once), the audit log; each page accessible (axe) and
photographed; nothing of another municipality, and nothing for staff."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.async_api import Page, expect

from tests.conftest import PASSWORD, GraphQLClient, Server, World, login
from tests.web.conftest import NewPage, SignIn, check_axe, shot

ME = "{ me { kind municipality { slug } } }"


def field_error(page: Page, name: str) -> str:
    """The selector of the error message tied to the form field ``name`` (macros: f-<name>-error)."""
    return f"[id='f-{name}-error']"


async def submit(page: Page, form: str = "main form[method=post]") -> None:
    async with page.expect_navigation():
        await page.locator(f"{form} [type=submit]").last.click()


# --- users and roles ---------------------------------------------------------------------------


async def test_a_tenant_admin_invites_a_user_with_errors_shown_by_their_fields(
    admin_page: Page, world: World, new_page: NewPage, signed_in: SignIn
) -> None:
    page = admin_page
    await page.goto("/web/admin")
    await expect(page.locator("h1")).to_contain_text("Administration av")
    await check_axe(page)
    await shot(page, "admin-overview")

    await page.goto("/web/admin/users")
    await expect(page.locator("main table")).to_contain_text(world.a.staff_email)
    await check_axe(page)
    await shot(page, "admin-users")

    await page.get_by_role("link", name="Bjud in en användare").click()
    await page.locator("#f-name").fill("<script>alert('namn')</script>")
    await page.locator("#f-email").fill("inte-en-adress")
    await page.locator("#f-password").fill("kort")
    await submit(page)
    await expect(page.locator(field_error(page, "email"))).to_contain_text("Ange en giltig e-postadress.")
    await expect(page.locator(field_error(page, "password"))).to_contain_text("Använd minst 10 tecken.")
    assert await page.locator("#f-email").get_attribute("aria-invalid") == "true"
    assert "f-email-error" in (await page.locator("#f-email").get_attribute("aria-describedby") or "")
    assert await page.locator("#f-name").input_value() == "<script>alert('namn')</script>", "what was typed is kept"
    await check_axe(page)
    await shot(page, "admin-invite-errors")

    email = f"ny-{uuid.uuid4().hex[:8]}@test.example"
    await page.locator("#f-email").fill(email)
    await page.locator("#f-password").fill("ett-langt-losenord")
    await page.locator("#f-role").select_option("staff")
    await submit(page)
    await expect(page.locator(".flash--success")).to_contain_text("kan nu logga in som personal")
    await expect(page.locator("h1")).to_have_text("<script>alert('namn')</script>")  # escaped, shown as text
    await check_axe(page)

    newcomer = await signed_in(await new_page(), email, password="ett-langt-losenord")
    await newcomer.goto("/web/admin")
    await expect(newcomer.locator("h1")).to_have_text("Du saknar behörighet")


async def test_an_address_that_already_has_an_account_elsewhere_gets_a_clear_message(
    admin_page: Page, world: World
) -> None:
    page = admin_page
    await page.goto("/web/admin/users/new")
    await page.locator("#f-name").fill("Dubblett")
    await page.locator("#f-email").fill(world.b.admin_email)  # B's admin, same federation
    await page.locator("#f-password").fill(PASSWORD)
    await submit(page)
    await expect(page.locator(field_error(page, "email"))).to_contain_text(
        "Det finns redan ett konto med den här e-postadressen"
    )
    await expect(page.locator("main")).not_to_contain_text(world.b.slug)
    await check_axe(page)


async def test_roles_are_given_and_taken_away_and_the_audit_log_says_so(admin_page: Page, world: World) -> None:
    page = admin_page
    await page.goto("/web/admin/users")
    await page.locator("main table a", has_text="staff a").click()
    await expect(page.locator("h1")).to_have_text("staff a")
    await check_axe(page)
    await shot(page, "admin-user")
    await page.locator("#f-role").select_option("integrator")
    await submit(page, "main form[action$='/roles']")
    await expect(page.locator(".flash--success")).to_contain_text("Rollen integratör gavs.")
    await submit(page, "main form:has(input[value=integrator])")
    await expect(page.locator(".flash--success")).to_contain_text("Rollen integratör togs bort.")

    await page.goto("/web/admin/audit?action=membership.granted")
    rows = page.locator("main tbody tr")
    await expect(rows.first).to_contain_text("Roll given")
    await expect(rows.first).to_contain_text("Integratör")
    await expect(rows.first).to_contain_text(world.a.admin_email)


async def test_another_municipalitys_user_and_a_malformed_id_are_not_found(
    admin_page: Page, world: World, server: Server
) -> None:
    page = admin_page
    other = await user_id_of(server, world.b.admin_email, world.b.slug)
    for path in (f"/web/admin/users/{other}", "/web/admin/users/not-an-id"):
        response = await page.goto(path)
        assert response is not None and response.status == 404
        await expect(page.locator("h1")).to_have_text("Sidan hittades inte")


async def user_id_of(server: Server, email: str, slug: str) -> str:
    async with httpx.AsyncClient(timeout=30) as client:
        body = (await client.post(f"{server.url}/graphql", json={
            "query": "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on LoginSuccess "
                     "{ token user { id } } } }", "variables": {"e": email, "p": PASSWORD}})).json()
    return str(body["data"]["login"]["user"]["id"])


async def test_staff_get_the_forbidden_page_and_cannot_post(staff_page: Page, world: World) -> None:
    page = staff_page
    for path in ("/web/admin", "/web/admin/users", "/web/admin/plugins", "/web/admin/tokens", "/web/admin/audit"):
        response = await page.goto(path)
        assert response is not None and response.status == 403, path
    await expect(page.locator("h1")).to_have_text("Du saknar behörighet")
    await check_axe(page)
    token = await page.locator("input[name=_csrf_token]").first.input_value()
    response = await page.request.post("/web/admin/tokens", form={
        "_csrf_token": token, "name": "Smyg", "scopes": "municipality:read", "days": "30"})
    assert response.status == 403


async def test_a_federation_admin_manages_a_member_municipality(federation_page: Page, world: World) -> None:
    page = federation_page
    await page.goto("/web/choose?next=/web/admin")
    await page.locator(f"form:has([value='{world.a.slug}']) [type=submit]").click()
    await page.wait_for_url(re.compile(r"/web/admin$"))
    await expect(page.locator("h1")).to_contain_text("Kommun A")
    await page.goto("/web/admin/users")
    await expect(page.locator("main table")).to_contain_text(world.a.admin_email)
    await expect(page.locator("main table")).not_to_contain_text(world.b.admin_email)


# --- plugins -------------------------------------------------------------------------------------

PLUGINS = "{ plugins { id enabled config secretsSet } }"


async def test_a_plugin_is_enabled_and_configured_with_errors_on_the_fields_and_its_secret_kept_secret(
    admin_page: Page, world: World, server: Server
) -> None:
    page = admin_page
    await page.goto("/web/admin/plugins")
    await check_axe(page)
    await shot(page, "admin-plugins")

    # Enabling from the list: the notice board needs a signature first.
    await submit(page, "main form[action$='/notices/enable']")
    assert page.url.endswith("/web/admin/plugins/notices/enable")
    await expect(page.locator("main .alert--error")).to_contain_text("Fyll i inställningarna nedan")
    await expect(page.locator(field_error(page, "config.signature"))).to_contain_text("Inställningen är obligatorisk.")

    # A bad value: the same validation as the API's, on its field, and what was typed is kept.
    await page.locator("[id='f-config.signature']").fill("Kommunens IT")
    await page.locator("[id='f-config.max_length']").fill("5")
    await submit(page, "main form[action$='/notices/enable']")
    await expect(page.locator(field_error(page, "config.max_length"))).to_contain_text(
        "Ange ett värde som är minst 10."
    )
    assert await page.locator("[id='f-config.signature']").input_value() == "Kommunens IT"
    await expect(page.locator(".error-summary a[href='#f-config.max_length']")).to_be_visible()
    await check_axe(page)
    await shot(page, "admin-plugin-errors")

    # A good one, with a secret: enabled, and the secret is only ever "set".
    await page.locator("[id='f-config.max_length']").fill("300")
    await page.locator("[id='f-config.webhook_secret']").fill("hemligt-värde-123")
    await submit(page, "main form[action$='/notices/enable']")
    await expect(page.locator(".flash--success")).to_contain_text("Anslagstavla är aktiverat.")
    await expect(page.locator("main")).to_contain_text("Hemlig: den är angiven.")
    assert "hemligt-värde-123" not in await page.content()
    assert await page.locator("[id='f-config.max_length']").input_value() == "300"
    await check_axe(page)
    await shot(page, "admin-plugin-settings")

    # Saving again with the secret left empty keeps it; ticking "remove" clears it.
    await page.locator("[id='f-config.max_length']").fill("400")
    await submit(page, "main form[action$='/notices/configure']")
    await expect(page.locator(".flash--success")).to_contain_text("Inställningarna för Anslagstavla är sparade.")
    api = await admin_api(server, world)
    notices = next(p for p in (await api(PLUGINS))["data"]["plugins"] if p["id"] == "notices")  # type: ignore[index]
    assert notices["enabled"] and notices["config"]["max_length"] == 400 and notices["secretsSet"] == ["webhook_secret"]
    await page.locator("#clear-webhook_secret").check()
    await submit(page, "main form[action$='/notices/configure']")
    await expect(page.locator("main")).to_contain_text("Hemlig: den är inte angiven.")

    await submit(page, "main form[action$='/notices/disable']")
    await expect(page.locator(".flash--success")).to_contain_text("Anslagstavla är avaktiverat.")
    row = page.locator("main tbody tr", has=page.get_by_role("link", name="Anslagstavla", exact=True))
    await expect(row.get_by_role("button", name="Aktivera Anslagstavla")).to_be_visible()


async def test_a_plugin_that_needs_another_says_which_to_enable_first(admin_page: Page) -> None:
    page = admin_page
    await page.goto("/web/admin/plugins")
    await submit(page, "main form[action$='/deliveries/enable']")
    await expect(page.locator("main .alert--error")).to_contain_text("Aktivera Leveransskåp först")
    response = await page.goto("/web/admin/plugins/no-such-plugin")
    assert response is not None and response.status == 404


async def admin_api(server: Server, world: World) -> GraphQLClient:
    return await login(server, world.a.admin_email, world.a.slug)


# --- integrator access ---------------------------------------------------------------------------


async def test_a_token_is_shown_once_works_and_stops_working_when_revoked(
    admin_page: Page, world: World, server: Server
) -> None:
    page = admin_page
    await page.goto("/web/admin/tokens")
    await check_axe(page)
    await submit(page, "main form[action='/web/admin/tokens']")
    await expect(page.locator(field_error(page, "name"))).to_be_visible()
    await expect(page.locator(field_error(page, "scopes"))).to_contain_text("Ge minst en behörighet.")
    await check_axe(page)

    await page.locator("#f-name").fill("Demohandeln")
    await page.get_by_label(re.compile("^municipality:read")).check()
    await page.locator("#f-days").fill("30")
    await submit(page, "main form[action='/web/admin/tokens']")
    await expect(page.locator("h1")).to_have_text("Nyckeln är given")
    token = await page.locator("#new-token").input_value()
    assert token.startswith("svk_")
    await check_axe(page)
    await shot(page, "admin-token-created")

    integrator = GraphQLClient(server.url, token)
    assert (await integrator(ME))["data"]["me"]["kind"] == "token"  # type: ignore[index]

    response = await page.reload()
    assert response is not None and response.status == 410
    await expect(page.locator("h1")).to_have_text("Nyckeln har redan visats")
    assert token not in await page.content()

    await page.goto("/web/admin/tokens")
    row = page.locator("main tbody tr", has_text="Demohandeln")
    await expect(row).to_contain_text("Aktiv")
    await expect(row).to_contain_text("municipality:read")
    await shot(page, "admin-tokens")
    await submit(page, "main form[action$='/revoke']")
    await expect(page.locator(".flash--success")).to_contain_text("Nyckeln Demohandeln återkallades.")
    await expect(page.locator("main tbody tr", has_text="Demohandeln")).to_contain_text("Återkallad")
    refused = await integrator.post(ME)
    assert refused.status_code == 401


async def test_another_municipalitys_token_cannot_be_revoked(admin_page: Page, world: World, server: Server) -> None:
    b_admin = await login(server, world.b.admin_email, world.b.slug)
    created = await b_admin(
        "mutation { createApiToken(input: {name: \"B:s\", scopes: [\"municipality:read\"]}) "
        "{ ... on ApiTokenCreated { token apiToken { id } } } }"
    )
    b_token = created["data"]["createApiToken"]  # type: ignore[index]
    page = admin_page
    await page.goto("/web/admin/tokens")
    csrf = await page.locator("input[name=_csrf_token]").first.input_value()
    response = await page.request.post(f"/web/admin/tokens/{b_token['apiToken']['id']}/revoke",
                                       form={"_csrf_token": csrf})
    assert response.status == 404
    still = GraphQLClient(server.url, b_token["token"])
    assert (await still(ME))["data"]["me"]["kind"] == "token"  # type: ignore[index]


# --- audit log -----------------------------------------------------------------------------------

CREATE_TOKEN = """mutation($name: String!) { createApiToken(input: {name: $name, scopes: ["audit:read"]}) {
  __typename } }"""


async def test_the_audit_log_filters_by_action_actor_and_dates_and_pages_newest_first(
    admin_page: Page, world: World, server: Server
) -> None:
    api = await admin_api(server, world)
    for n in range(27):
        await api(CREATE_TOKEN, {"name": f"Paket {n:02d}"})
    b_admin = await login(server, world.b.admin_email, world.b.slug)
    await b_admin(CREATE_TOKEN, {"name": "B-hemlig"})

    page = admin_page
    await page.goto("/web/admin/audit")
    await check_axe(page)
    await shot(page, "admin-audit")
    assert "B-hemlig" not in await page.content()

    await page.locator("#f-action").fill("token.created")
    await page.locator("#f-actor").fill(world.a.admin_email.split("@")[0])
    async with page.expect_navigation():
        await page.get_by_role("button", name="Filtrera").click()
    rows = page.locator("main tbody tr")
    await expect(rows).to_have_count(25)
    await expect(rows.first).to_contain_text("API-nyckel given")
    await expect(rows.first).to_contain_text("Paket 26")  # newest first
    await expect(rows.first).to_contain_text("Behörigheter")
    await page.get_by_role("link", name="Nästa sida").click()
    await expect(rows).to_have_count(2)
    await expect(rows.last).to_contain_text("Paket 00")
    assert "action=token.created" in page.url
    await check_axe(page)

    await page.goto("/web/admin/audit?actor=ingen-sadan-person")
    await expect(page.locator("main tbody")).to_contain_text("Inga poster matchar filtret.")

    await page.goto("/web/admin/audit?from=2099-01-01")
    await expect(page.locator("main tbody")).to_contain_text("Inga poster matchar filtret.")
    await page.goto("/web/admin/audit?from=2020-01-01&action=token.created")
    await expect(page.locator("main tbody tr")).to_have_count(25)

    response = await page.goto("/web/admin/audit?from=2026-02-10&to=2026-02-01")
    assert response is not None and response.status == 400
    await expect(page.locator(field_error(page, "to"))).to_contain_text("Slutdatumet får inte vara före startdatumet.")
    response = await page.goto("/web/admin/audit?from=inte-ett-datum")
    assert response is not None and response.status == 400
    await expect(page.locator(field_error(page, "from"))).to_contain_text("ÅÅÅÅ-MM-DD")
    await check_axe(page)
    response = await page.goto("/web/admin/audit?after=%%%")
    assert response is not None and response.status == 400


async def test_the_administration_reads_in_english_too(new_page: NewPage, world: World, signed_in: SignIn) -> None:
    page = await signed_in(await new_page(lang="en"), world.a.admin_email, world.a.slug)
    await page.goto("/web/admin/tokens")
    await expect(page.locator("h1")).to_have_text("Integrator access")
    await page.goto("/web/admin/plugins/lockers")
    await expect(page.locator("main")).to_contain_text("Raise a door-ajar alarm")
    await check_axe(page)


async def test_the_administration_fits_a_phone(new_page: NewPage, world: World, signed_in: SignIn) -> None:
    page = await signed_in(await new_page(phone=True), world.a.admin_email, world.a.slug)
    for path in ("/web/admin", "/web/admin/users", "/web/admin/users/new", "/web/admin/plugins",
                 "/web/admin/plugins/deliveries", "/web/admin/tokens", "/web/admin/audit"):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width} px)"
    await check_axe(page)
    await shot(page, "admin-audit-phone")
