"""Who may use the lockers' pages (staff and tenant admins, as the API's readers) and where they live."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request

from backend.services import Services
from backend.web.session import WebUser, require_tenant_role, services_of, web_user
from plugins.lockers.access import STAFF

ROOT = "/web/plugins/lockers"


async def reader(request: Request[Any, Any, Any]) -> tuple[WebUser, UUID, Services]:
    """The user and the active municipality, once they are staff or a tenant admin there."""
    user = await web_user(request)
    return user, require_tenant_role(user, STAFF), services_of(request)
