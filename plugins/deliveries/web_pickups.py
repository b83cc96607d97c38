"""Today's pickups (a staff page, ``/web/plugins/deliveries/pickups``): the municipality's
deliveries waiting in a locker (dropped off, or with the pickup code sent), where they are and
until when. Codes are stored only as hashes, so the page
says where the code went (SMS or e-mail to the recipient), never the code."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get
from litestar.response import Template

from backend import plugin_api as api
from backend.lib import MAX_PAGE_SIZE, utcnow
from backend.web.formats import LOCAL_TIME
from backend.web.render import render
from backend.web.staff import available, staff
from plugins.deliveries import queries, web_labels
from plugins.deliveries.domain import Status
from plugins.lockers import web_labels as lockers_labels

LOCKERS = "lockers"
FAULT_REPORTS = "fault_reports"  # linked to by URL where enabled; this plugin does not need it
WAITING = (Status.PICKUP_CODE_SENT, Status.DROPPED_OFF)
LATER = datetime.max.replace(tzinfo=UTC)


@get("/pickups")
async def pickups_page(request: Request[Any, Any, Any]) -> Template:
    ctx = await staff(request)
    waiting: list[Any] = []
    more = False
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        for status in WAITING:
            found = await queries.page(scope, queries.Filter(status=status), api.PageRequest(MAX_PAGE_SIZE))
            waiting += found.items
            more = more or found.has_next
        places = await web_labels.places(scope, [r["compartment_id"] for r in waiting])
    waiting.sort(key=lambda r: (r["pickup_deadline"] or LATER, r["created_at"]))
    today = utcnow().astimezone(LOCAL_TIME).date()
    due_today = {
        r["id"] for r in waiting if r["pickup_deadline"] and r["pickup_deadline"].astimezone(LOCAL_TIME).date() == today
    }
    return render(
        request,
        ctx.user,
        "deliveries/staff/pickups.html",
        deliveries=waiting,
        places=places,
        more=more,
        due_today=due_today,
        can_open=available(ctx.services, ctx.user, LOCKERS),
        can_report=available(ctx.services, ctx.user, FAULT_REPORTS),
        fmt=lockers_labels,
        dfmt=web_labels,
    )
