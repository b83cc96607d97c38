"""The federation's pages (``/web/federation/...``), for its administrators only (anyone else
gets the 403 page): the members, the plugins each member uses, and each member's cost and
savings with charts and the same numbers in tables."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, get
from litestar.response import Template

from backend.lib import utcnow
from backend.services import Services
from backend.web.federation import costs, members, savings
from backend.web.federation.formats import hours, number, sek
from backend.web.i18n import current_language, gettext
from backend.web.render import render
from backend.web.session import WebUser, require_federation_admin, services_of, web_user
from tenants.provisioning import all_municipalities

FIRST_YEAR, LAST_YEAR = 2000, 2100
LOCAL = ZoneInfo("Europe/Stockholm")


def _page(request: Request[Any, Any, Any], user: WebUser, template: str, **context: Any) -> Template:
    return render(request, user, f"federation/{template}", number=number, sek=sek, hours=hours, **context)


async def _admin(request: Request[Any, Any, Any]) -> tuple[WebUser, Services]:
    user = await web_user(request)
    require_federation_admin(user)
    return user, services_of(request)


@get("/web/federation", name="federation_members")
async def members_page(request: Request[Any, Any, Any]) -> Template:
    user, services = await _admin(request)
    found = await members.members(services.db, services.plugins, require_federation_admin(user))
    return _page(request, user, "members.html", members=found, section="members")


@get("/web/federation/plugins", name="federation_plugins")
async def plugins_page(request: Request[Any, Any, Any]) -> Template:
    user, services = await _admin(request)
    found = await members.members(services.db, services.plugins, require_federation_admin(user))
    sv = current_language() == "sv"
    columns = [(p.id, p.name.sv if sv else p.name.en) for p in members.plugin_columns(services.plugins)]
    counts = {pid: sum(pid in m.enabled for m in found) for pid, _ in columns}
    return _page(request, user, "plugins.html", members=found, columns=columns, counts=counts, section="plugins")


def _year(value: str | None) -> int | None:
    """The year asked for, the current one when none is given; None when it is not a year."""
    if value is None or not value.strip():
        return utcnow().astimezone(LOCAL).year
    text = value.strip()
    if not re.fullmatch(r"[0-9]{4}", text) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        return None
    return int(text)


def _savings_view(found: list[savings.MemberSavings], year: int) -> dict[str, Any]:
    used = [m for m in found if m.enabled]
    chart = {
        # The chart only draws (the foundation's macro scales with floats); the tables show the exact values.
        "rows": [(m.municipality, float(m.staff_hours_saved)) for m in used],
        "title": gettext("Staff hours saved in %(year)s", year=year),
        "description": gettext(
            "One bar per member that uses deliveries: staff hours no longer spent receiving deliveries."
        ),
    }
    months = savings.year_months(year)
    totals = [
        (
            month,
            sum(mo.deliveries for m in used for mo in m.months if mo.month == month),
            sum((mo.staff_hours_saved for m in used for mo in m.months if mo.month == month), Decimal(0)),
        )
        for month in months
    ]
    return {"members": found, "chart": chart, "months": totals, "any_used": bool(used)}


def _costs_view(found: list[costs.ContractCost], year: int) -> dict[str, Any]:
    per_member = costs.per_member(found)
    chart = {
        "rows": [(m.municipality, float(m.cost_sek)) for m in per_member],
        "title": gettext("Cost of shared contracts in %(year)s", year=year),
        "description": gettext("One bar per member: its share of the contracts' cost under their cost keys."),
    }
    total = sum((m.cost_sek for m in per_member), Decimal(0))
    return {"contracts": found, "per_member": per_member, "chart": chart, "total": total}


@get("/web/federation/costs", name="federation_costs")
async def costs_page(request: Request[Any, Any, Any], year: str | None = None) -> Template:
    user, services = await _admin(request)
    chosen = _year(year)
    if chosen is None:
        errors = {"year": [gettext("Give a year from %(first)s to %(last)s.", first=FIRST_YEAR, last=LAST_YEAR)]}
        return _page(
            request,
            user,
            "costs.html",
            status_code=400,
            errors=errors,
            year=year or "",
            section="costs",
            delivery=None,
            procurement=None,
        )
    delivery = procurement = None
    if savings.installed(services.plugins):
        months = savings.year_months(chosen)
        towns = await all_municipalities(services.db, federation_id=require_federation_admin(user))
        found = [
            await savings.member_savings(services.db, m.id, m.name, months)
            for m in sorted(towns, key=lambda m: (members.swedish_order(m.name), m.slug))
        ]
        delivery = _savings_view(found, chosen)
    if costs.installed(services.plugins):
        found_costs = await costs.contract_costs(services, user.principal, date(chosen, 1, 1), date(chosen, 12, 31))
        procurement = _costs_view(found_costs, chosen)
    return _page(
        request, user, "costs.html", errors={}, year=chosen, section="costs", delivery=delivery, procurement=procurement
    )


ROUTES = [members_page, plugins_page, costs_page]

__all__ = ["ROUTES"]
