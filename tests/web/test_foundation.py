"""The web foundation: sign-in and out, lock-out, CSRF, sessions, municipality choice, language,
error pages, security headers, plugin pages behind enablement, and complete Swedish catalogs."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from litestar import get
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.testing import create_test_client
from playwright.async_api import Page, expect

from backend.web.errors import web_exception_handlers
from backend.web.i18n import language
from backend.web.session import MunicipalityRef, WebUser
from backend.web.start import home_of
from backend.web.wiring import set_request_language, template_config, template_environment
from plugins.registry import PluginRegistry
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login
from tests.web.conftest import check_axe, shot

ROOT = Path(__file__).resolve().parents[2]
CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    """An httpx client that keeps cookies like a browser on http://127.0.0.1 (none are Secure in tests)."""

    def __init__(self, server: Server) -> None:
        self.client = httpx.AsyncClient(base_url=server.url, timeout=30)

    async def csrf(self, path: str = "/login") -> str:
        response = await self.client.get(path)
        found = CSRF_INPUT.search(response.text)
        assert found, f"no CSRF field on {path}"
        return found.group(1)

    async def post(self, path: str, data: dict[str, str], *, token_from: str = "/login") -> httpx.Response:
        token = await self.csrf(token_from)
        return await self.client.post(path, data={**data, "_csrf_token": token})

    async def sign_in(self, email: str, password: str = PASSWORD, next_path: str = "") -> httpx.Response:
        return await self.post("/login", {"email": email, "password": password, "next": next_path})


@pytest.fixture
async def browser_client(server: Server) -> AsyncIterator[Browser]:
    b = Browser(server)
    yield b
    await b.client.aclose()


async def new_browser(server: Server) -> Browser:
    return Browser(server)


# --- signing in and out ------------------------------------------------------------------------


async def test_the_start_page_sends_a_stranger_to_the_sign_in_page(browser_client: Browser) -> None:
    response = await browser_client.client.get("/")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    page = await browser_client.client.get("/login")
    assert page.status_code == 200
    assert '<html lang="sv">' in page.text and "Logga in i Samverka" in page.text


async def test_a_tenant_admin_signs_in_and_sees_their_municipality(browser_client: Browser, world: World) -> None:
    response = await browser_client.sign_in(world.a.admin_email)
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = next(c for c in browser_client.client.cookies.jar if c.name == "samverka_session")
    assert (cookie.value or "").startswith("svs_") and cookie.has_nonstandard_attr("HttpOnly")
    home = await browser_client.client.get("/", follow_redirects=True)
    assert home.status_code == 200
    assert world.a.admin_email in home.text and f"Kommun A {world.a.slug[2:]}" in home.text


async def test_signing_in_returns_to_the_page_asked_for_but_never_to_another_site(
    browser_client: Browser, world: World
) -> None:
    asked = await browser_client.client.get("/web/choose")
    assert asked.headers["location"] == "/login?next=/web/choose"
    response = await browser_client.sign_in(world.a.admin_email, next_path="/web/choose")
    assert response.headers["location"] == "/web/choose"
    await browser_client.client.post("/logout", data={"_csrf_token": await browser_client.csrf("/web/choose")})
    response = await browser_client.sign_in(world.a.admin_email, next_path="//evil.example/")
    assert response.headers["location"] == "/"


async def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(
    browser_client: Browser, world: World
) -> None:
    wrong = await browser_client.sign_in(world.a.admin_email, "not-the-password")
    unknown = await browser_client.sign_in(f"nobody-{uuid.uuid4().hex[:6]}@test.example", "not-the-password")
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Fel e-postadress eller lösenord." in response.text
        assert "samverka_session" not in response.cookies


async def test_an_empty_form_names_the_missing_fields(browser_client: Browser) -> None:
    response = await browser_client.sign_in("", "")
    assert response.status_code == 400
    assert 'href="#f-email"' in response.text and 'aria-describedby="f-password-error"' in response.text


async def test_five_failed_sign_ins_lock_the_account_for_the_web_and_the_api(server: Server, world: World) -> None:
    b = Browser(server)
    try:
        for _ in range(4):
            assert (await b.sign_in(world.b.staff_email, "wrong-password-1")).status_code == 400
        locked = await b.sign_in(world.b.staff_email, "wrong-password-1")
        assert locked.status_code == 429 and "kontot är låst i 15 minuter" in locked.text
        # The right password does not open it now, here or through GraphQL.
        again = await b.sign_in(world.b.staff_email)
        assert again.status_code == 429 and "samverka_session" not in again.cookies
        body = await GraphQLClient(server.url)(
            "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { ... on Error { code } } }",
            {"e": world.b.staff_email, "p": PASSWORD},
        )
        assert body["data"]["login"]["code"] == "RATE_LIMITED"  # type: ignore[index]
    finally:
        await b.client.aclose()


async def test_signing_out_ends_the_session_for_the_api_too(browser_client: Browser, world: World) -> None:
    await browser_client.sign_in(world.a.staff_email)
    token = browser_client.client.cookies["samverka_session"]
    api = GraphQLClient(browser_client.client.base_url.__str__().rstrip("/"), token)
    assert (await api("{ me { kind } }"))["data"]["me"]["kind"] == "user"  # type: ignore[index]
    response = await browser_client.post("/logout", {}, token_from="/web/choose")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert "samverka_session" not in browser_client.client.cookies
    page = await browser_client.client.get("/login")
    assert "Du är utloggad." in page.text
    assert (await api("{ me { kind } }")).get("errors")


async def test_an_expired_session_leads_back_to_the_sign_in_page_with_a_message(
    server: Server, world: World
) -> None:
    api = await login(server, world.a.staff_email)
    await api("mutation { logout }")  # the session the cookie names is over
    async with httpx.AsyncClient(base_url=server.url, cookies={"samverka_session": api.token or ""}) as client:
        response = await client.get("/web/choose")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/web/choose"
        page = await client.get("/login")
    assert "Din session har avslutats." in page.text


# --- CSRF ----------------------------------------------------------------------------------------


async def test_a_forged_form_gets_the_expired_form_page_and_changes_nothing(
    browser_client: Browser, world: World
) -> None:
    await browser_client.sign_in(world.a.staff_email)
    token = browser_client.client.cookies["samverka_session"]
    forged = await browser_client.client.post("/logout", data={"_csrf_token": "forged"})
    assert forged.status_code == 403 and "Formuläret har gått ut" in forged.text
    missing = await browser_client.client.post("/logout")
    assert missing.status_code == 403
    still = GraphQLClient(str(browser_client.client.base_url).rstrip("/"), token)
    assert (await still("{ me { kind } }"))["data"]["me"]["kind"] == "user"  # type: ignore[index]


async def test_the_api_needs_no_csrf_token(server: Server, world: World) -> None:
    api = await login(server, world.a.staff_email)
    assert (await api("{ me { kind } }"))["data"]["me"]["kind"] == "user"  # type: ignore[index]


# --- municipalities ------------------------------------------------------------------------------


async def test_choosing_a_municipality_marks_it_active(browser_client: Browser, world: World) -> None:
    await browser_client.sign_in(world.federation_admin_email)
    page = await browser_client.client.get("/web/choose")
    assert world.a.slug in page.text and world.b.slug in page.text
    response = await browser_client.post("/web/choose", {"municipality": world.b.slug}, token_from="/web/choose")
    assert response.status_code == 303 and browser_client.client.cookies["samverka_tenant"] == world.b.slug
    page = await browser_client.client.get("/web/choose")
    assert re.search(r'choice--active" aria-describedby="active-' + world.b.slug, page.text)


async def test_another_municipalitys_slug_is_not_found(browser_client: Browser, world: World) -> None:
    await browser_client.sign_in(world.a.admin_email)
    chosen = await browser_client.post("/web/choose", {"municipality": world.b.slug}, token_from="/web/choose")
    assert chosen.status_code == 404
    browser_client.client.cookies.set("samverka_tenant", world.b.slug)
    page = await browser_client.client.get("/web/choose")
    assert page.status_code == 404 and "Sidan hittades inte" in page.text
    browser_client.client.cookies.set("samverka_tenant", "no-such-place")
    unknown = await browser_client.client.get("/web/choose")
    assert unknown.status_code == 404 and unknown.text.count("Sidan hittades inte") == page.text.count(
        "Sidan hittades inte"
    )


# --- language, errors, headers -------------------------------------------------------------------


async def test_the_language_switch_keeps_english_until_switched_back(browser_client: Browser) -> None:
    response = await browser_client.post("/web/lang", {"lang": "en", "next": "/login"})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    page = await browser_client.client.get("/login")
    assert '<html lang="en">' in page.text and "Sign in to Samverka" in page.text
    missing = await browser_client.client.get("/web/nothing-here")
    assert missing.status_code == 404 and "Page not found" in missing.text
    await browser_client.post("/web/lang", {"lang": "sv", "next": "/login"})
    assert "Logga in i Samverka" in (await browser_client.client.get("/login")).text


async def test_an_unknown_page_is_a_clear_404_page_and_the_api_keeps_json(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        page = await client.get("/no/such/page")
        api = await client.get("/graphql/nothing")
    assert page.status_code == 404 and "Sidan hittades inte" in page.text and "<main" in page.text
    assert api.status_code == 404 and api.headers["content-type"].startswith("application/json")


async def test_pages_carry_the_browser_protections(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        for path in ("/login", "/no/such/page", "/static/site.css"):
            headers = (await client.get(path)).headers
            csp = headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert headers["x-frame-options"] == "DENY"
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "same-origin"
        assert "content-security-policy" not in (await client.get("/healthz")).headers


async def test_a_plugin_page_is_not_found_where_the_plugin_is_not_enabled(
    browser_client: Browser, world: World
) -> None:
    await browser_client.sign_in(world.a.admin_email)
    response = await browser_client.client.get("/web/plugins/notices/")
    assert response.status_code == 404 and "Sidan hittades inte" in response.text


# --- catalogs ------------------------------------------------------------------------------------

METHODS = [("**/templates/**.html", "jinja2.ext:babel_extract"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true",
                                    "trim_blocks": "true", "lstrip_blocks": "true"}}


def used_msgids() -> dict[str, str]:
    """Every msgid in backend/web, plugins/*/web* and plugins' templates, with where it is used."""
    found: dict[str, str] = {}
    plugins = ROOT / "plugins"
    places = [ROOT / "backend" / "web", *sorted(plugins.glob("*/web*")), *sorted(plugins.glob("*/templates"))]
    for place in places:
        if place.is_file():
            directory, pattern = place.parent, place.name
            methods = [(pattern, "python")]
        elif place.name == "templates":
            directory, pattern, methods = place.parent, "", METHODS[:1]
        else:
            directory, pattern, methods = place, "", METHODS
        for filename, line, message, _, _ in extract_from_dir(directory, methods, OPTIONS):
            if pattern and filename != pattern:
                continue
            for msgid in [message] if isinstance(message, str) else [m for m in message if m]:
                found.setdefault(msgid, f"{directory.relative_to(ROOT)}/{filename}:{line}")
    return found


def test_every_string_of_the_web_ui_has_a_swedish_translation() -> None:
    with (ROOT / "backend/web/locale/sv/LC_MESSAGES/samverka.po").open("rb") as f:
        swedish = read_po(f, locale="sv")
    used = used_msgids()
    assert len(used) > 40
    missing = [f"{where}: {msgid!r}" for msgid, where in used.items() if not (m := swedish.get(msgid)) or not m.string]
    assert not missing, "add these to backend/web/locale/sv/LC_MESSAGES/samverka.po:\n" + "\n".join(missing)


# --- in the browser ------------------------------------------------------------------------------


async def test_the_sign_in_page_is_accessible_on_a_phone(phone: Page) -> None:
    await phone.goto("/login")
    await expect(phone.locator("h1")).to_have_text("Logga in i Samverka")
    await check_axe(phone)
    await shot(phone, "foundation-login-phone")
    await phone.keyboard.press("Tab")
    await expect(phone.locator(".skip-link")).to_be_focused()


async def test_choosing_a_municipality_in_the_browser(federation_page: Page, world: World) -> None:
    await federation_page.goto("/web/choose")
    await check_axe(federation_page)
    await federation_page.locator(f"form:has([value='{world.a.slug}']) [type=submit]").click()
    await expect(federation_page.locator(".who__place strong")).to_contain_text("Kommun A")
    await expect(federation_page.locator("[role=status]")).to_contain_text("Du arbetar nu i")
    await check_axe(federation_page)
    await shot(federation_page, "foundation-chosen")


async def test_the_error_page_is_accessible(page: Page) -> None:
    await page.goto("/web/no-such-page")
    await expect(page.locator("h1")).to_have_text("Sidan hittades inte")
    await check_axe(page)


# --- error pages and macros without a server -----------------------------------------------------


@get("/boom", sync_to_thread=False)
def boom() -> str:
    raise RuntimeError("secret detail of the failure")


@get("/too-large", sync_to_thread=False)
def too_large() -> str:
    raise RequestEntityTooLarge()


def test_an_unexpected_error_is_a_masked_500_page_and_an_oversized_upload_a_413_page() -> None:
    with create_test_client(
        route_handlers=[boom, too_large],
        exception_handlers=web_exception_handlers(),
        template_config=template_config(PluginRegistry([])),
        before_request=set_request_language,
    ) as client:
        failed = client.get("/boom")
        assert failed.status_code == 500 and "Något gick fel" in failed.text
        assert "secret detail" not in failed.text and "Traceback" not in failed.text
        client.cookies.set("lang", "en")
        large = client.get("/too-large")
        assert large.status_code == 413 and "The file is too large" in large.text and "5 MB" in large.text


def render_macros(source: str, **context: Any) -> str:
    env = template_environment(PluginRegistry([]))
    with language("sv"):
        return env.from_string('{% from "macros.html" import field, errors_summary, table, svg_line_chart, '
                               'svg_bar_chart %}' + source).render(**context)


def test_a_field_with_an_error_is_described_by_it_and_escapes_its_value() -> None:
    html = render_macros('{{ field("email", "E-post", value, {"email": ["Saknas", "Ogiltig"]}, hint="Tips") }}',
                         value='"><script>alert(1)</script>')
    assert 'aria-describedby="f-email-hint f-email-error"' in html and 'aria-invalid="true"' in html
    assert html.count('id="f-email-error"') == 1 and "<script>" not in html and "&lt;script&gt;" in html


def test_charts_are_svg_with_a_title_and_their_numbers_in_a_table() -> None:
    html = render_macros(
        '{{ svg_line_chart(points, "Temperatur", "°C", id="temp") }}{{ svg_bar_chart(rows, "Leveranser", "st") }}',
        points=[("07:00", 4.5), ("08:00", None), ("09:00", 5.25), ("10:00", 6.0)],
        rows=[("<b>Vara</b>", 1234), ("Skara", 0)],
    )
    assert '<svg viewBox="0 0 640 260" role="img" aria-labelledby="temp-title temp-desc"' in html
    assert "<title id=\"temp-title\">Temperatur (°C)</title>" in html and "<polyline" in html
    assert '<td class="num">5,2</td>' in html and '<td class="num">1\u00a0234</td>' in html  # Swedish numbers
    assert "&lt;b&gt;Vara&lt;/b&gt;" in html and "<b>" not in html
    assert "style=" not in html  # the CSP allows no inline styles


def test_each_role_starts_at_home() -> None:
    from tenants.access import Actor, Principal, Role

    place = MunicipalityRef(uuid.uuid4(), "vara", "Vara")
    other = MunicipalityRef(uuid.uuid4(), "skara", "Skara")

    def user(roles: set[Role], *, active: MunicipalityRef | None = place, fed: bool = False,
             places: tuple[MunicipalityRef, ...] = (place,)) -> WebUser:
        principal = Principal(actor=Actor("user", uuid.uuid4(), "x@test.example"), is_federation_admin=fed,
                              memberships={place.id: frozenset(roles)} if roles else {},
                              tenant_id=active.id if active else None)
        return WebUser(principal=principal, municipality=active, municipalities=places, lang="sv", csrf_token="")

    assert home_of(user(set(), active=None, fed=True, places=(place, other))) == "/web/federation"
    assert home_of(user({Role.TENANT_ADMIN, Role.STAFF})) == "/web/admin"
    assert home_of(user({Role.STAFF})) == "/web/staff"
    assert home_of(user({Role.STAFF}, active=None, places=(place, other))) == "/web/choose"
    assert home_of(user(set(), active=None, places=())) is None


async def test_a_live_fragment_whose_session_ended_sends_the_whole_page_to_sign_in(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, cookies={"samverka_session": "svs_made-up"}) as client:
        response = await client.get("/web/choose", headers={"HX-Request": "true"})
    assert response.status_code == 204 and response.headers["hx-redirect"] == "/login?next=/web/choose"
