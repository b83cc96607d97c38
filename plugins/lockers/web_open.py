"""Opening a compartment from a phone (a staff page, ``/web/plugins/lockers/open``), through the
lockers plugin's own command service (the one ``openCompartment`` calls: recorded, audited, sent
to the locker, answered once it confirms, refuses, fails or says nothing in time). The answer page
is reached by a redirect, so reloading it never opens the compartment again."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from backend.lib import NotFound
from backend.web.i18n import gettext
from backend.web.render import redirect, render
from backend.web.staff import StaffContext, available, staff
from plugins.lockers import commands, config, queries
from plugins.lockers import web_labels as lockers_labels
from plugins.lockers import web_targets as targets
from plugins.lockers.web_access import ROOT

FAULT_REPORTS = "fault_reports"  # linked to by URL where enabled; this plugin does not need it
OPEN = f"{ROOT}/open"
OPENED, REFUSED, FAILED, WAITING = "opened", "refused", "failed", "waiting"
VERDICT = {"confirmed": OPENED, "rejected": REFUSED, "failed": FAILED, "timeout": FAILED, None: WAITING}


async def _form(
    request: Request[Any, Any, Any], ctx: StaffContext, chosen: UUID | None, errors: dict[str, str], status: int
) -> Template:
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        choices = await targets.lockers(scope)
    return render(
        request,
        ctx.user,
        "lockers/staff/open.html",
        status_code=status,
        choices=choices,
        chosen=chosen,
        errors=errors,
        fmt=lockers_labels,
        open_url=OPEN,
    )


@get("/open")
async def open_page(request: Request[Any, Any, Any], compartment: str | None = None) -> Template:
    ctx = await staff(request)
    return await _form(request, ctx, targets.parse_uuid(compartment) if compartment else None, {}, 200)


@post("/open")
async def open_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    ctx = await staff(request)
    form = await request.form()
    target = targets.parse_uuid(form.get("compartment") or "")
    if target is None:
        return await _form(request, ctx, None, {"compartment": gettext("Choose the compartment to open.")}, 400)
    actor, db = ctx.user.principal.actor, ctx.services.db
    async with db.tenant(ctx.tenant) as scope:
        settings = await config.load(scope)
        command = await commands.request_unlock(scope, target, actor=actor, timeout_s=settings.open_timeout_s)
    outcome = await commands.send_and_wait(db, ctx.services.redis, ctx.tenant, command, actor=actor)
    return redirect(request, f"{OPEN}/{outcome.request_id}")


@get("/open/{request_id:str}")
async def opened_page(request: Request[Any, Any, Any], request_id: str) -> Template:
    """What the locker answered to one request (this municipality's only)."""
    ctx = await staff(request)
    ident = targets.parse_uuid(request_id)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        compartment_id = ident and await scope.connection.fetchval(
            "SELECT compartment_id FROM lockers_command WHERE tenant_id = $1 AND request_id = $2", ctx.tenant, ident
        )
        if not compartment_id or ident is None:
            raise NotFound("Request", request_id)
        compartment, _ = await queries.compartment(scope, compartment_id)
        locker = await queries.locker(scope, compartment["locker_id"])
    outcome = await commands.stored_outcome(ctx.services.db, ctx.tenant, ident)
    return render(
        request,
        ctx.user,
        "lockers/staff/opened.html",
        verdict=VERDICT.get(outcome.outcome, FAILED),
        outcome=outcome,
        compartment=compartment,
        locker=locker,
        can_report=available(ctx.services, ctx.user, FAULT_REPORTS),
        fmt=lockers_labels,
        open_url=OPEN,
    )
