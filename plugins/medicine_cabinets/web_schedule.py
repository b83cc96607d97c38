"""The schedule's set-up page for tenant admins (``.../setup/schedule``): who is assigned to which
care recipient on a day, assigning a staff member for a day or a run of days (a week at once) and
taking an assignment off. The days are Swedish calendar days, as the phone page reads them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from backend.lib import ValidationFailed, local_day
from backend.web.admin.access import form_data, parse_id
from backend.web.i18n import gettext
from backend.web.render import redirect, render
from plugins.medicine_cabinets import listing, service, setup
from plugins.medicine_cabinets.web_setup import SETUP, Errors, Planner, chosen, planner, problem

SCHEDULE = f"{SETUP}/schedule"
FIELDS = ("staff", "recipient", "day", "last_day")


def parse_day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


async def _schedule_page(
    request: Request[Any, Any, Any], who: Planner, day: date, values: dict[str, str], errors: Errors, status: int = 200
) -> Template:
    async with who.services.db.tenant(who.tenant) as scope:
        rows = await listing.assignments(scope, day)
        people = await listing.qualifications(scope)
        recipients = await listing.recipients(scope)
    return render(
        request, who.user, "medicine_cabinets/setup_schedule.html", status_code=status, day=day,
        previous=day - timedelta(days=1), following=day + timedelta(days=1), assignments=rows,
        people=[(str(p.user_id), p.name) for p in people], recipients=[(str(r.id), r.reference) for r in recipients],
        values={"day": day.isoformat()} | values, errors=errors, setup_url=SETUP, schedule_url=SCHEDULE,
    )  # fmt: skip


@get("/setup/schedule")
async def schedule_page(request: Request[Any, Any, Any], day: str | None = None) -> Template:
    who = await planner(request)
    shown = parse_day(day) if day else local_day()
    if shown is None:
        errors = {"shown": [gettext("Give a date as YYYY-MM-DD.")]}
        return await _schedule_page(request, who, local_day(), {"shown": day or ""}, errors, 400)
    return await _schedule_page(request, who, shown, {}, {})


@post("/setup/schedule/assign")
async def assign(request: Request[Any, Any, Any]) -> Template | Redirect:
    """Assign a staff member for a day, or through the last day; bad input changes nothing."""
    who = await planner(request)
    form = await form_data(request)
    values = {k: form.get(k, "").strip() for k in FIELDS}
    first, last = parse_day(values["day"]), parse_day(values["last_day"]) if values["last_day"] else None
    async with who.services.db.tenant(who.tenant) as scope:
        staff = {str(p.user_id) for p in await listing.qualifications(scope)}
        recipients = {str(r.id) for r in await listing.recipients(scope)}
    errors: Errors = {}
    for name, offered in (("staff", staff), ("recipient", recipients)):
        if values[name] not in offered:
            errors = chosen(errors, name)
    for name, parsed in (("day", first), ("last_day", last)):
        if parsed is None and (values[name] or name == "day"):
            errors |= {name: [gettext("Give a date as YYYY-MM-DD.")]}
    shown = first or local_day()
    if errors or first is None:
        return await _schedule_page(request, who, shown, values, errors, 400)
    try:
        async with who.services.db.tenant(who.tenant) as scope:
            added = await service.assign(
                scope, UUID(values["staff"]), UUID(values["recipient"]), first, last_day=last,
                actor=who.user.principal.actor,
            )  # fmt: skip
    except ValidationFailed as exc:  # the days out of order, or too many at once
        return await _schedule_page(request, who, shown, values, problem({}, "last_day", exc), 400)
    text = gettext("Assigned. Days newly assigned: %(count)s.", count=added)
    return redirect(request, f"{SCHEDULE}?day={first.isoformat()}", flash=text)


@post("/setup/schedule/unassign")
async def unassign(request: Request[Any, Any, Any]) -> Redirect:
    """Take one day's assignment off (someone else's municipality's, or none: the 404 page)."""
    who = await planner(request)
    form = await form_data(request)
    user, recipient = parse_id(form.get("staff", ""), "User"), parse_id(form.get("recipient", ""), "Care recipient")
    day = parse_day(form.get("day", ""))
    if day is None:
        raise ValidationFailed("Give a date as YYYY-MM-DD.")
    async with who.services.db.tenant(who.tenant) as scope:
        await setup.unassign(scope, user, recipient, day, actor=who.user.principal.actor)
    return redirect(request, f"{SCHEDULE}?day={day.isoformat()}", flash=gettext("The assignment was taken off."))


ROUTES = [schedule_page, assign, unassign]
