"""Who may use the staff pages: staff and tenant admins of the active municipality. Plugins'
staff pages (``WebPage(audience="staff")``) use :func:`staff` too; the foundation's guard has
already refused them (404) where the plugin is not enabled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request

from backend.services import Services
from backend.web.session import WebUser, require_tenant_role, services_of, web_user
from tenants.access import Role

STAFF_ROLES = frozenset({Role.STAFF, Role.TENANT_ADMIN})


@dataclass(frozen=True)
class StaffContext:
    user: WebUser
    tenant: UUID
    services: Services


def available(services: Services, user: WebUser, plugin_id: str) -> bool:
    """Whether a plugin is installed here and enabled in the user's active municipality (to link
    to its pages only where they exist)."""
    return services.plugins.get(plugin_id) is not None and plugin_id in user.enabled_plugins


async def staff(request: Request[Any, Any, Any]) -> StaffContext:
    """The signed-in staff member (or tenant admin) and their municipality (the 403 page otherwise)."""
    user = await web_user(request)
    tenant = require_tenant_role(user, STAFF_ROLES)
    return StaffContext(user, tenant, services_of(request))
