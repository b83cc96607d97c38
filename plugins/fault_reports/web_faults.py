"""The municipality's faults on a phone (staff pages under ``/web/plugins/fault_reports/faults``):
the list, open ones first, with status, severity, source, whether a vendor's contract serves it and
the response and fix times; a fault's page with its transitions and photo; and the municipality's
own moves through ``workflow.move_by_municipality`` (reject any open fault with a reason; on a
fault no vendor serves, also acknowledge, start and resolve). A fault that is not this
municipality's is the 404 page, and a move on one is audited as an access attempt."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from backend.lib import Conflict, NotFound, ValidationFailed, utcnow
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.staff import StaffContext, staff
from plugins.fault_reports import measured, service, web_labels, workflow
from plugins.fault_reports.domain import NEXT, OPEN, Status
from plugins.fault_reports.workflow import COLUMNS
from plugins.lockers import web_labels as lockers_labels
from plugins.lockers import web_targets as targets
from tenants import audit

FAULTS = "/web/plugins/fault_reports/faults"
REPORT = "/web/plugins/fault_reports/report"
SHOWN = 200  # the newest faults listed
ROUTED = N_(
    "This fault is routed to the vendor under its contract; the vendor acknowledges and resolves it. "
    "You may reject it (say why), or contact the vendor."
)  # the workflow's Conflict message, word for word, so it is shown translated
DONE = {
    Status.ACKNOWLEDGED: N_("The fault is acknowledged."),
    Status.IN_PROGRESS: N_("The work on the fault has started."),
    Status.RESOLVED: N_("The fault is resolved."),
    Status.REJECTED: N_("The fault is rejected."),
}


async def _places(ctx: StaffContext) -> dict[str, str]:
    """Every locker's and compartment's name, e.g. "Vårdcentralen, Skåp 1, fack 2"."""
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        lockers = await targets.lockers(scope)
    names: dict[str, str] = {}
    for locker in lockers:
        whole = names[str(locker.id)] = f"{locker.site}, {locker.name}" if locker.site else locker.name
        for c in locker.compartments:
            names[str(c.id)] = gettext("%(locker)s, compartment %(key)s", locker=whole, key=c.key)
    return names


@get("/faults")
async def faults_page(request: Request[Any, Any, Any]) -> Template:
    ctx = await staff(request)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        rows = await service.reports(scope, locker_id=None, first=SHOWN)
    faults = await measured.shown(ctx.services.db, rows, utcnow())
    faults.sort(key=lambda f: f.status not in OPEN)  # stable: newest first within open and closed
    return render(
        request,
        ctx.user,
        "fault_reports/faults.html",
        faults=faults,
        places=await _places(ctx),
        label=web_labels.label,
        fl=web_labels,
        fmt=lockers_labels,
        root=FAULTS,
        report_url=REPORT,
        more=len(rows) == SHOWN,
    )


async def _detail(
    request: Request[Any, Any, Any], ctx: StaffContext, fault_id: UUID, *, errors: dict[str, str], status: int,
    note: str = "", problem: str = "",
) -> Template:  # fmt: skip
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        row = await scope.connection.fetchrow(
            f"SELECT {COLUMNS} FROM fault_report WHERE tenant_id = $1 AND id = $2", ctx.tenant, fault_id
        )
        if row is None:
            raise NotFound("FaultReport", fault_id)
        transitions = await workflow.transitions(scope, fault_id)
    [fault] = await measured.shown(ctx.services.db, [row], utcnow())
    allowed = NEXT[fault.status]
    moves = [] if fault.vendor_id else [s for s in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED)
                                        if s in allowed]  # fmt: skip
    return render(
        request,
        ctx.user,
        "fault_reports/fault.html",
        status_code=status,
        fault=fault,
        transitions=transitions,
        place=(await _places(ctx)).get(fault.compartment_id or fault.locker_id) or lockers_labels.DASH,
        moves=moves,
        can_reject=Status.REJECTED in allowed,
        errors=errors,
        note=note,
        problem=problem,
        label=web_labels.label,
        fl=web_labels,
        fmt=lockers_labels,
        root=FAULTS,
    )


def _fault_id(value: str) -> UUID:
    found = targets.parse_uuid(value)
    if found is None:
        raise NotFound("FaultReport", value[:100])
    return found


@get("/faults/{fault_id:str}")
async def fault_page(request: Request[Any, Any, Any], fault_id: str) -> Template:
    ctx = await staff(request)
    return await _detail(request, ctx, _fault_id(fault_id), errors={}, status=200)


@get("/faults/{fault_id:str}/photo")
async def fault_photo(request: Request[Any, Any, Any], fault_id: str) -> Response[bytes]:
    """The photo sent with the report, to this municipality's staff only, typed by its content."""
    ctx = await staff(request)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        content, content_type = await service.photo(scope, _fault_id(fault_id))
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": "inline",
        "Cache-Control": "private, no-store",
    }
    return Response(content, media_type=content_type, headers=headers)


@post("/faults/{fault_id:str}/move")
async def fault_move(request: Request[Any, Any, Any], fault_id: str) -> Template | Redirect:
    ctx = await staff(request)
    form = await request.form()
    ident, note = _fault_id(fault_id), str(form.get("note") or "").strip()
    try:
        to = Status(str(form.get("to") or ""))
    except ValueError:
        raise ValidationFailed.on("to", "Choose what to do with the fault.") from None
    if to is Status.REJECTED and not note:
        errors = {"note": gettext("Say why the fault is rejected.")}
        return await _detail(request, ctx, ident, errors=errors, status=400)
    actor = ctx.user.principal.actor
    try:
        async with ctx.services.db.tenant(ctx.tenant) as scope:
            await workflow.move_by_municipality(scope, ident, to, actor=actor, now=utcnow(), note=note[:2000])
    except Conflict as conflict:
        problem = gettext(ROUTED) if conflict.message == ROUTED else gettext(
            "The fault's status changed in the meantime, so it cannot be done now. Its current status is shown below."
        )  # fmt: skip
        return await _detail(request, ctx, ident, errors={}, status=409, note=note, problem=problem)
    except NotFound:  # another municipality's fault, or none: an access attempt is audited
        async with ctx.services.db.tenant(ctx.tenant) as scope:
            await audit.record(
                scope, actor=actor, action="fault_reports.denied", target_kind="fault_report",
                target_id=ident, details={"to": to.value},
            )  # fmt: skip
        raise
    return redirect(request, f"{FAULTS}/{ident}", flash=gettext(DONE[to]))


ROUTES = [faults_page, fault_page, fault_photo, fault_move]
