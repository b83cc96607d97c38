"""The registry checks ids, versions and dependencies, and says clearly what is wrong."""

from __future__ import annotations

import pytest

from plugins.contract import Name, Plugin
from plugins.registry import PluginError, PluginRegistry, check

NAME = Name(sv="Test", en="Test")


def plugin(pid: str, version: str = "1.0.0", **kw: object) -> Plugin:
    return Plugin(id=pid, version=version, name=NAME, description=NAME, **kw)  # type: ignore[arg-type]


def test_plugins_come_out_dependencies_first() -> None:
    ordered = check({"b_x": plugin("b_x", depends_on={"a_x": ">=1"}), "a_x": plugin("a_x")})
    assert [p.id for p in ordered] == ["a_x", "b_x"]


def test_a_missing_dependency_is_refused_naming_both_plugins() -> None:
    with pytest.raises(PluginError, match="'lockers_x' needs plugin 'gateway_x'"):
        check({"lockers_x": plugin("lockers_x", depends_on={"gateway_x": ">=1"})})


def test_a_dependency_at_the_wrong_version_is_refused() -> None:
    with pytest.raises(PluginError, match=r"needs 'a_x' >=2, but 1\.0\.0 is installed"):
        check({"a_x": plugin("a_x"), "b_x": plugin("b_x", depends_on={"a_x": ">=2"})})


def test_a_circle_of_dependencies_is_refused() -> None:
    with pytest.raises(PluginError, match="circle"):
        check({"a_x": plugin("a_x", depends_on={"b_x": ""}), "b_x": plugin("b_x", depends_on={"a_x": ""})})


def test_a_plugin_for_another_core_version_is_refused() -> None:
    with pytest.raises(PluginError, match="needs Samverka >=9"):
        check({"a_x": plugin("a_x", requires_core=">=9")})


@pytest.mark.parametrize("bad", ["A", "x", "has-dash", "9lives"])
def test_an_invalid_plugin_id_is_refused(bad: str) -> None:
    with pytest.raises(PluginError, match="invalid"):
        check({bad: plugin(bad)})


def test_an_invalid_version_is_refused() -> None:
    with pytest.raises(PluginError, match="invalid version"):
        check({"a_x": plugin("a_x", version="one")})


def test_no_plugins_is_a_valid_selection() -> None:
    assert len(PluginRegistry.discover("none")) == 0


def test_the_installed_example_plugins_are_found_through_their_entry_points() -> None:
    registry = PluginRegistry.discover()
    assert {"notices", "notices_digest"} <= {p.id for p in registry}
    assert [p.id for p in registry].index("notices") < [p.id for p in registry].index("notices_digest")


def test_selecting_a_plugin_that_is_not_installed_is_refused() -> None:
    with pytest.raises(PluginError, match="not installed"):
        PluginRegistry.discover("no_such_plugin")


def test_selecting_a_plugin_without_its_dependency_is_refused() -> None:
    with pytest.raises(PluginError, match="needs plugin 'notices'"):
        PluginRegistry.discover("notices_digest")
