"""The browser harness itself: Chromium drives the live server, axe can fail, screenshots land."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page

from tests.conftest import World
from tests.web import browser_setup
from tests.web.conftest import artifacts_dir, axe_results, check_axe, shot, watch

BAD_PAGE = """<!doctype html><html><head></head><body>
<input type="text" name="unlabelled">
<p style="color:#bbb;background:#fff">Text far too pale to read</p>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
</body></html>"""


async def test_the_login_page_renders_is_accessible_and_is_photographed(page: Page) -> None:
    response = await page.goto("/login")
    assert response is not None and response.status == 200
    assert await page.locator("input[name=email]").count() == 1
    assert await page.locator("input[name=password]").count() == 1
    await check_axe(page)
    path = await shot(page, "harness-login")
    assert path.parent == artifacts_dir() / "screenshots" and path.stat().st_size > 0


async def test_the_login_page_fits_a_phone(phone: Page) -> None:
    await phone.goto("/login")
    width = await phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the login page scrolls sideways on a phone"
    await check_axe(phone)
    await shot(phone, "harness-login-phone")


async def test_axe_finds_the_violations_of_a_deliberately_bad_page(browser: Browser) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.set_content(BAD_PAGE)
    found = {v["id"]: v["impact"] for v in (await axe_results(page))["violations"]}
    assert {"label", "color-contrast", "image-alt", "html-has-lang"} <= set(found)
    with pytest.raises(pytest.fail.Exception) as failure:
        await check_axe(page)
    assert "label" in str(failure.value) and "color-contrast" in str(failure.value)
    assert "unlabelled" in str(failure.value), "the failure names the offending nodes"
    await context.close()


async def test_a_page_watch_reports_an_alert_and_a_script_error(browser: Browser) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    seen = watch(page)
    await page.set_content("<script>alert('xss')</script><script>null.boom()</script>")
    await page.wait_for_timeout(100)  # the dialog handler runs on its own task
    problems = "\n".join(seen.problems())
    assert "unexpected dialog (unescaped script?): alert: xss" in problems
    assert "uncaught script error" in problems
    await context.close()


def test_without_root_the_browser_setup_says_exactly_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(browser_setup, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setattr(browser_setup.os, "geteuid", lambda: 1000)
    with pytest.raises(browser_setup.BrowserSetupFailed, match="apt-get install -y --no-install-recommends chromium"):
        browser_setup.ensure_chromium()


async def test_the_signed_in_fixtures_work_in_the_chosen_municipality(
    admin_page: Page, staff_page: Page, federation_page: Page, world: World
) -> None:
    tag = world.a.slug.removeprefix("a-")
    for signed_in_page in (admin_page, staff_page):
        assert "/login" not in signed_in_page.url
        assert f"Kommun A {tag}" in await signed_in_page.locator("header").inner_text()
    assert "/login" not in federation_page.url
    await shot(admin_page, "harness-admin-start")
    await shot(staff_page, "harness-staff-start")
