"""Who may use the administration pages, and the small pieces every one of its forms shares.

Tenant admins of the active municipality (and federation admins, who hold every role in their
members) pass; anyone else gets the 403 page. Each section then asks the kernel's ``require`` for
its permission, exactly as the GraphQL resolvers do, and acts in the tenant it returns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Request

from backend.lib import FieldError, NotFound, PageRequest
from backend.services import Services
from backend.web.formats import local_datetime
from backend.web.i18n import N_, current_language, gettext
from backend.web.session import WebUser, require_tenant_role, services_of, web_user
from plugins.contract import Name
from tenants.access import Permission, Role, require

PAGE_SIZE = 25
ROLE_LABELS = {
    Role.TENANT_ADMIN: N_("Administrator"),
    Role.STAFF: N_("Staff"),
    Role.INTEGRATOR: N_("Integrator"),
    Role.FEDERATION_ADMIN: N_("Federation administrator"),
}


@dataclass(frozen=True)
class Admin:
    """The signed-in administrator of one request, the tenant the permission was checked in."""

    user: WebUser
    services: Services
    tenant_id: UUID


async def admin_for(request: Request[Any, Any, Any], permission: Permission) -> Admin:
    """The administrator, once they are a tenant admin here and hold ``permission``."""
    user = await web_user(request)
    require_tenant_role(user, {Role.TENANT_ADMIN})
    return Admin(user, services_of(request), require(user.principal, permission))


def field_errors(fields: list[FieldError]) -> dict[str, list[str]]:
    """The kernel's field errors by field name, in the user's language."""
    result: dict[str, list[str]] = {}
    for problem in fields:
        result.setdefault(problem.field, []).append(gettext(problem.message))
    return result


async def form_data(request: Request[Any, Any, Any]) -> dict[str, str]:
    """A posted form's single values as text (files and repeated keys are not used here)."""
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def page_request(after: str | None) -> PageRequest:
    return PageRequest(first=PAGE_SIZE, after=after or None)


def parse_id(value: str, kind: str) -> UUID:
    """An id from the address; a malformed one is "not found", as any id that is not yours."""
    try:
        return UUID(value)
    except ValueError:
        raise NotFound(kind, value) from None


def role_label(role: Role | str) -> str:
    """A role in words; a value that names no role is shown as it is."""
    try:
        return gettext(ROLE_LABELS[Role(role)])
    except (ValueError, KeyError):
        return str(role)


def text_of(name: Name) -> str:
    """A plugin's name or description in the user's language."""
    return name.sv if current_language() == "sv" else name.en


def local_time(moment: datetime | None) -> str:
    """A moment in Swedish local time as the reader's language writes it; nothing for no moment."""
    return "" if moment is None else local_datetime(moment)


__all__ = [
    "PAGE_SIZE",
    "Admin",
    "admin_for",
    "field_errors",
    "form_data",
    "local_time",
    "page_request",
    "parse_id",
    "role_label",
    "text_of",
]
