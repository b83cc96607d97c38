"""The follow-up page (a month of the municipality's lines under every contract it has called off
from: measured against target, breaches and penalties, as the query ``callOffFollowUp`` reads
them) and the vendor reviews page (what the federation's municipalities say about the vendors
they have contracts with, as ``vendorReviews`` reads them)."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Request, get
from litestar.response import Template

from backend import plugin_api as api
from backend.lib import utcnow
from backend.web.i18n import gettext
from backend.web.render import render
from backend.web.session import services_of, web_user
from plugins.procurement import contracts, followup, reviews, web_labels
from plugins.procurement import followup_queries as queries
from plugins.procurement.access import PEOPLE, READ_SCOPE
from plugins.procurement.bidding_text import LOCAL
from plugins.procurement.followup_api import CALLED_OFF
from plugins.procurement.web_caller import web_caller


def previous_month(today: date) -> date:
    return date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)


def parse_month(value: str | None) -> date | None:
    """``2027-03`` (as ``<input type="month">`` sends it) as its first day; None when it is not one."""
    text = (value or "").strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            return None
        return date(int(year), int(month), 1)
    except ValueError:
        return None


@get("/follow-up")
async def follow_up_page(request: Request[Any, Any, Any], month: str | None = None) -> Template:
    user = await web_user(request)
    tenant = api.check_access(user.principal, roles=PEOPLE, scope=READ_SCOPE)
    chosen = previous_month(utcnow().astimezone(LOCAL).date()) if month is None else parse_month(month)
    if chosen is None:
        errors = {"month": [gettext("Give a month as year-month, e.g. 2027-03.")]}
        return render(
            request,
            user,
            "procurement/follow_up.html",
            status_code=400,
            errors=errors,
            month=month or "",
            found=[],
            labels=web_labels,
        )
    followup.check_month(chosen)
    services = services_of(request)
    c = await web_caller(services, user.principal)
    async with services.db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        called_off = await scope.connection.fetch(CALLED_OFF, tenant)
        found = [(r, await queries.months(scope, r["id"], chosen, tenant)) for r in called_off]
    return render(
        request,
        user,
        "procurement/follow_up.html",
        errors={},
        month=chosen.strftime("%Y-%m"),
        found=found,
        labels=web_labels,
    )


@get("/reviews")
async def reviews_page(request: Request[Any, Any, Any]) -> Template:
    """Every vendor the federation has a contract with, and its reviews (newest first)."""
    user = await web_user(request)
    services = services_of(request)
    c = await web_caller(services, user.principal)
    async with services.db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        signed = await contracts.listing(scope, c)
    vendors = sorted({(x.vendor, x.vendor_id) for x in signed})
    found = [await reviews.reviews(services.db, c, vendor_id) for _, vendor_id in vendors]
    return render(request, user, "procurement/reviews.html", vendors=found, labels=web_labels)


ROUTES = [follow_up_page, reviews_page]
