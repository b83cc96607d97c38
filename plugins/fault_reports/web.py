"""Reporting a fault (felanmälan) from a phone (a staff page, ``/web/plugins/fault_reports/report``):
the locker or one of its compartments, a category, a description and an optional photo (JPEG or
PNG, at most 5 MB, checked by its content). Stored by the plugin's own service (the one
``reportFault`` calls), which audits it, then routed to the vendor whose contract covers the locker
right away, as ``reportFault`` does. The choices are the lockers plugin's (a dependency). The
list of faults, a fault's page and the municipality's own moves are in ``web_faults``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from backend.lib import ValidationFailed, utcnow
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.staff import StaffContext, staff
from plugins.contract import Name, WebPage
from plugins.fault_reports import routing, service
from plugins.fault_reports.domain import MAX_PHOTO_BYTES, Category, NewFaultReport, problems_with
from plugins.fault_reports.web_faults import ROUTES
from plugins.fault_reports.web_labels import CATEGORIES
from plugins.lockers import web_labels as lockers_labels
from plugins.lockers import web_targets as targets

REPORT = "/web/plugins/fault_reports/report"
MAX_BODY = MAX_PHOTO_BYTES + 256 * 1024  # the photo and the form's text fields
# The service's messages on fields, shown translated.
SERVICE_MESSAGES = (
    N_("Describe the fault."),
    N_("Use at most 2000 characters."),
    N_("The photo must be a JPEG or PNG image."),
)


async def _form(
    request: Request[Any, Any, Any], ctx: StaffContext, values: dict[str, str], errors: dict[str, str], status: int
) -> Template:
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        choices = await targets.lockers(scope)
    return render(
        request,
        ctx.user,
        "fault_reports/report.html",
        status_code=status,
        choices=choices,
        categories=[(c.value, gettext(text)) for c, text in CATEGORIES.items()],
        values=values,
        errors=errors,
        max_mb=MAX_PHOTO_BYTES // (1024 * 1024),
        fmt=lockers_labels,
        action=REPORT,
    )


@get("/report")
async def fault_page(
    request: Request[Any, Any, Any], locker: str | None = None, compartment: str | None = None
) -> Template:
    ctx = await staff(request)
    target = f"{locker}/{compartment}" if locker and compartment else (locker or "")
    return await _form(request, ctx, {"target": target, "category": "", "description": ""}, {}, 200)


async def _photo(value: Any) -> bytes | None:
    """The uploaded photo's bytes (none when no file was chosen); too large is a 413 page."""
    if not isinstance(value, UploadFile) or not value.filename:
        return None
    content = await value.read()
    if len(content) > MAX_PHOTO_BYTES:
        raise HTTPException(status_code=413, detail="The photo is larger than 5 MB.")
    return content or None


@post("/report", request_max_body_size=MAX_BODY)
async def fault_submit(request: Request[Any, Any, Any]) -> Template | Redirect:
    ctx = await staff(request)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("target", "category", "description")}
    photo = await _photo(form.get("photo"))
    errors: dict[str, str] = {}
    locker, _, compartment = values["target"].partition("/")
    if targets.parse_uuid(locker) is None or (compartment and targets.parse_uuid(compartment) is None):
        errors["target"] = gettext("Choose the locker or compartment that has the fault.")
    try:
        category = Category(values["category"])
    except ValueError:
        errors["category"] = gettext("Choose what kind of fault it is.")
    if errors:  # the rest is checked too, so every problem shows at once
        rest = NewFaultReport(locker, None, Category.OTHER, values["description"], photo)
        errors |= {f.field: gettext(f.message) for f in problems_with(rest)}
    else:
        new = NewFaultReport(locker, compartment or None, category, values["description"], photo)
        try:
            async with ctx.services.db.tenant(ctx.tenant) as scope:
                await service.report(scope, new, actor=ctx.user.principal.actor, now=utcnow())
        except ValidationFailed as failed:
            errors = {f.field: gettext(f.message) for f in failed.fields}
    if errors:
        if photo is not None and "photo" not in errors:
            errors["photo"] = gettext("Choose the photo again: it was not saved.")
        return await _form(request, ctx, values, errors, 400)
    await routing.route_pending(ctx.services.db, ctx.tenant, utcnow())  # to its vendor, as reportFault does
    return redirect(request, "/web/staff", flash=gettext("Thank you. The fault is reported."))


PAGES = (
    WebPage(
        path="/report",
        title=Name(sv="Felanmäl", en="Report a fault"),
        handler=Router(path="/", route_handlers=[fault_page, fault_submit]),
        audience="staff",
    ),
    WebPage(
        path="/faults",
        title=Name(sv="Felanmälningar", en="Fault reports"),
        handler=Router(path="/", route_handlers=ROUTES),
        audience="staff",
    ),
)
