"""Finds plugins (built-ins in ``plugins/``, third-party ones through the ``samverka.plugins``
entry-point group), checks them, and refuses to start on a broken or conflicting one."""

from __future__ import annotations

import importlib
import importlib.metadata
import pkgutil
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from plugins.contract import Plugin

ENTRY_POINT_GROUP = "samverka.plugins"
PLUGIN_ID = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
CORE_PACKAGE = "samverka"


class PluginError(RuntimeError):
    """A plugin cannot be loaded; the message says which and what to do."""


def core_version() -> Version:
    try:
        return Version(importlib.metadata.version(CORE_PACKAGE))
    except importlib.metadata.PackageNotFoundError:
        return Version("0.1.0")


@dataclass(frozen=True)
class Found:
    plugin: Plugin
    name: str  # the package or entry-point name, which must equal the plugin id
    origin: str


def _builtin(wanted: set[str] | None) -> Iterator[Found]:
    """Packages under ``plugins/`` exporting ``PLUGIN``; the package name is the plugin id."""
    import plugins

    for module in pkgutil.iter_modules(plugins.__path__):
        if not module.ispkg or (wanted is not None and module.name not in wanted):
            continue
        name = f"plugins.{module.name}"
        try:
            plugin = getattr(importlib.import_module(name), "PLUGIN", None)
        except Exception as exc:  # a broken plugin must stop start-up with its name, not a bare trace
            raise PluginError(f"Built-in plugin package {name} failed to import: {exc!r}") from exc
        if plugin is not None:
            yield Found(plugin, module.name, name)


def _third_party(wanted: set[str] | None) -> Iterator[Found]:
    """Entry points of the ``samverka.plugins`` group; the entry point's name is the plugin id,
    so a selection loads only the plugins it names (a broken unselected one stays unloaded)."""
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if wanted is not None and ep.name not in wanted:
            continue
        origin = f"entry point '{ep.name} = {ep.value}' of {ep.dist.name if ep.dist else 'unknown'}"
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken distribution must stop start-up with its name
            raise PluginError(f"Plugin {origin} failed to load: {exc!r}. Fix or uninstall it.") from exc
        yield Found(plugin, ep.name, origin)


class PluginRegistry:
    """The plugins this process runs with, in dependency order."""

    def __init__(self, plugins: Iterable[Plugin]) -> None:
        self._plugins = {p.id: p for p in plugins}

    @classmethod
    def discover(cls, selection: str = "all", *, entry_points: bool = True) -> PluginRegistry:
        """``selection`` is ``all``, ``none`` or a comma-separated list of plugin ids."""
        if selection.strip() == "none":
            return cls([])
        wanted = None if selection.strip() in ("", "all") else {s.strip() for s in selection.split(",") if s.strip()}
        found: dict[str, Found] = {}
        sources = [_builtin(wanted), _third_party(wanted)] if entry_points else [_builtin(wanted)]
        for source in sources:
            for item in source:
                if not isinstance(item.plugin, Plugin):
                    raise PluginError(f"{item.origin} does not export a samverka Plugin (got {item.plugin!r}).")
                if not PLUGIN_ID.match(item.plugin.id):
                    raise PluginError(
                        f"Plugin id '{item.plugin.id}' is invalid ({item.origin}): "
                        "use 2-48 lower-case letters, digits and '_'."
                    )
                if item.plugin.id != item.name:
                    raise PluginError(
                        f"{item.origin} exports the plugin '{item.plugin.id}' under the name "
                        f"'{item.name}'; the name must be the plugin id."
                    )
                if item.plugin.id in found:
                    raise PluginError(
                        f"Two plugins claim the id '{item.plugin.id}': {found[item.plugin.id].origin} "
                        f"and {item.origin}. Uninstall one of them."
                    )
                found[item.plugin.id] = item
        if wanted is not None and (missing := wanted - set(found)):
            raise PluginError(f"SAMVERKA_PLUGINS names plugins that are not installed: {sorted(missing)}.")
        return cls(check({k: v.plugin for k, v in found.items()}))

    def __iter__(self) -> Iterator[Plugin]:
        return iter(self._plugins.values())

    def __len__(self) -> int:
        return len(self._plugins)

    def __contains__(self, plugin_id: object) -> bool:
        return plugin_id in self._plugins

    def get(self, plugin_id: str) -> Plugin | None:
        return self._plugins.get(plugin_id)

    def piccolo_apps(self) -> list[str]:
        return [p.piccolo_app for p in self if p.piccolo_app]

    def dependents(self, plugin_id: str) -> list[str]:
        return [p.id for p in self if plugin_id in p.depends_on]


def check(plugins: dict[str, Plugin]) -> list[Plugin]:
    """Validate ids, versions and dependencies; return the plugins dependencies-first."""
    core = core_version()
    for p in plugins.values():
        if not PLUGIN_ID.match(p.id):
            raise PluginError(f"Plugin id '{p.id}' is invalid: use 2-48 lower-case letters, digits and '_'.")
        try:
            Version(p.version)
            if core not in SpecifierSet(p.requires_core):
                raise PluginError(
                    f"Plugin '{p.id}' {p.version} needs Samverka {p.requires_core}; "
                    f"this is {core}. Upgrade one of them."
                )
        except (InvalidVersion, InvalidSpecifier) as exc:
            raise PluginError(f"Plugin '{p.id}' has an invalid version or requirement: {exc}") from exc
        for dep, spec in p.depends_on.items():
            if dep not in plugins:
                raise PluginError(
                    f"Plugin '{p.id}' needs plugin '{dep}' ({spec or 'any version'}), "
                    "which is not installed (or not selected in SAMVERKA_PLUGINS)."
                )
            try:
                ok = Version(plugins[dep].version) in SpecifierSet(spec)
            except InvalidSpecifier as exc:
                raise PluginError(f"Plugin '{p.id}' has an invalid requirement on '{dep}': {exc}") from exc
            if not ok:
                raise PluginError(f"Plugin '{p.id}' needs '{dep}' {spec}, but {plugins[dep].version} is installed.")
    return _ordered(plugins)


def _ordered(plugins: dict[str, Plugin]) -> list[Plugin]:
    ordered: list[Plugin] = []
    state: dict[str, str] = {}

    def visit(pid: str, path: tuple[str, ...]) -> None:
        if state.get(pid) == "done":
            return
        if state.get(pid) == "visiting":
            raise PluginError(f"Plugins depend on each other in a circle: {' -> '.join((*path, pid))}.")
        state[pid] = "visiting"
        for dep in plugins[pid].depends_on:
            visit(dep, (*path, pid))
        state[pid] = "done"
        ordered.append(plugins[pid])

    for pid in sorted(plugins):
        visit(pid, ())
    return ordered
