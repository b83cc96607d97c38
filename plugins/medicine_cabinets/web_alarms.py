"""The medication alarms page for nurses and tenant admins, made for phones
(``/web/plugins/medicine_cabinets/alarms``; the 403 page for other staff, as ``medicationAlarms``):
unauthorised openings not yet acknowledged first (when, which cabinet and compartment, the care
recipient's reference, who was told), each with a form to acknowledge it with a required note
that goes into the medication log (``alarms.acknowledge``, audited); the acknowledged ones below."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from backend import plugin_api as api
from backend.lib import Conflict, ValidationFailed, utcnow
from backend.web.admin.access import form_data
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.staff import StaffContext
from plugins.lockers import web_labels
from plugins.medicine_cabinets import alarms, listing, queries
from plugins.medicine_cabinets.web_log import KEYS, LOG
from plugins.medicine_cabinets.web_log import _reader as responder  # nurses and admins, as the log
from plugins.medicine_cabinets.web_setup import said

ALARMS = alarms.PAGE
SHOWN_ACKNOWLEDGED = 50
TOLD = {
    "responsible_nurse": N_("the responsible nurse"),
    "alert_address": N_("the municipality's alert address"),
    "tenant_admins": N_("the municipality's administrators"),
    "nobody": N_("nobody: there was no one to e-mail, so only this page shows it"),
}


async def open_count(scope: api.Scope) -> int:
    """How many alarms wait for an acknowledgement (the banner on the today page)."""
    return len(await alarms.alarms(scope))


async def _alarms_page(
    request: Request[Any, Any, Any], ctx: StaffContext, notes: dict[int, str], errors: dict[int, str], status: int = 200
) -> Template:
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        rows = await alarms.alarms(scope, include_acknowledged=True)
        cabinets = {c.id: c for c in await queries.cabinets(scope)}
        references = {r.id: r.reference for r in await listing.recipients(scope)}
        names = {p.user_id: p.name for p in await listing.qualifications(scope)}
        keys = dict(await scope.connection.fetch(KEYS, ctx.tenant, list({a.compartment_id for a in rows})))
    done = sorted((a for a in rows if a.acknowledged_at), key=lambda a: a.acknowledged_at or a.raised_at, reverse=True)
    return render(
        request, ctx.user, "medicine_cabinets/alarms.html", status_code=status,
        waiting=[a for a in rows if a.acknowledged_at is None], done=done[:SHOWN_ACKNOWLEDGED],
        cabinets=cabinets, references=references, names=names, keys=keys,
        told={k: gettext(v) for k, v in TOLD.items()}, notes=notes, errors=errors, limit=alarms.NOTE_LIMIT,
        fmt=web_labels, alarms_url=ALARMS, log_url=LOG,
    )  # fmt: skip


@get("/alarms")
async def alarms_page(request: Request[Any, Any, Any]) -> Template:
    return await _alarms_page(request, await responder(request), {}, {})


@post("/alarms/{seq:int}/acknowledge")
async def acknowledge(request: Request[Any, Any, Any], seq: int) -> Template | Redirect:
    """Acknowledge one alarm with a note; a missing or bad note re-shows the page with it marked.
    Another municipality's alarm, or none: the 404 page."""
    ctx = await responder(request)
    note = (await form_data(request)).get("note", "")
    try:
        async with ctx.services.db.tenant(ctx.tenant) as scope:
            entry = await alarms.acknowledge(scope, seq, note, actor=ctx.user.principal.actor, now=utcnow())
    except ValidationFailed as exc:
        return await _alarms_page(request, ctx, {seq: note}, {seq: said(exc)}, 400)
    except Conflict:
        return redirect(request, ALARMS, flash=gettext("Someone has already acknowledged this alarm."), kind="info")
    text = gettext("The alarm is acknowledged. Your note is entry %(seq)s of the medication log.", seq=entry)
    return redirect(request, ALARMS, flash=text)


ROUTES = [alarms_page, acknowledge]
