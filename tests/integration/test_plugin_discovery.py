"""A broken or conflicting third-party plugin stops every command with its name and what is wrong.

Each test installs a fake distribution into a temporary directory put on ``PYTHONPATH``, so the real
``importlib.metadata`` entry-point discovery finds it beside the installed example plugin, and the
venv is never touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_HEADER = "from plugins.contract import Name, Plugin\n"


def fake_distribution(where: Path, module_source: str, *, target: str = "broken_mod:PLUGIN",
                      name: str = "broken") -> Path:
    """A distribution 'broken-plugin' whose entry point ``broken`` points at ``target`` in broken_mod.py."""
    dist = where / "broken_plugin-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[samverka.plugins]\n{name} = {target}\n")
    (where / "broken_mod.py").write_text(textwrap.dedent(module_source))
    return where


def a_plugin(**fields: str) -> str:
    """Source of a module exporting a well-formed Plugin, with ``fields`` given as Python expressions."""
    values = {"id": "'broken'", "version": "'1.0.0'", "name": "Name(sv='Trasig', en='Broken')",
              "description": "Name(sv='Trasig.', en='Broken.')", **fields}
    return PLUGIN_HEADER + "PLUGIN = Plugin(" + ", ".join(f"{k}={v}" for k, v in values.items()) + ")\n"


def samverka(settings: Settings, extra_path: Path, *args: str,
             plugins: str = "all") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.child_environment(), "SAMVERKA_PLUGINS": plugins,
           "PYTHONPATH": os.pathsep.join(p for p in (str(extra_path), os.environ.get("PYTHONPATH", "")) if p)}
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """The error text of a command that must have refused to start (and must not have run)."""
    assert result.returncode != 0, f"the command ran despite the broken plugin:\n{result.stdout}"
    assert "enabled in:" not in result.stdout and "Migrations applied." not in result.stdout
    assert "Traceback" not in result.stderr, "a plugin error is a message for the operator, not a trace"
    assert "SAMVERKA_PLUGINS" in result.stderr, "the refusal says how to choose plugins"
    return result.stderr


def test_the_fake_distribution_is_found_by_real_entry_point_discovery(settings: Settings, tmp_path: Path) -> None:
    """Guards the other tests: a well-formed plugin in the fake distribution is listed next to the example."""
    path = fake_distribution(tmp_path, a_plugin())
    result = samverka(settings, path, "plugins", "list")
    assert result.returncode == 0, result.stderr
    listed = [line.split()[0] for line in result.stdout.splitlines() if line and not line[0].isspace()]
    assert {"broken", "notices", "notices_digest"} <= set(listed)
    assert "Trasig / Broken" in result.stdout


def test_a_plugin_that_fails_to_import_is_named_with_its_error(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, "raise RuntimeError('the vendor forgot a file')\n")
    error = refused(samverka(settings, path, "plugins", "list"))
    assert "entry point 'broken = broken_mod:PLUGIN' of broken-plugin failed to load" in error
    assert "the vendor forgot a file" in error and "Fix or uninstall it" in error


def test_an_entry_point_to_a_missing_attribute_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, "PLUGIN = None\n", target="broken_mod:NO_SUCH_NAME")
    error = refused(samverka(settings, path, "plugins", "list"))
    assert "'broken = broken_mod:NO_SUCH_NAME' of broken-plugin failed to load" in error
    assert "NO_SUCH_NAME" in error


def test_an_entry_point_that_is_not_a_plugin_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, "PLUGIN = {'id': 'broken'}\n")
    error = refused(samverka(settings, path, "plugins", "list"))
    assert "'broken = broken_mod:PLUGIN' of broken-plugin does not export a samverka Plugin" in error
    assert "{'id': 'broken'}" in error


def test_a_plugin_claiming_an_installed_plugins_id_is_refused_naming_both(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, a_plugin(id="'notices'"), name="notices")
    error = refused(samverka(settings, path, "migrate"))
    assert "Two plugins claim the id 'notices'" in error
    assert "of broken-plugin" in error and "of samverka-example-plugin" in error
    assert "Uninstall one of them" in error


def test_a_plugin_published_under_another_name_than_its_id_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, a_plugin(id="'vagbok'"))
    error = refused(samverka(settings, path, "plugins", "list"))
    assert "exports the plugin 'vagbok' under the name 'broken'; the name must be the plugin id" in error


def test_choosing_plugins_leaves_a_broken_unchosen_one_unloaded(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, "raise ImportError('the vendor forgot a file')\n")
    result = samverka(settings, path, "plugins", "list", plugins="notices")
    assert result.returncode == 0, result.stderr
    assert "notices" in result.stdout and "broken" not in result.stdout


def test_a_plugin_whose_dependency_is_not_installed_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, a_plugin(depends_on="{'vagbok': '>=2'}"))
    error = refused(samverka(settings, path, "plugins", "list"))
    assert "Plugin 'broken' needs plugin 'vagbok' (>=2), which is not installed" in error


def test_a_plugin_needing_a_newer_version_of_an_installed_plugin_is_refused(settings: Settings,
                                                                            tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, a_plugin(depends_on="{'notices': '>=2'}"))
    error = refused(samverka(settings, path, "plugins", "list"))
    assert "Plugin 'broken' needs 'notices' >=2, but 1.0.0 is installed" in error


def test_a_plugin_needing_a_newer_core_is_refused(settings: Settings, tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, a_plugin(requires_core="'>=99'"))
    error = refused(samverka(settings, path, "migrate"))
    assert "Plugin 'broken' 1.0.0 needs Samverka >=99; this is 0.1.0" in error


@pytest.mark.parametrize(("fields", "expected"), [
    ({"requires_core": "'at least one'"}, "Plugin 'broken' has an invalid version or requirement"),
    ({"version": "'one point oh'"}, "Plugin 'broken' has an invalid version or requirement"),
    ({"id": "'Broken-Plugin'"}, "Plugin id 'Broken-Plugin' is invalid"),
])
def test_a_plugin_with_a_malformed_id_or_version_is_refused(settings: Settings, tmp_path: Path,
                                                           fields: dict[str, str], expected: str) -> None:
    path = fake_distribution(tmp_path, a_plugin(**fields))
    assert expected in refused(samverka(settings, path, "plugins", "list"))


def test_with_samverka_plugins_none_a_broken_plugin_does_not_stop_the_core(settings: Settings,
                                                                          tmp_path: Path) -> None:
    path = fake_distribution(tmp_path, "raise RuntimeError('the vendor forgot a file')\n")
    assert samverka(settings, path, "plugins", "list").returncode != 0  # the same environment, all plugins
    result = samverka(settings, path, "plugins", "list", plugins="none")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No plugins installed."
    migrated = samverka(settings, path, "migrate", plugins="none")
    assert migrated.returncode == 0, migrated.stderr
    assert "Migrations applied." in migrated.stdout
