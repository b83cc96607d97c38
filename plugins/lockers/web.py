"""The lockers' web pages (plugin pages under /web/plugins/lockers): sites, their lockers, each
locker's compartments with live state (an htmx fragment polled every 2 s), and a compartment's
temperature over the last day; and the staff page that opens a compartment (``web_open``). Staff
and tenant admins; every read is the API's own query."""

from __future__ import annotations

from collections import Counter
from typing import Any
from uuid import UUID

from litestar import Request, Router, get
from litestar.response import Template

from backend.lib import NotFound, utcnow
from backend.web.render import render
from backend.web.session import WebUser, services_of
from opcua_gateway.contracts import CLASS_LIMITS, TemperatureClass
from plugins.contract import Name, WebPage
from plugins.lockers import queries, web_chart, web_labels
from plugins.lockers.web_access import ROOT, reader
from plugins.lockers.web_alarms import acknowledge, alarms_page
from plugins.lockers.web_open import open_page, open_submit, opened_page

POLL = "every 2s"


def compartment_view(r: Any, alarms: list[Any]) -> dict[str, Any]:
    """A compartment as the pages show it: its own health, else its locker's (as the API does)."""
    own = r["connectivity"] is not None
    return {
        "id": r["id"],
        "locker_id": r["locker_id"],
        "key": r["compartment_key"],
        "temperature_class": r["temperature_class"],
        "size_class": r["size_class"],
        "status": r["status"],
        "door_open": r["door_open"],
        "locked": r["locked"],
        "temperature_c": r["temperature_c"],
        "temperature_at": r["temperature_at"],
        "connectivity": r["connectivity"] if own else r["locker_connectivity"],
        "device_health": r["device_health"] if own else r["locker_device_health"],
        "alarms": alarms,
    }


def _site_of(sites: list[Any], site_id: UUID) -> Any:
    found = next((s for s in sites if s["id"] == site_id), None)
    if found is None:
        raise NotFound("Site", site_id)
    return found


@get("/")
async def sites_page(request: Request[Any, Any, Any]) -> Template:
    user, tenant, services = await reader(request)
    async with services.db.tenant(tenant) as scope:
        sites = await queries.sites(scope)
        lockers = await queries.lockers(scope, None)
    count = Counter(r["site_id"] for r in lockers)
    alarms: Counter[UUID] = Counter()
    for r in lockers:
        alarms[r["site_id"]] += r["open_alarms"]
    return render(request, user, "lockers/sites.html", sites=sites, count=count, alarms=alarms, root=ROOT)


@get("/sites/{site_id:str}")
async def site_page(request: Request[Any, Any, Any], site_id: str) -> Template:
    user, tenant, services = await reader(request)
    site = queries.parse_id(site_id, "Site")
    async with services.db.tenant(tenant) as scope:
        lockers = await queries.lockers(scope, site)
        found = _site_of(await queries.sites(scope), site)
    return render(request, user, "lockers/site.html", site=found, lockers=lockers, fmt=web_labels, root=ROOT)


async def _live_context(request: Request[Any, Any, Any], user: WebUser, tenant: UUID, locker_id: str) -> dict[str, Any]:
    services = services_of(request)
    locker = queries.parse_id(locker_id, "Locker")
    async with services.db.tenant(tenant) as scope:
        row = await queries.locker(scope, locker)
        rows, open_alarms = await queries.compartments(scope, locker)
    return {
        "locker": row,
        "compartments": [compartment_view(r, open_alarms.get(r["id"], [])) for r in rows],
        "live_url": f"{ROOT}/lockers/{locker}/live",
        "live_id": f"live-{locker}",
        "updated_at": utcnow(),
        "back": f"{ROOT}/lockers/{locker}",
        "fmt": web_labels,
        "root": ROOT,
    }


@get("/lockers/{locker_id:str}")
async def locker_page(request: Request[Any, Any, Any], locker_id: str, live: str | None = None) -> Template:
    user, tenant, services = await reader(request)
    context = await _live_context(request, user, tenant, locker_id)
    async with services.db.tenant(tenant) as scope:
        site = _site_of(await queries.sites(scope), context["locker"]["site_id"])
    return render(request, user, "lockers/locker.html", site=site, paused=live == "off", **context)


@get("/lockers/{locker_id:str}/live")
async def locker_live(request: Request[Any, Any, Any], locker_id: str) -> Template:
    user, tenant, _ = await reader(request)
    context = await _live_context(request, user, tenant, locker_id)
    return render(request, user, "lockers/_live.html", paused=False, **context)


async def _compartment_context(request: Request[Any, Any, Any], tenant: UUID, compartment_id: str) -> dict[str, Any]:
    services = services_of(request)
    compartment = queries.parse_id(compartment_id, "Compartment")
    async with services.db.tenant(tenant) as scope:
        row, alarms = await queries.compartment(scope, compartment)
    return {
        "compartment": compartment_view(row, alarms),
        "compartments": [compartment_view(row, alarms)],
        "live_url": f"{ROOT}/compartments/{compartment}/live",
        "live_id": f"live-{compartment}",
        "updated_at": utcnow(),
        "back": f"{ROOT}/compartments/{compartment}",
        "fmt": web_labels,
        "root": ROOT,
    }


@get("/compartments/{compartment_id:str}")
async def compartment_page(request: Request[Any, Any, Any], compartment_id: str, live: str | None = None) -> Template:
    user, tenant, services = await reader(request)
    context = await _compartment_context(request, tenant, compartment_id)
    compartment = context["compartment"]
    now = utcnow()
    async with services.db.tenant(tenant) as scope:
        locker = await queries.locker(scope, compartment["locker_id"])
        site = _site_of(await queries.sites(scope), locker["site_id"])
        since, points = await web_chart.last_day(scope, compartment["id"], now)
    limits = CLASS_LIMITS[TemperatureClass(compartment["temperature_class"])]
    chart = web_chart.layout(points, since, now, limits, number=web_labels.number, hour=web_labels.hour)
    return render(
        request,
        user,
        "lockers/compartment.html",
        locker=locker,
        site=site,
        points=points,
        chart=chart,
        since=since,
        until=now,
        paused=live == "off",
        **context,
    )


@get("/compartments/{compartment_id:str}/live")
async def compartment_live(request: Request[Any, Any, Any], compartment_id: str) -> Template:
    user, tenant, _ = await reader(request)
    context = await _compartment_context(request, tenant, compartment_id)
    return render(request, user, "lockers/_live.html", paused=False, **context)


PAGES = (
    WebPage(
        path="/",
        title=Name(sv="Leveransskåp", en="Delivery lockers"),
        handler=Router(
            path="/",
            route_handlers=[
                sites_page,
                site_page,
                locker_page,
                locker_live,
                compartment_page,
                compartment_live,
                acknowledge,
            ],
        ),
    ),
    # A plain handler: the foundation finds this plugin's templates/ beside the module that defines it.
    WebPage(path="/alarms", title=Name(sv="Skåplarm", en="Locker alarms"), handler=alarms_page),
    WebPage(
        path="/open",
        title=Name(sv="Öppna ett fack", en="Open a compartment"),
        handler=Router(path="/", route_handlers=[open_page, open_submit, opened_page]),
        audience="staff",
    ),
)
