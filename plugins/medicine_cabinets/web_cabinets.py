"""The cabinets' set-up pages for tenant admins (``.../setup/cabinets``): make a registered locker a
care recipient's medicine cabinet, and per cabinet mark compartments nurse-only, set the responsible
nurse (who hears of an unauthorised opening) and remove the cabinet (the log keeps its entries).
Each change goes through the service function the GraphQL mutation calls; another municipality's
cabinet or compartment is the 404 page."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from backend.lib import Conflict, NotFound
from backend.web.admin.access import form_data, parse_id
from backend.web.i18n import gettext
from backend.web.render import redirect, render
from plugins.lockers import web_targets
from plugins.lockers.web_targets import parse_uuid
from plugins.medicine_cabinets import listing, queries, service, setup
from plugins.medicine_cabinets.web_setup import SETUP, Errors, Planner, chosen, planner, problem

CABINETS = f"{SETUP}/cabinets"
FIELDS = ("locker", "recipient", "nurse")


async def _choices(who: Planner) -> dict[str, Any]:
    """What the forms offer: free lockers, care recipients, people (nurses first)."""
    async with who.services.db.tenant(who.tenant) as scope:
        cabinets = await queries.cabinets(scope)
        lockers = await web_targets.lockers(scope)
        people = await listing.qualifications(scope)
        recipients = await listing.recipients(scope)
    taken = {c.locker_id for c in cabinets}
    nurse = gettext("nurse")
    return {
        "cabinets": cabinets,
        "lockers": [(str(lo.id), f"{lo.site}: {lo.name}") for lo in lockers if lo.id not in taken],
        "recipients": [(str(r.id), r.reference) for r in recipients],
        "people": [
            (str(p.user_id), f"{p.name} ({nurse})" if p.nurse else p.name)
            for p in sorted(people, key=lambda p: not p.nurse)
        ],
        "names": {p.user_id: p.name for p in people},
    }


async def _cabinets_page(
    request: Request[Any, Any, Any], who: Planner, values: dict[str, str], errors: Errors, status: int = 200
) -> Template:
    return render(
        request, who.user, "medicine_cabinets/setup_cabinets.html", status_code=status, values=values,
        errors=errors, setup_url=SETUP, cabinets_url=CABINETS, **await _choices(who),
    )  # fmt: skip


@get("/setup/cabinets")
async def cabinets_page(request: Request[Any, Any, Any]) -> Template:
    return await _cabinets_page(request, await planner(request), {}, {})


@post("/setup/cabinets")
async def add_cabinet(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Make a locker a care recipient's cabinet; a choice not offered is marked on its field."""
    who = await planner(request)
    form = await form_data(request)
    values = {k: form.get(k, "") for k in FIELDS}
    offered = await _choices(who)
    errors: Errors = {}
    for name, key in (("locker", "lockers"), ("recipient", "recipients"), ("nurse", "people")):
        if (values[name] or name != "nurse") and values[name] not in {v for v, _ in offered[key]}:
            errors = chosen(errors, name)
    if errors:
        return await _cabinets_page(request, who, values, errors, 400)
    nurse = parse_uuid(values["nurse"]) if values["nurse"] else None
    try:
        async with who.services.db.tenant(who.tenant) as scope:
            cid = await service.add_cabinet(
                scope, UUID(values["locker"]), UUID(values["recipient"]), nurse_id=nurse, actor=who.user.principal.actor
            )
    except Conflict as exc:
        return await _cabinets_page(request, who, values, problem({}, "locker", exc), 409)
    except NotFound:  # gone since the form was shown
        return await _cabinets_page(request, who, values, chosen({}, "locker"), 400)
    return redirect(request, f"{CABINETS}/{cid}", flash=gettext("The locker is now a medicine cabinet."))


@get("/setup/cabinets/{cabinet_id:str}")
async def cabinet_page(request: Request[Any, Any, Any], cabinet_id: str) -> Template:
    who = await planner(request)
    cid = parse_id(cabinet_id, "Medicine cabinet")
    offered = await _choices(who)
    cabinet = next((c for c in offered["cabinets"] if c.id == cid), None)
    if cabinet is None:
        raise NotFound("Medicine cabinet", cid)
    return render(
        request, who.user, "medicine_cabinets/setup_cabinet.html", cabinet=cabinet, people=offered["people"],
        names=offered["names"], setup_url=SETUP, cabinets_url=CABINETS, here_url=f"{CABINETS}/{cid}",
    )  # fmt: skip


@post("/setup/cabinets/{cabinet_id:str}/nurse")
async def set_nurse(request: Request[Any, Any, Any], cabinet_id: str) -> Redirect:
    """The responsible nurse (none: the municipality's alert address); not a member here: 404."""
    who = await planner(request)
    cid = parse_id(cabinet_id, "Medicine cabinet")
    value = (await form_data(request)).get("nurse", "")
    nurse = parse_id(value, "User") if value else None
    async with who.services.db.tenant(who.tenant) as scope:
        await setup.set_responsible_nurse(scope, cid, nurse, actor=who.user.principal.actor)
    return redirect(request, f"{CABINETS}/{cid}", flash=gettext("The responsible nurse was saved."))


@post("/setup/cabinets/{cabinet_id:str}/remove")
async def remove_cabinet(request: Request[Any, Any, Any], cabinet_id: str) -> Redirect:
    who = await planner(request)
    cid = parse_id(cabinet_id, "Medicine cabinet")
    async with who.services.db.tenant(who.tenant) as scope:
        await setup.remove_cabinet(scope, cid, actor=who.user.principal.actor)
    text = gettext("The locker is no longer a medicine cabinet. The medication log keeps its entries.")
    return redirect(request, CABINETS, flash=text)


@post("/setup/compartments/{compartment_id:str}/nurse-only")
async def nurse_only(request: Request[Any, Any, Any], compartment_id: str) -> Redirect:
    """Mark (``restricted=1``) or unmark a compartment nurse-only, then back to its cabinet."""
    who = await planner(request)
    compartment = parse_id(compartment_id, "Medicine cabinet compartment")
    restricted = (await form_data(request)).get("restricted") == "1"
    actor = who.user.principal.actor
    async with who.services.db.tenant(who.tenant) as scope:
        if restricted:
            await service.restrict(scope, compartment, actor=actor)
        else:
            await setup.unrestrict(scope, compartment, actor=actor)
        cabinet = next(c for c in await queries.cabinets(scope) if any(x.id == compartment for x in c.compartments))
    done = (
        gettext("The compartment is nurse-only.") if restricted else gettext("Any assigned staff member may open it.")
    )
    return redirect(request, f"{CABINETS}/{cabinet.id}", flash=done)


ROUTES = [cabinets_page, add_cabinet, cabinet_page, set_nurse, remove_cabinet, nurse_only]
