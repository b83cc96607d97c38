"""Who may use the staff pages: staff and tenant admins of the active municipality, and only for
plugins that are installed here and enabled there (otherwise the page does not exist: 404)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request

from backend.lib import NotFound
from backend.services import Services
from backend.web.session import WebUser, require_tenant_role, services_of, web_user
from tenants.access import Role

STAFF_ROLES = frozenset({Role.STAFF, Role.TENANT_ADMIN})
LOCKERS, DELIVERIES, FAULT_REPORTS = "lockers", "deliveries", "fault_reports"


@dataclass(frozen=True)
class StaffContext:
    user: WebUser
    tenant: UUID
    services: Services


def available(services: Services, user: WebUser, plugin_id: str) -> bool:
    return services.plugins.get(plugin_id) is not None and plugin_id in user.enabled_plugins


async def staff(request: Request[Any, Any, Any], plugin_id: str | None = None) -> StaffContext:
    """The signed-in staff member (or tenant admin) and their municipality; with ``plugin_id``,
    only where that plugin is enabled."""
    user = await web_user(request)
    tenant = require_tenant_role(user, STAFF_ROLES)
    services = services_of(request)
    if plugin_id is not None and not available(services, user, plugin_id):
        raise NotFound("Page", request.url.path)
    return StaffContext(user, tenant, services)
