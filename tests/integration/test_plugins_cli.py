"""`samverka plugins list` shows the installed plugins and the municipalities that enabled each."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from backend.settings import Settings
from plugins import state
from plugins.registry import PluginRegistry
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]


def plugins_list(settings: Settings) -> str:
    env = {**os.environ, **settings.child_environment()}
    result = subprocess.run([sys.executable, "-m", "backend.cli", "plugins", "list"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def entries(output: str) -> dict[str, tuple[str, list[str]]]:
    """Plugin id -> (its heading line, the slugs it is enabled in)."""
    found: dict[str, tuple[str, list[str]]] = {}
    lines = output.splitlines()
    for heading, users in zip(lines[::2], lines[1::2], strict=True):
        assert users.strip().startswith("enabled in:"), output
        slugs = users.split("enabled in:", 1)[1].strip()
        found[heading.split()[0]] = (heading, [] if slugs == "(no municipality)" else slugs.split(", "))
    return found


async def test_plugins_list_shows_each_installed_plugin_with_its_names_version_and_dependency(
    settings: Settings,
) -> None:
    listed = entries(plugins_list(settings))
    assert {"notices", "notices_digest"} <= set(listed)
    notices, _ = listed["notices"]
    assert "1.0.0" in notices and "Anslagstavla / Notice board" in notices and "needs" not in notices
    digest, _ = listed["notices_digest"]
    assert "Veckosammanfattning / Weekly digest" in digest
    assert digest.rstrip().endswith("needs notices >=1.0,<2")


async def test_plugins_list_names_the_municipalities_that_enabled_a_plugin_and_only_those(
    settings: Settings, db: Database, world: World
) -> None:
    registry = PluginRegistry.discover()
    before = entries(plugins_list(settings))
    assert world.a.slug not in before["notices"][1] and world.b.slug not in before["notices"][1]

    async with db.tenant(world.a.id) as scope:
        await state.enable(scope, registry, "notices", config={"signature": "Hemtjänsten"}, actor=Actor.system("test"))
    after = entries(plugins_list(settings))
    assert world.a.slug in after["notices"][1]
    assert world.b.slug not in after["notices"][1], "B did not enable the notice board"
    assert world.a.slug not in after["notices_digest"][1], "enabling notices does not enable what builds on it"
    assert after["notices"][1] == sorted(after["notices"][1]), "the slugs are listed in order"

    async with db.tenant(world.a.id) as scope:
        await state.disable(scope, registry, "notices", actor=Actor.system("test"))
    assert world.a.slug not in entries(plugins_list(settings))["notices"][1], "a disabled plugin is not listed"
