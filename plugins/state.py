"""Enable, disable and configure plugins per tenant; every change is audited.

Disabling keeps the plugin's data and configuration, so enabling again restores it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from backend.lib import Conflict, NotFound, ValidationFailed, utcnow
from plugins import config as plugin_config
from plugins.contract import Plugin
from plugins.registry import PluginRegistry
from tenants import audit
from tenants.access import Actor
from tenants.database import Scope
from tenants.tables import TenantPlugin


@dataclass(frozen=True)
class PluginState:
    plugin: Plugin
    enabled: bool
    config: dict[str, Any]
    secrets_set: tuple[str, ...]


def _json(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value or {})


async def _row(scope: Scope, plugin_id: str) -> dict[str, Any] | None:
    return await TenantPlugin.select().where(TenantPlugin.plugin_id == plugin_id).first()


async def enabled_ids(scope: Scope) -> frozenset[str]:
    rows = await TenantPlugin.select(TenantPlugin.plugin_id).where(TenantPlugin.enabled.eq(True))
    return frozenset(r["plugin_id"] for r in rows)


def _plugin(registry: PluginRegistry, plugin_id: str) -> Plugin:
    plugin = registry.get(plugin_id)
    if plugin is None:
        raise NotFound("Plugin", plugin_id)
    return plugin


async def states(scope: Scope, registry: PluginRegistry) -> list[PluginState]:
    rows = {r["plugin_id"]: r for r in await TenantPlugin.select()}
    return [_state(p, rows.get(p.id)) for p in registry]


def _state(plugin: Plugin, row: dict[str, Any] | None) -> PluginState:
    if row is None:
        return PluginState(plugin, False, {}, ())
    return PluginState(plugin, row["enabled"], _json(row["config"]), tuple(sorted(_json(row["secrets"]))))


async def _save(scope: Scope, plugin: Plugin, *, enabled: bool, valid: plugin_config.ValidConfig) -> None:
    values = {"enabled": enabled, "config": json.dumps(valid.public), "secrets": json.dumps(valid.secrets)}
    await scope.connection.execute(
        """INSERT INTO tenant_plugin (tenant_id, plugin_id, enabled, config, secrets, updated_at)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6)
           ON CONFLICT (tenant_id, plugin_id) DO UPDATE
           SET enabled = EXCLUDED.enabled, config = EXCLUDED.config, secrets = EXCLUDED.secrets,
               updated_at = EXCLUDED.updated_at""",
        scope.tenant,
        plugin.id,
        values["enabled"],
        values["config"],
        values["secrets"],
        utcnow(),
    )


async def enable(
    scope: Scope, registry: PluginRegistry, plugin_id: str, *, config: dict[str, Any] | None, actor: Actor
) -> PluginState:
    """Enable with the given configuration (or the stored one, when re-enabling)."""
    plugin = _plugin(registry, plugin_id)
    enabled = await enabled_ids(scope)
    missing = sorted(set(plugin.depends_on) - enabled)
    if missing:
        raise ValidationFailed.on("pluginId", f"Enable {', '.join(missing)} first: '{plugin_id}' depends on it.")
    row = await _row(scope, plugin_id)
    stored_public, stored_secrets = (_json(row["config"]), _json(row["secrets"])) if row else ({}, {})
    valid = plugin_config.validate(plugin.config, stored_public if config is None else config, stored_secrets)
    await _save(scope, plugin, enabled=True, valid=valid)
    await audit.record(
        scope,
        actor=actor,
        action="plugin.enabled",
        target_kind="plugin",
        target_id=plugin_id,
        details={"version": plugin.version, "config": valid.public, "secrets_set": sorted(valid.secrets)},
    )
    return _state(plugin, await _row(scope, plugin_id))


async def disable(scope: Scope, registry: PluginRegistry, plugin_id: str, *, actor: Actor) -> PluginState:
    plugin = _plugin(registry, plugin_id)
    row = await _row(scope, plugin_id)
    if row is None or not row["enabled"]:
        return _state(plugin, row)
    users = sorted(set(registry.dependents(plugin_id)) & await enabled_ids(scope))
    if users:
        raise Conflict(f"Disable {', '.join(users)} first: it depends on '{plugin_id}'.")
    await TenantPlugin.update({TenantPlugin.enabled: False, TenantPlugin.updated_at: utcnow()}).where(
        TenantPlugin.plugin_id == plugin_id
    )
    await audit.record(scope, actor=actor, action="plugin.disabled", target_kind="plugin", target_id=plugin_id)
    return _state(plugin, await _row(scope, plugin_id))


async def configure(
    scope: Scope, registry: PluginRegistry, plugin_id: str, *, config: dict[str, Any], actor: Actor
) -> PluginState:
    """Replace the public settings; secrets given are set, left out kept, given as null cleared."""
    plugin = _plugin(registry, plugin_id)
    row = await _row(scope, plugin_id)
    if row is None or not row["enabled"]:
        raise ValidationFailed.on("pluginId", f"Enable '{plugin_id}' before configuring it.")
    valid = plugin_config.validate(plugin.config, config, _json(row["secrets"]))
    await _save(scope, plugin, enabled=True, valid=valid)
    changed_secrets = (
        sorted(k for k in config if k in {f.name for f in plugin_config.describe(plugin.config) if f.secret})
        if plugin.config
        else []
    )
    await audit.record(
        scope,
        actor=actor,
        action="plugin.configured",
        target_kind="plugin",
        target_id=plugin_id,
        details={"config": valid.public, "secrets_changed": changed_secrets},
    )
    return _state(plugin, await _row(scope, plugin_id))


async def settings_of(scope: Scope, plugin: Plugin) -> Any:
    """The typed configuration, secrets included, for the plugin's own code in this tenant."""
    if plugin.config is None:
        return None
    row = await _row(scope, plugin.id)
    return plugin_config.load(plugin.config, _json(row["config"]) if row else {}, _json(row["secrets"]) if row else {})
