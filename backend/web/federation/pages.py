"""The federation's own pages (``/web/federation/...``), for its administrators only (anyone else
gets the 403 page): the members and the plugins each member uses. Plugins add their own pages
(``WebPage(audience="federation")``, e.g. cost and savings), listed in the sections of every
federation page."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from backend.web.federation import members
from backend.web.federation.page import federation_admin, federation_page
from backend.web.i18n import current_language
from backend.web.session import require_federation_admin


@get("/web/federation", name="federation_members")
async def members_page(request: Request[Any, Any, Any]) -> Template:
    user, services = await federation_admin(request)
    found = await members.members(services.db, services.plugins, require_federation_admin(user))
    return federation_page(request, user, "federation/members.html", members=found)


@get("/web/federation/plugins", name="federation_plugins")
async def plugins_page(request: Request[Any, Any, Any]) -> Template:
    user, services = await federation_admin(request)
    found = await members.members(services.db, services.plugins, require_federation_admin(user))
    sv = current_language() == "sv"
    columns = [(p.id, p.name.sv if sv else p.name.en) for p in members.plugin_columns(services.plugins)]
    counts = {pid: sum(pid in m.enabled for m in found) for pid, _ in columns}
    return federation_page(request, user, "federation/plugins.html", members=found, columns=columns, counts=counts)


ROUTES = [members_page, plugins_page]

__all__ = ["ROUTES"]
