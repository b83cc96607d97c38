"""The medicine cabinets' staff pages, made for phones (``/web/plugins/medicine_cabinets/...``):
today's cabinets of the care recipients the signed-in staff member is assigned to, each
compartment with an "Open" button, and the answer to one opening (opened, refused and why, or
failed and what to do next). Opening goes through the plugin's own service (the one
``openCabinetCompartment`` calls), which checks today's assignment, the nurse-only restriction and
the cabinet's link, logs and audits. The answer page is reached by a redirect, so reloading it
never opens the compartment again. The medication log's pages are in ``web_log``; the alarms
(``web_alarms``, with a banner here for nurses and admins while any is open) and the set-up pages
for tenant admins (``web_setup``, ``web_cabinets``, ``web_schedule``) are mounted here too."""

from __future__ import annotations

from typing import Any, cast
from uuid import UUID

from litestar import Request, Router, get, post
from litestar.response import Redirect, Template

from backend.lib import NotFound, local_day, utcnow
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.staff import available, staff
from plugins.contract import Name, WebPage
from plugins.lockers import web_labels
from plugins.lockers.web_targets import parse_uuid
from plugins.medicine_cabinets import config, queries, service, web_alarms, web_cabinets, web_schedule, web_setup
from plugins.medicine_cabinets.config import PLUGIN_ID
from plugins.medicine_cabinets.web_log import LOG, check_log, export_log, log_page, may_read_log
from tenants import audit

ROOT = f"/web/plugins/{PLUGIN_ID}"
TODAY = f"{ROOT}/today"
FAULT_REPORTS = "fault_reports"  # linked to where enabled; this plugin does not need it
# Why an opening was refused, in the reader's language (the service's codes).
REFUSALS = {
    "not_assigned": N_("You are not assigned to this care recipient today. Ask the planner if you should be."),
    "nurse_only": N_("Only a nurse may open this compartment. Ask the responsible nurse."),
    "offline": N_(
        "The cabinet is offline, so it cannot be opened now. Try again in a moment; if it stays offline, "
        "report a fault."
    ),
}
ANSWER = """
SELECT g.seq, g.at, g.kind, g.detail, c.id AS compartment_id, c.compartment_key, l.id AS locker_id,
       l.name AS locker_name, r.reference
FROM medicine_cabinets_log g
JOIN lockers_compartment c ON c.tenant_id = g.tenant_id AND c.id = g.compartment_id
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
JOIN medicine_cabinets_recipient r ON r.tenant_id = g.tenant_id AND r.id = g.recipient_id
WHERE g.tenant_id = $1 AND g.seq = $2 AND g.staff_user_id = $3 AND g.kind IN ('opened', 'refused', 'failed')
"""


@get("/today")
async def today_page(request: Request[Any, Any, Any]) -> Template:
    ctx = await staff(request)
    user_id = cast(UUID, ctx.user.principal.actor.id)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        cabinets = await queries.todays_cabinets(scope, user_id, local_day())
        reads_log = await may_read_log(scope, ctx.user)
        open_alarms = await web_alarms.open_count(scope) if reads_log else 0
    return render(
        request,
        ctx.user,
        "medicine_cabinets/today.html",
        cabinets=cabinets,
        reads_log=reads_log,
        open_url=f"{TODAY}/open",
        log_url=LOG,
        open_alarms=open_alarms,
        alarms_url=web_alarms.ALARMS,
    )


@post("/today/open")
async def open_submit(request: Request[Any, Any, Any]) -> Redirect:
    """Open one compartment; the answer is shown on its own page (see :func:`answer_page`)."""
    ctx = await staff(request)
    form = await request.form()
    compartment = parse_uuid(form.get("compartment") or "")
    actor, db = ctx.user.principal.actor, ctx.services.db
    async with db.tenant(ctx.tenant) as scope:
        timeout = (await config.load(scope)).open_timeout_s
    try:
        if compartment is None:
            raise NotFound("Medicine cabinet compartment", str(form.get("compartment") or "")[:100])
        result = await service.open_compartment(
            db, ctx.services.redis, ctx.tenant, compartment, actor=actor, now=utcnow(), timeout_s=timeout
        )
    except NotFound:  # another municipality's compartment, or none: an access attempt is audited
        async with db.tenant(ctx.tenant) as scope:
            await audit.record(
                scope,
                actor=actor,
                action="medicine_cabinets.open_denied",
                target_kind="locker_compartment",
                target_id=str(form.get("compartment") or "")[:100],
            )
        raise
    return redirect(request, f"{TODAY}/answers/{result.seq}")


@get("/today/answers/{seq:int}")
async def answer_page(request: Request[Any, Any, Any], seq: int) -> Template:
    """What came of one of the signed-in staff member's own openings (none of anyone else's)."""
    ctx = await staff(request)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        row = await scope.connection.fetchrow(ANSWER, ctx.tenant, seq, ctx.user.principal.actor.id)
    if row is None:
        raise NotFound("Opening", seq)
    refusal = REFUSALS.get(row["detail"]) if row["kind"] == "refused" else None
    return render(
        request,
        ctx.user,
        "medicine_cabinets/answer.html",
        answer=row,
        refusal=gettext(refusal) if refusal else None,
        retry=row["kind"] == "failed" or row["detail"] == "offline",
        can_report=available(ctx.services, ctx.user, FAULT_REPORTS),
        fmt=web_labels,
        open_url=f"{TODAY}/open",
        today_url=TODAY,
    )


PAGES = (
    WebPage(
        path="/today",
        title=Name(sv="Dagens läkemedelsskåp", en="Today's medicine cabinets"),
        handler=Router(
            path="/", route_handlers=[today_page, open_submit, answer_page, log_page, check_log, export_log]
        ),
        audience="staff",
    ),
    WebPage(
        path="/alarms",
        title=Name(sv="Läkemedelslarm", en="Medication alarms"),
        handler=Router(path="/", route_handlers=web_alarms.ROUTES),
        audience="staff",
    ),
    WebPage(
        path="/setup",
        title=Name(sv="Läkemedelsskåp: inställningar", en="Medicine cabinets: set-up"),
        handler=Router(path="/", route_handlers=[*web_setup.ROUTES, *web_cabinets.ROUTES, *web_schedule.ROUTES]),
        roles=frozenset({"tenant_admin"}),  # the planners; staff are not offered a 403
    ),
)
