"""The staff start page, made for phones: the staff pages that the municipality's enabled plugins
contribute (``WebPage(audience="staff")``), in the registry's order. With none, it says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, get
from litestar.response import Template

from backend.services import Services
from backend.web.i18n import current_language
from backend.web.render import render
from backend.web.session import WebUser
from backend.web.staff.access import staff


@dataclass(frozen=True)
class StaffLink:
    href: str
    label: str


def staff_links(services: Services, user: WebUser) -> list[StaffLink]:
    """Every staff page of the plugins enabled in the user's active municipality."""
    sv = current_language() == "sv"
    return [
        StaffLink(page.href(plugin.id), page.title.sv if sv else page.title.en)
        for plugin in services.plugins
        if plugin.id in user.enabled_plugins
        for page in plugin.pages
        if page.audience == "staff" and page.shown_to(user.roles)
    ]


@get("/web/staff")
async def staff_home(request: Request[Any, Any, Any]) -> Template:
    ctx = await staff(request)
    return render(request, ctx.user, "staff/home.html", links=staff_links(ctx.services, ctx.user))
