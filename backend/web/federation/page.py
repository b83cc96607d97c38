"""What every federation page shares, the core's and those plugins contribute
(``WebPage(audience="federation")``): the sections at the top (members, the plugin matrix, then
each installed plugin's federation pages), amounts and hours in the reader's language, and the
year a report covers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.response import Template

from backend.lib import utcnow
from backend.services import Services
from backend.web.federation.formats import hours, number, sek
from backend.web.i18n import current_language, gettext
from backend.web.render import render
from backend.web.session import WebUser, require_federation_admin, services_of, web_user

FIRST_YEAR, LAST_YEAR = 2000, 2100
LOCAL = ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True)
class Section:
    href: str
    label: str


def sections(services: Services) -> list[Section]:
    """The core's federation pages, then the installed plugins' federation pages."""
    sv = current_language() == "sv"
    return [
        Section("/web/federation", gettext("Members")),
        Section("/web/federation/plugins", gettext("Plugins per member")),
        *(
            Section(page.href(plugin.id), page.title.sv if sv else page.title.en)
            for plugin in services.plugins
            for page in plugin.pages
            if page.audience == "federation"
        ),
    ]


async def federation_admin(request: Request[Any, Any, Any]) -> tuple[WebUser, Services]:
    """The signed-in federation administrator (the 403 page for anyone else) and the services."""
    user = await web_user(request)
    require_federation_admin(user)
    return user, services_of(request)


def federation_page(request: Request[Any, Any, Any], user: WebUser, template: str, **context: Any) -> Template:
    """``render`` with the federation's sections and the number, amount and hour formats."""
    services = services_of(request)
    return render(request, user, template, sections=sections(services), number=number, sek=sek, hours=hours, **context)


def report_year(value: str | None) -> int | None:
    """The year asked for, the current one when none is given; None when it is not a year."""
    if value is None or not value.strip():
        return utcnow().astimezone(LOCAL).year
    text = value.strip()
    if not re.fullmatch(r"[0-9]{4}", text) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        return None
    return int(text)


def year_errors() -> dict[str, list[str]]:
    """The form's message for a year that is not one."""
    return {"year": [gettext("Give a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)]}


__all__ = ["Section", "federation_admin", "federation_page", "report_year", "sections", "year_errors"]
