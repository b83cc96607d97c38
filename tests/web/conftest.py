"""Browser tests: Playwright driving Debian's Chromium against a live ``samverka serve``.

Fixtures: ``browser`` (session), ``page`` (desktop 1280x800) and ``phone`` (390x844, touch), each
a fresh browser context per test on the live ``server`` of tests/conftest.py; ``new_page`` opens
more (two users at once); ``signed_in`` logs a page in through the real ``/login`` form;
``admin_page``, ``staff_page`` and ``federation_page`` are pages already signed in as municipality
A's admin, A's staff (on a phone) and the federation admin of ``world``. Every page fails its
test at teardown if the server answered ≥ 500, a script threw, or an ``alert`` dialog opened (an
escaping canary). Helpers: ``await check_axe(page)`` and ``await shot(page, name)``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Page, Playwright, Response, async_playwright

from tests.conftest import PASSWORD, Server, World
from tests.web.browser_setup import AXE_SCRIPT, BrowserSetupFailed, ensure_axe, ensure_chromium

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 15_000


def artifacts_dir() -> Path:
    """Where screenshots go: ``$SAMVERKA_ARTIFACTS`` or ``<repo>/artifacts``."""
    return Path(os.environ.get("SAMVERKA_ARTIFACTS") or ROOT / "artifacts")


# --- what every page watches ------------------------------------------------------------------


@dataclass
class PageWatch:
    """What went wrong on a page while a test drove it; checked when the page closes."""

    server_errors: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def on_response(self, response: Response) -> None:
        if response.status >= 500:
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def on_page_error(self, error: Exception) -> None:
        self.script_errors.append(str(error))

    async def on_dialog(self, dialog: Dialog) -> None:
        """Confirm dialogs (``hx-confirm``) are accepted; every dialog is recorded."""
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        await (dialog.accept() if dialog.type == "confirm" else dialog.dismiss())

    def problems(self) -> list[str]:
        alerts = [d for d in self.dialogs if d.startswith(("alert:", "prompt:"))]
        return ([f"server error: {e}" for e in self.server_errors]
                + [f"uncaught script error: {e}" for e in self.script_errors]
                + [f"unexpected dialog (unescaped script?): {d}" for d in alerts])


WATCHES: dict[int, PageWatch] = {}


def watch(page: Page) -> PageWatch:
    """Start watching a page's responses, uncaught script errors and dialogs."""
    seen = PageWatch()
    page.on("response", seen.on_response)
    page.on("pageerror", seen.on_page_error)
    page.on("dialog", seen.on_dialog)
    return seen


def watch_of(page: Page) -> PageWatch:
    """The watch of a page opened by these fixtures (its responses, script errors, dialogs)."""
    return WATCHES[id(page)]


# --- browser, contexts and pages --------------------------------------------------------------


@pytest.fixture(scope="session")
def browser_tools(request: pytest.FixtureRequest) -> tuple[Path, Path]:
    """Chromium and axe-core, installed on first use with the installers' progress shown live
    (past pytest's output capture); a clear failure (never a skip) when that is impossible."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    try:
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            return ensure_chromium(), ensure_axe()
    except BrowserSetupFailed as failure:
        pytest.fail(str(failure), pytrace=False)


@pytest.fixture(scope="session")
async def playwright_driver() -> AsyncIterator[Playwright]:
    async with async_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
async def browser(playwright_driver: Playwright, browser_tools: tuple[Path, Path]) -> AsyncIterator[Browser]:
    chromium, _ = browser_tools
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    launched = await playwright_driver.chromium.launch(executable_path=str(chromium), headless=True, args=args)
    yield launched
    await launched.close()


NewPage = Callable[..., Awaitable[Page]]


@pytest.fixture
async def new_page(browser: Browser, server: Server) -> AsyncIterator[NewPage]:
    """``await new_page(phone=False, lang=None)``: a page in a fresh context (own cookies) on the
    live server; closed, and its watch checked, after the test."""
    contexts: list[tuple[BrowserContext, Page]] = []

    async def open_page(*, phone: bool = False, lang: str | None = None) -> Page:
        options: dict[str, Any] = {"base_url": server.url, "locale": "sv-SE", "timezone_id": "Europe/Stockholm"}
        if phone:
            options |= {"viewport": PHONE, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
        else:
            options |= {"viewport": DESKTOP}
        context = await browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        if lang:
            await context.add_cookies([{"name": "lang", "value": lang, "url": server.url}])
        opened = await context.new_page()
        WATCHES[id(opened)] = watch(opened)
        contexts.append((context, opened))
        return opened

    yield open_page
    problems = []
    for context, opened in contexts:
        problems += WATCHES.pop(id(opened)).problems()
        await context.close()
    if problems:
        pytest.fail("the browser saw:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
async def page(new_page: NewPage) -> Page:
    """A desktop page (1280x800) in its own context, not signed in."""
    return await new_page()


@pytest.fixture
async def phone(new_page: NewPage) -> Page:
    """A phone page (390x844, touch) in its own context, not signed in."""
    return await new_page(phone=True)


# --- signing in -------------------------------------------------------------------------------


async def sign_in(page: Page, email: str, tenant_slug: str | None = None, password: str = PASSWORD) -> Page:
    """Log in through the real ``/login`` form, then make ``tenant_slug`` the active municipality
    through ``/web/choose`` when given. Fails the test if the login form comes back."""
    await page.goto("/login")
    await page.locator("input[name=email]").fill(email)
    await page.locator("input[name=password]").fill(password)
    async with page.expect_navigation():
        await page.locator("form:has(input[name=password]) [type=submit]").click()
    if re.search(r"/login(\?|$)", page.url):
        pytest.fail(f"signing in as {email} failed: still on {page.url}", pytrace=False)
    if tenant_slug is not None:
        await choose_municipality(page, tenant_slug)
    return page


async def choose_municipality(page: Page, tenant_slug: str) -> None:
    """Pick the active municipality on ``/web/choose`` (a submit button or link per slug)."""
    await page.goto("/web/choose")
    control = page.locator(f"form:has([value='{tenant_slug}']) [type=submit], a[href*='{tenant_slug}']")
    if await control.count() == 0:
        pytest.fail(f"/web/choose offers no municipality {tenant_slug!r}", pytrace=False)
    async with page.expect_navigation():
        await control.first.click()


SignIn = Callable[..., Awaitable[Page]]


@pytest.fixture
def signed_in() -> SignIn:
    """``await signed_in(page, email, tenant_slug=None)``: the page, logged in."""
    return sign_in


@pytest.fixture
async def admin_page(new_page: NewPage, world: World) -> Page:
    """Municipality A's tenant admin on a desktop page, A active."""
    return await sign_in(await new_page(), world.a.admin_email, world.a.slug)


@pytest.fixture
async def staff_page(new_page: NewPage, world: World) -> Page:
    """Municipality A's staff user on a phone, A active."""
    return await sign_in(await new_page(phone=True), world.a.staff_email, world.a.slug)


@pytest.fixture
async def federation_page(new_page: NewPage, world: World) -> Page:
    """The federation admin of ``world`` on a desktop page."""
    return await sign_in(await new_page(), world.federation_admin_email)


# --- accessibility and screenshots ------------------------------------------------------------


def describe_violation(violation: dict[str, Any]) -> str:
    """One violation as text: rule, impact, help, and each node's selector and HTML."""
    nodes = [(" ".join(map(str, node.get("target", []))), " ".join(str(node.get("html", "")).split())[:160])
             for node in violation.get("nodes", [])]
    return (f"{violation['id']} ({violation.get('impact')}): {violation.get('help')}\n"
            f"      {violation.get('helpUrl', '')}\n" + "".join(f"      at {t}: {h}\n" for t, h in nodes))


async def check_axe(page: Page, *, exclude: list[str] | None = None) -> dict[str, Any]:
    """Run axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now; fail listing every serious
    or critical violation; return axe's results for further asserts."""
    results = await axe_results(page, exclude=exclude)
    blocking = [v for v in results["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    if blocking:
        pytest.fail(f"axe found {len(blocking)} serious or critical violation(s) on {page.url}:\n  "
                    + "  ".join(describe_violation(v) for v in blocking), pytrace=False)
    return results


async def axe_results(page: Page, *, exclude: list[str] | None = None) -> dict[str, Any]:
    """axe-core's raw results for the page (injected through the DevTools protocol, so a strict
    Content-Security-Policy of the page does not block it)."""
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.evaluate(AXE_SCRIPT.read_text() + "\n;undefined")
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
    raw = await page.evaluate(
        "async ([context, options]) => JSON.stringify(await axe.run(context || document, options))",
        [context, options])
    results: dict[str, Any] = json.loads(raw)
    return results


async def shot(page: Page, name: str) -> Path:
    """A full-page screenshot as ``<artifacts>/screenshots/<name>.png``; returns its path."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") or "page"
    path = artifacts_dir() / "screenshots" / f"{safe}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(path), full_page=True)
    return path
