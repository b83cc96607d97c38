"""Plugins of the active municipality: enable, disable, and settings from each plugin's schema.

The state changes are ``plugins.state.enable`` / ``disable`` / ``configure``, the services of the
GraphQL mutations ``enablePlugin``, ``disablePlugin`` and ``configurePlugin`` (which validate with
``plugins.config`` and audit). Secret settings are write-only: the page says whether one is set.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post

from backend.lib import Conflict, NotFound, ValidationFailed
from backend.web.admin.access import Admin, admin_for, form_data, text_of
from backend.web.admin.plugin_form import CONFIG_PREFIX, config_from_form, form_fields, setting_errors
from backend.web.i18n import gettext
from backend.web.render import redirect, render
from plugins import state
from plugins.config import ConfigField, describe
from plugins.contract import Plugin
from tenants.access import Permission


def _schema(plugin: Plugin) -> list[ConfigField]:
    return describe(plugin.config) if plugin.config else []


def _names(admin: Admin, plugin_ids: list[str]) -> str:
    found = (admin.services.plugins.get(pid) for pid in plugin_ids)
    return ", ".join(text_of(p.name) if p else pid for p, pid in zip(found, plugin_ids, strict=True))


async def _state(admin: Admin, plugin_id: str) -> state.PluginState:
    """The plugin's state here; an id that is not installed is "not found", as in the API."""
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        states = await state.states(scope, admin.services.plugins)
    found = next((s for s in states if s.plugin.id == plugin_id), None)
    if found is None:
        raise NotFound("Plugin", plugin_id)
    return found


async def _enabled(admin: Admin) -> frozenset[str]:
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        return await state.enabled_ids(scope)


@get("/web/admin/plugins", name="admin_plugins")
async def plugins_page(request: Request[Any, Any, Any]) -> Response[Any]:
    admin = await admin_for(request, Permission.PLUGINS_MANAGE)
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        states = await state.states(scope, admin.services.plugins)
    rows = [
        {
            "state": s,
            "name": text_of(s.plugin.name),
            "description": text_of(s.plugin.description),
            "depends_on": _names(admin, sorted(s.plugin.depends_on)),
            "settings": len(_schema(s.plugin)),
        }
        for s in states
    ]
    return render(request, admin.user, "admin/plugins.html", rows=rows)


def _plugin_page(
    request: Request[Any, Any, Any],
    admin: Admin,
    current: state.PluginState,
    *,
    submitted: dict[str, str] | None = None,
    errors: dict[str, list[str]] | None = None,
    problems: list[str] | None = None,
    status: int = 200,
) -> Response[Any]:
    plugin = current.plugin
    fields = form_fields(_schema(plugin), current.config, current.secrets_set, submitted=submitted, errors=errors)
    return render(
        request,
        admin.user,
        "admin/plugin.html",
        status_code=status,
        current=current,
        name=text_of(plugin.name),
        description=text_of(plugin.description),
        depends_on=_names(admin, sorted(plugin.depends_on)),
        dependents=_names(admin, sorted(admin.services.plugins.dependents(plugin.id))),
        fields=fields,
        errors={f.input_name: list(f.errors) for f in fields if f.errors},
        problems=problems or [],
    )


@get("/web/admin/plugins/{plugin_id:str}", name="admin_plugin")
async def plugin_page(request: Request[Any, Any, Any], plugin_id: str) -> Response[Any]:
    admin = await admin_for(request, Permission.PLUGINS_MANAGE)
    return _plugin_page(request, admin, await _state(admin, plugin_id))


async def _refused(
    request: Request[Any, Any, Any], admin: Admin, plugin_id: str, exc: ValidationFailed, form: dict[str, str] | None
) -> Response[Any]:
    """The settings page again, each problem on its field; what was typed is kept (secrets never)."""
    by_setting, other = setting_errors(exc.fields)
    current = await _state(admin, plugin_id)
    if any(f.field == "pluginId" for f in exc.fields):
        missing = sorted(set(current.plugin.depends_on) - await _enabled(admin))
        other = [
            gettext("Enable %(names)s first: this plugin needs it.", names=_names(admin, missing))
            if missing
            else gettext("Enable the plugin before changing its settings.")
        ]
    elif form is None and by_setting:
        other = [gettext("Fill in the settings below to enable the plugin."), *other]
    return _plugin_page(request, admin, current, submitted=form, errors=by_setting, problems=other, status=400)


@post("/web/admin/plugins/{plugin_id:str}/enable", name="admin_plugin_enable")
async def enable_submit(request: Request[Any, Any, Any], plugin_id: str) -> Response[Any]:
    """Enable with the settings of the form, or (from the list) with the stored or default ones."""
    admin = await admin_for(request, Permission.PLUGINS_MANAGE)
    plugin = (await _state(admin, plugin_id)).plugin
    form = await form_data(request)
    with_settings = any(key.startswith(CONFIG_PREFIX) for key in form) or form.get("with_settings") == "1"
    config = config_from_form(_schema(plugin), form) if with_settings else None
    try:
        async with admin.services.db.tenant(admin.tenant_id) as scope:
            await state.enable(
                scope, admin.services.plugins, plugin_id, config=config, actor=admin.user.principal.actor
            )
    except ValidationFailed as exc:
        return await _refused(request, admin, plugin_id, exc, form if with_settings else None)
    return redirect(
        request, f"/web/admin/plugins/{plugin_id}", flash=gettext("%(name)s is enabled.", name=text_of(plugin.name))
    )


@post("/web/admin/plugins/{plugin_id:str}/configure", name="admin_plugin_configure")
async def configure_submit(request: Request[Any, Any, Any], plugin_id: str) -> Response[Any]:
    admin = await admin_for(request, Permission.PLUGINS_MANAGE)
    plugin = (await _state(admin, plugin_id)).plugin
    form = await form_data(request)
    try:
        async with admin.services.db.tenant(admin.tenant_id) as scope:
            config = config_from_form(_schema(plugin), form)
            await state.configure(
                scope, admin.services.plugins, plugin_id, config=config, actor=admin.user.principal.actor
            )
    except ValidationFailed as exc:
        return await _refused(request, admin, plugin_id, exc, form)
    return redirect(
        request,
        f"/web/admin/plugins/{plugin_id}",
        flash=gettext("The settings of %(name)s are saved.", name=text_of(plugin.name)),
    )


@post("/web/admin/plugins/{plugin_id:str}/disable", name="admin_plugin_disable")
async def disable_submit(request: Request[Any, Any, Any], plugin_id: str) -> Response[Any]:
    """Disable here; its data and settings are kept for when it is enabled again."""
    admin = await admin_for(request, Permission.PLUGINS_MANAGE)
    plugin = (await _state(admin, plugin_id)).plugin
    try:
        async with admin.services.db.tenant(admin.tenant_id) as scope:
            await state.disable(scope, admin.services.plugins, plugin_id, actor=admin.user.principal.actor)
    except Conflict:
        users = sorted(set(admin.services.plugins.dependents(plugin_id)) & await _enabled(admin))
        text = gettext("Disable %(names)s first: it needs this plugin.", names=_names(admin, users))
        return redirect(request, "/web/admin/plugins", flash=text, kind="error")
    return redirect(
        request,
        "/web/admin/plugins",
        flash=gettext("%(name)s is disabled. Its data and settings are kept.", name=text_of(plugin.name)),
    )


ROUTES = [plugins_page, plugin_page, enable_submit, configure_submit, disable_submit]

__all__ = ["ROUTES"]
