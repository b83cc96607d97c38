"""The public API that plugins build on; nothing else of ``backend`` is theirs to import.

GraphQL: the context type, resolver decorators typed for mypy (``field``, ``mutation``,
``subscription``), result unions with the standard errors
(``Annotated[X | Errors, strawberry.union("XResult")]``), Relay connections. Access: the
tenant a request acts in, checked against roles (people) or scopes (integrator tokens).
Config: the plugin's typed per-tenant settings. Worker: the ``Runtime`` a consumer gets.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from backend.graphql.context import Context, Info
from backend.graphql.decorators import field, mutation, subscription
from backend.graphql.errors import ERROR_TYPES, Error, Errors, errors_as_data
from backend.graphql.relay import Connection, connection
from backend.graphql.results import result_union
from backend.graphql.streams import authorized_stream
from backend.jobs.runtime import Runtime
from backend.lib import (
    Conflict,
    NotFound,
    Page,
    PageRequest,
    PermissionDenied,
    PluginNotEnabled,
    ValidationFailed,
)
from backend.live import channel
from plugins.contract import Plugin
from plugins.state import enabled_ids, settings_of
from tenants.access import Principal, Role, require_tenant
from tenants.database import Database, Scope


def require_access(info: Info, *, roles: frozenset[Role], scope: str) -> UUID:
    """The tenant to act in, once a person holds one of ``roles`` there or a token holds ``scope``."""
    return check_access(info.context.principal, roles=roles, scope=scope)


def check_access(principal: Principal, *, roles: frozenset[Role], scope: str) -> UUID:
    tenant_id = require_tenant(principal)
    if principal.actor.kind == "token":
        if scope in principal.token_scopes and tenant_id == principal.token_tenant_id:
            return tenant_id
        raise PermissionDenied(f"This needs an API token with the scope '{scope}'.")
    if principal.roles_in(tenant_id) & (roles | {Role.FEDERATION_ADMIN}):
        return tenant_id
    raise PermissionDenied(f"This needs one of the roles {sorted(r.value for r in roles)} in this municipality.")


def database(info: Info) -> Database:
    return info.context.services.db


def redis(info: Info) -> Redis:
    """The web process's Redis client (streams, pub/sub); the worker's is ``Runtime.redis``."""
    return info.context.services.redis


def live_channel(tenant_id: UUID, topic: str) -> str:
    """The pub/sub channel that ``subscribe(..., topic)`` listens on, for publishing from the worker."""
    return channel(tenant_id, topic)


async def enqueue(info: Info, actor_name: str, *args: Any) -> str:
    return await info.context.services.jobs.enqueue(actor_name, *args)


async def publish(info: Info, tenant_id: UUID, topic: str, payload: str) -> None:
    await info.context.services.redis.publish(channel(tenant_id, topic), payload)


async def subscribe(
    info: Info, plugin_id: str, topic: str, *, roles: frozenset[Role], scope: str
) -> AsyncIterator[bytes]:
    """Payloads published on this tenant's ``topic``; each is delivered only while the caller
    still has access and the plugin is still enabled here."""
    context = info.context
    tenant_id = check_access(context.principal, roles=roles, scope=scope)

    def still_allowed(principal: Principal) -> None:
        check_access(principal, roles=roles, scope=scope)

    async for payload in authorized_stream(context, channel(tenant_id, topic), still_allowed):
        async with context.services.db.tenant(tenant_id) as tx:
            if plugin_id not in await enabled_ids(tx):
                raise PluginNotEnabled(f"The plugin '{plugin_id}' was disabled in this municipality.")
        yield payload


async def plugin_settings(scope: Scope, plugin: Plugin) -> Any:
    return await settings_of(scope, plugin)


async def plugin_enabled(scope: Scope, plugin_id: str) -> bool:
    """Whether this tenant enabled the plugin: for work that GraphQL's guard does not cover (a consumer)."""
    return plugin_id in await enabled_ids(scope)


__all__ = [
    "ERROR_TYPES",
    "Conflict",
    "Connection",
    "Context",
    "Error",
    "Errors",
    "Info",
    "NotFound",
    "Page",
    "PageRequest",
    "PermissionDenied",
    "Role",
    "Runtime",
    "Scope",
    "ValidationFailed",
    "check_access",
    "connection",
    "database",
    "enqueue",
    "errors_as_data",
    "field",
    "live_channel",
    "mutation",
    "plugin_enabled",
    "plugin_settings",
    "publish",
    "redis",
    "require_access",
    "result_union",
    "subscribe",
    "subscription",
]


# --- Notifications: outbox, webhooks and delivery log (docs/adr/0008-notifications.md) -----------
from backend.graphql.notifications import (  # noqa: E402  # the endpoint results, for organisations' own roots
    WebhookEndpointDeleted,
    WebhookEndpointSet,
    WebhookSecretRotated,
)
from backend.notifications import (  # noqa: E402  # appended block, kept apart from others' additions
    AttemptRecord,
    HasJobs,
    Notification,
    NotificationAttempt,
    NotificationRecord,
    WebhookEndpoint,
    delete_federation_endpoint,
    dispatch_after_commit,
    erase_notifications,
    federation_webhook,
    get_federation_endpoint,
    integrator_id,
    log_for,
    notify,
    rotate_federation_secret,
    set_federation_endpoint,
    verify_signature,
    webhook,
)

__all__ += [
    "AttemptRecord",
    "HasJobs",
    "Notification",
    "NotificationAttempt",
    "NotificationRecord",
    "WebhookEndpoint",
    "WebhookEndpointDeleted",
    "WebhookEndpointSet",
    "WebhookSecretRotated",
    "delete_federation_endpoint",
    "dispatch_after_commit",
    "erase_notifications",
    "federation_webhook",
    "get_federation_endpoint",
    "integrator_id",
    "log_for",
    "notify",
    "rotate_federation_secret",
    "set_federation_endpoint",
    "verify_signature",
    "webhook",
]
# --- end of notifications ------------------------------------------------------------------------
