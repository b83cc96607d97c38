"""Who may do what through the plugin's GraphQL roots: set-up is for tenant admins; opening is
for staff; the log, its alarms and care recipients' details are for tenant admins and nurses.
No token may act here: these are people's actions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

import strawberry

from backend import plugin_api as api
from plugins.medicine_cabinets import service
from tenants.access import Actor

ADMINS = frozenset({api.Role.TENANT_ADMIN})
STAFF = frozenset({api.Role.TENANT_ADMIN, api.Role.STAFF})
NO_SCOPE = "medicine_cabinets:none"

T = TypeVar("T")


def parse_id(value: strawberry.ID, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(what, str(value)) from None


def maybe_id(value: strawberry.ID | None, what: str) -> UUID | None:
    return None if value is None else parse_id(value, what)


def admin(info: api.Info) -> UUID:
    return api.require_access(info, roles=ADMINS, scope=NO_SCOPE)


async def admin_or_nurse(info: api.Info) -> UUID:
    """Tenant admins, and staff with the nurse qualification."""
    tenant = api.require_access(info, roles=STAFF, scope=NO_SCOPE)
    principal = info.context.principal
    if api.Role.TENANT_ADMIN in principal.roles_in(tenant):
        return tenant
    async with api.database(info).tenant(tenant) as scope:
        if principal.actor.id is not None and await service.is_nurse(scope, principal.actor.id):
            return tenant
    raise api.PermissionDenied("Bara sjuksköterskor och administratörer. / Nurses and admins only.")


async def admin_change(info: api.Info, change: Callable[[api.Scope, Actor], Awaitable[T]]) -> T:
    """Run one set-up change in the signed-in tenant admin's municipality, as them."""
    tenant = admin(info)
    async with api.database(info).tenant(tenant) as scope:
        return await change(scope, info.context.principal.actor)
