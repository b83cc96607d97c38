"""The deliveries' web pages (plugin pages under /web/plugins/deliveries): the municipality's
deliveries with filters, one delivery with its transitions, cold-chain record and notification
log, and the deliveries whose cold chain broke. Staff and tenant admins, through the API's reads.
Also today's pickups for staff (``web_pickups``) and each member's savings for the federation
(``web_savings``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Router, get
from litestar.response import Template

from backend import plugin_api as api
from backend.services import Services
from backend.web.i18n import gettext
from backend.web.render import render
from backend.web.session import WebUser, require_tenant_role, services_of, web_user
from plugins.contract import Name, WebPage
from plugins.deliveries import queries, service, web_labels
from plugins.deliveries.access import PEOPLE
from plugins.deliveries.domain import Status
from plugins.deliveries.web_pickups import pickups_page
from plugins.deliveries.web_savings import savings_page
from plugins.lockers import web_labels as lockers_labels

ROOT = "/web/plugins/deliveries"
PAGE_SIZE = 25
COLD_CHAIN = {"broken": True, "intact": False}


async def reader(request: Request[Any, Any, Any]) -> tuple[WebUser, UUID, Services]:
    """The user, once they are staff or a tenant admin in the active municipality (all deliveries there)."""
    user = await web_user(request)
    return user, require_tenant_role(user, PEOPLE), services_of(request)


def filters(status: str | None, cold_chain: str | None) -> tuple[queries.Filter, dict[str, str], dict[str, str]]:
    """The filter, the values to show in the form, and a message per field that made no sense."""
    errors: dict[str, str] = {}
    chosen = None
    if status:
        try:
            chosen = Status(status)
        except ValueError:
            errors["status"] = gettext("Choose a status from the list.")
    broken = COLD_CHAIN.get(cold_chain or "")
    if cold_chain and broken is None:
        errors["cold_chain"] = gettext("Choose a cold chain from the list.")
    values = {"status": chosen.value if chosen else "", "cold_chain": (cold_chain or "") if broken is not None else ""}
    return queries.Filter(None, chosen, None, broken), values, errors


async def _page(
    request: Request[Any, Any, Any], where: queries.Filter, after: str | None
) -> tuple[WebUser, api.Page[Any], dict[UUID, web_labels.Place]]:
    user, tenant, services = await reader(request)
    async with services.db.tenant(tenant) as scope:
        found = await queries.page(scope, where, api.PageRequest(PAGE_SIZE, after))
        places = await web_labels.places(scope, [r["compartment_id"] for r in found.items])
    return user, found, places


@get("/")
async def deliveries_page(
    request: Request[Any, Any, Any], status: str | None = None, cold_chain: str | None = None, after: str | None = None
) -> Template:
    where, values, errors = filters(status, cold_chain)
    user, found, places = await _page(request, where, after)
    more = None
    if found.has_next and found.cursors:
        more = "?" + urlencode({k: v for k, v in values.items() if v} | {"after": found.cursors[-1]})
    return render(
        request,
        user,
        "deliveries/list.html",
        status_code=400 if errors else 200,
        deliveries=found.items,
        places=places,
        values=values,
        errors=errors,
        more=more,
        statuses=[("", gettext("All statuses"))] + [(s.value, web_labels.label("status", s)) for s in Status],
        cold_chains=[("", gettext("All")), ("broken", gettext("Broken")), ("intact", gettext("Not broken"))],
        fmt=lockers_labels,
        dfmt=web_labels,
        root=ROOT,
    )


@get("/{delivery_id:str}")
async def delivery_page(request: Request[Any, Any, Any], delivery_id: str) -> Template:
    user, tenant, services = await reader(request)
    ident = service.parse_id(delivery_id, "Delivery")
    async with services.db.tenant(tenant) as scope:
        row = await service.load(scope, ident)
        transitions = await queries.transitions(scope, ident)
        notifications = await api.log_for(scope, "delivery", ident)
        place = (await web_labels.places(scope, [row["compartment_id"]])).get(row["compartment_id"])
    return render(
        request,
        user,
        "deliveries/delivery.html",
        d=row,
        place=place,
        transitions=transitions,
        notifications=notifications,
        minutes_above=round(row["cold_seconds_above"] / 60, 1),
        fmt=lockers_labels,
        dfmt=web_labels,
        root=ROOT,
    )


@get("/cold-chain")
async def cold_chain_page(request: Request[Any, Any, Any], after: str | None = None) -> Template:
    """Deliveries whose cold chain broke, newest first: what the municipality's alert address hears of."""
    user, found, places = await _page(request, queries.Filter(cold_chain_broken=True), after)
    more = "?" + urlencode({"after": found.cursors[-1]}) if found.has_next and found.cursors else None
    return render(
        request,
        user,
        "deliveries/cold_chain.html",
        deliveries=found.items,
        places=places,
        more=more,
        fmt=lockers_labels,
        dfmt=web_labels,
        root=ROOT,
    )


PAGES = (
    WebPage(
        path="/",
        title=Name(sv="Leveranser", en="Deliveries"),
        handler=Router(path="/", route_handlers=[deliveries_page, delivery_page]),
    ),
    # A plain handler: the foundation finds this plugin's templates/ beside the module that defines it.
    WebPage(path="/cold-chain", title=Name(sv="Bruten kylkedja", en="Broken cold chains"), handler=cold_chain_page),
    WebPage(
        path="/pickups",
        title=Name(sv="Dagens hämtningar", en="Today's pickups"),
        handler=pickups_page,
        audience="staff",
    ),
    WebPage(
        path="/savings",
        title=Name(sv="Besparing per medlem", en="Savings per member"),
        handler=savings_page,
        audience="federation",
    ),
)
