"""Plugins in the GraphQL schema: their root types behind an enablement guard, and the
queries and mutations with which municipalities enable and configure them."""

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, cast

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.scalars import JSON
from strawberry.types.field import StrawberryField

from backend.graphql.context import Info
from backend.graphql.decorators import field, mutation
from backend.graphql.errors import Errors, error_value, errors_as_data
from backend.lib import PluginNotEnabled
from plugins import config as plugin_config
from plugins import state
from plugins.registry import PluginRegistry
from tenants.access import Permission, require, require_tenant


async def enabled_here(info: Info) -> frozenset[str]:
    """Plugins enabled in the request's municipality, read once per HTTP request."""
    context = info.context
    tenant = require_tenant(context.principal)
    if context.websocket is None and context.enabled_plugins is not None:
        return context.enabled_plugins
    async with context.services.db.tenant(tenant) as scope:
        enabled = await state.enabled_ids(scope)
    if context.websocket is None:
        context.enabled_plugins = enabled
    return enabled


class RequiresPlugin(FieldExtension):
    """Answers PLUGIN_NOT_ENABLED (as data for mutations) where the plugin is not enabled."""

    def __init__(self, plugin_id: str, *, as_data: bool) -> None:
        self.plugin_id = plugin_id
        self.as_data = as_data

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any) -> Any:
        if self.plugin_id not in await enabled_here(info):
            exc = PluginNotEnabled(
                f"The plugin '{self.plugin_id}' is not enabled in this municipality; "
                "a tenant admin can enable it (mutation enablePlugin)."
            )
            if self.as_data:
                return error_value(exc)
            raise exc
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result


def guarded(root: type, plugin_id: str, *, as_data: bool = False) -> type:
    """Put the guard on every field of a plugin's root type (once)."""
    for f in root.__strawberry_definition__.fields:  # type: ignore[attr-defined]  # set by @strawberry.type
        assert isinstance(f, StrawberryField)
        if not any(isinstance(e, RequiresPlugin) for e in f.extensions):
            f.extensions.append(RequiresPlugin(plugin_id, as_data=as_data))
    return root


def plugin_roots(registry: PluginRegistry) -> tuple[list[type], list[type], list[type], list[type]]:
    queries: list[type] = []
    mutations: list[type] = []
    subscriptions: list[type] = []
    types: list[type] = []
    for p in registry:
        if p.query:
            queries.append(guarded(p.query, p.id))
        if p.federation_query:
            queries.append(p.federation_query)
        if p.federation_mutation:
            mutations.append(p.federation_mutation)
        if p.mutation:
            mutations.append(guarded(p.mutation, p.id, as_data=True))
        if p.subscription:
            subscriptions.append(guarded(p.subscription, p.id))
        types.extend(p.types)
    return queries, mutations, subscriptions, types


@strawberry.type
class PluginName:
    sv: str
    en: str


@strawberry.type
class ConfigFieldInfo:
    name: str
    type: str
    required: bool
    secret: bool = strawberry.field(description="Write-only: set it, never read it back.")
    description: str
    default: JSON | None


@strawberry.type
class PluginInfo:
    id: str
    version: str
    name: PluginName
    description: PluginName
    depends_on: list[str]
    scopes: list[str]
    enabled: bool = strawberry.field(description="Enabled in the municipality of this request.")
    config: JSON = strawberry.field(description="The settings, secrets left out.")
    secrets_set: list[str] = strawberry.field(description="Names of the secret settings that have a value.")
    config_schema: list[ConfigFieldInfo]

    @classmethod
    def of(cls, s: state.PluginState) -> "PluginInfo":
        p = s.plugin
        schema = plugin_config.describe(p.config) if p.config else []
        return cls(
            id=p.id,
            version=p.version,
            name=PluginName(sv=p.name.sv, en=p.name.en),
            description=PluginName(sv=p.description.sv, en=p.description.en),
            depends_on=sorted(p.depends_on),
            scopes=sorted(p.scopes),
            enabled=s.enabled,
            config=JSON(s.config),
            secrets_set=list(s.secrets_set),
            config_schema=[
                ConfigFieldInfo(
                    name=f.name,
                    type=f.type,
                    required=f.required,
                    secret=f.secret,
                    description=f.description,
                    default=None if f.secret else f.default,
                )
                for f in schema
            ],
        )


def registry(info: Info) -> PluginRegistry:
    return info.context.services.plugins


@strawberry.type
class PluginQuery:
    @field(description="Installed plugins and their state in this municipality.")
    async def plugins(self, info: Info) -> list[PluginInfo]:
        tenant = require(info.context.principal, Permission.PLUGINS_MANAGE)
        async with info.context.services.db.tenant(tenant) as scope:
            return [PluginInfo.of(s) for s in await state.states(scope, registry(info))]


@strawberry.type
class PluginMutation:
    @mutation(description="Enable a plugin here, with its settings (or the ones kept from before).")
    @errors_as_data
    async def enable_plugin(
        self, info: Info, plugin_id: str, config: JSON | None = None
    ) -> Annotated[PluginInfo | Errors, strawberry.union("EnablePluginResult")]:
        p = info.context.principal
        tenant = require(p, Permission.PLUGINS_MANAGE)
        # JSON may be any value; plugin_config.validate refuses anything but an object.
        config_object = cast("dict[str, Any] | None", config)
        async with info.context.services.db.tenant(tenant) as scope:
            return PluginInfo.of(
                await state.enable(scope, registry(info), plugin_id, config=config_object, actor=p.actor)
            )

    @mutation(description="Disable a plugin here; its data and settings are kept.")
    @errors_as_data
    async def disable_plugin(
        self, info: Info, plugin_id: str
    ) -> Annotated[PluginInfo | Errors, strawberry.union("DisablePluginResult")]:
        p = info.context.principal
        tenant = require(p, Permission.PLUGINS_MANAGE)
        async with info.context.services.db.tenant(tenant) as scope:
            return PluginInfo.of(await state.disable(scope, registry(info), plugin_id, actor=p.actor))

    @mutation(description="Replace a plugin's settings; secrets left out are kept, null clears one.")
    @errors_as_data
    async def configure_plugin(
        self, info: Info, plugin_id: str, config: JSON
    ) -> Annotated[PluginInfo | Errors, strawberry.union("ConfigurePluginResult")]:
        p = info.context.principal
        tenant = require(p, Permission.PLUGINS_MANAGE)
        # JSON may be any value; plugin_config.validate refuses anything but an object.
        config_object = cast("dict[str, Any]", config)
        async with info.context.services.db.tenant(tenant) as scope:
            return PluginInfo.of(
                await state.configure(scope, registry(info), plugin_id, config=config_object, actor=p.actor)
            )
