"""The web UI with zero plugins (as with SAMVERKA_PLUGINS=none): the app builds, and the staff and
federation homes render with nothing contributed, no plugin's pages mounted or linked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from backend.settings import Settings
from tests.conftest import PASSWORD, World, _wait_until_up, free_port

CSRF_INPUT = re.compile(r'name="_csrf_token" value="([^"]+)"')
PLUGIN_PATHS = ("/web/plugins/lockers/open", "/web/plugins/deliveries/pickups", "/web/plugins/fault_reports/report",
                "/web/federation/deliveries/savings", "/web/federation/procurement/costs")


@pytest.fixture
def bare_server(settings: Settings) -> Iterator[str]:
    """``samverka serve`` on this run's servers with SAMVERKA_PLUGINS=none; its address."""
    port = free_port()
    env = {**os.environ, **settings.child_environment(), "SAMVERKA_PORT": str(port), "SAMVERKA_PLUGINS": "none",
           "SAMVERKA_RATE_LIMIT_PER_MINUTE": str(settings.rate_limit_per_minute)}
    process = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve"], env=env)
    url = f"http://{settings.host}:{port}"
    try:
        _wait_until_up(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def bare(bare_server: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=bare_server, timeout=30) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, email: str) -> None:
    client.cookies.clear()
    found = CSRF_INPUT.search((await client.get("/login")).text)
    assert found, "no CSRF field on /login"
    response = await client.post("/login", data={"email": email, "password": PASSWORD, "next": "",
                                                 "_csrf_token": found.group(1)})
    assert response.status_code == 303, response.text


async def test_with_zero_plugins_the_staff_home_renders_with_nothing_contributed(
    bare: httpx.AsyncClient, world: World
) -> None:
    await sign_in(bare, world.a.staff_email)
    home = await bare.get("/web/staff")
    assert home.status_code == 200, home.text
    assert "<h1>Mitt arbete</h1>" in home.text and "Inget att visa." in home.text
    assert "/web/plugins/" not in home.text
    for path in PLUGIN_PATHS:
        assert (await bare.get(path)).status_code == 404, path


async def test_with_zero_plugins_the_federation_home_renders_with_only_the_cores_sections(
    bare: httpx.AsyncClient, world: World
) -> None:
    await sign_in(bare, world.federation_admin_email)
    home = await bare.get("/web/federation")
    assert home.status_code == 200, home.text
    assert "Medlemskommuner" in home.text and f"Kommun A {world.a.slug[2:]}" in home.text
    sections = re.search(r'<nav aria-label="Förbundet">(.*?)</nav>', home.text, re.S)
    assert sections, "the federation's sections are missing"
    assert re.findall(r'href="([^"]+)"', sections.group(1)) == ["/web/federation", "/web/federation/plugins"]
    matrix = await bare.get("/web/federation/plugins")
    assert matrix.status_code == 200 and "data-plugin=" not in matrix.text
    for path in PLUGIN_PATHS:
        assert (await bare.get(path)).status_code == 404, path
