"""The lockers' alarms page and acknowledging an alarm (a form POST with the CSRF token), through
the same service and live announcement as the API's ``acknowledgeAlarm``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from backend.lib import utcnow
from backend.web.i18n import gettext
from backend.web.render import redirect, render
from backend.web.session import safe_next
from plugins.lockers import alarms, live, queries, web_labels
from plugins.lockers.web_access import ROOT, reader

MAX_SHOWN = 200


@get("/alarms")
async def alarms_page(request: Request[Any, Any, Any], show: str = "open") -> Template:
    user, tenant, services = await reader(request)
    only_open = show != "all"
    async with services.db.tenant(tenant) as scope:
        rows = await queries.alarms(scope, only_open=only_open, locker_id=None, first=MAX_SHOWN)
        lockers = {r["id"]: r for r in await queries.lockers(scope, None)}
        keys: dict[UUID, str] = {}
        for locker_id in {r["locker_id"] for r in rows if r["compartment_id"] and r["locker_id"] in lockers}:
            compartments, _ = await queries.compartments(scope, locker_id)
            keys.update({c["id"]: c["compartment_key"] for c in compartments})
    return render(
        request,
        user,
        "lockers/alarms.html",
        alarms=rows,
        lockers=lockers,
        keys=keys,
        show="open" if only_open else "all",
        limit=MAX_SHOWN,
        back=f"{ROOT}/alarms" + ("" if only_open else "?show=all"),
        fmt=web_labels,
        root=ROOT,
    )


@post("/alarms/{alarm_id:str}/acknowledge")
async def acknowledge(request: Request[Any, Any, Any], alarm_id: str) -> Redirect:
    """Acknowledge (again changes nothing), announce it live, and go back where the form was."""
    user, tenant, services = await reader(request)
    form = await request.form()
    back = safe_next(str(form.get("next") or ""), f"{ROOT}/alarms")
    target = queries.parse_id(alarm_id, "Alarm")
    async with services.db.tenant(tenant) as scope:
        await alarms.acknowledge(scope, target, actor=user.principal.actor, now=utcnow())
        row = await queries.alarm(scope, target)
    await live.publish(services.redis, tenant, [live.backend_payload("alarm_acknowledged", utcnow(), dict(row))])
    return redirect(request, back, flash=gettext("The alarm is acknowledged."))
