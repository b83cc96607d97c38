"""The medication log on the web (``/web/plugins/medicine_cabinets/log``), for nurses and tenant
admins only (the 403 page for anyone else, as ``medicationLog`` refuses them): whether the hash
chain holds (shown first), the entries narrowed by cabinet, care recipient and staff member one
page of ``PAGE_SIZE`` at a time, newest first with links to older and newer ones, and the export
for a patient-safety review as a JSON download (``log.export_stream``, audited).

A view never walks the whole log: it shows the kept verdict of the last full check and checks only
the entries after its head (``log_checks.status``). "Check the whole log now" (a POST) asks the
worker for a full check, which runs in the background within seconds of the request (about 16 s
for a year of entries); the page says it waits, and shows the new verdict once reloaded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Stream, Template

from backend import plugin_api as api
from backend.lib import MAX_PAGE_SIZE, PageRequest, PermissionDenied, utcnow
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.session import WebUser
from backend.web.staff import StaffContext, staff
from plugins.lockers import web_labels
from plugins.lockers.web_targets import parse_uuid
from plugins.medicine_cabinets import chain, log, log_checks, log_pages, queries, service
from plugins.medicine_cabinets.config import PLUGIN_ID
from tenants import audit
from tenants.accounts import list_tenant_users

LOG = f"/web/plugins/{PLUGIN_ID}/log"
FILTERS = ("cabinet", "recipient", "staff")
PAGE_SIZE = 100
KINDS = {
    "opened": N_("Opened"),
    "refused": N_("Refused"),
    "failed": N_("Failed"),
    "unauthorised_opening": N_("Opened without a request"),
    "door_ajar": N_("Door left open"),
    "alarm_acknowledged": N_("Alarm acknowledged"),
}
REASONS = {
    "not_assigned": N_("not assigned today"),
    "nurse_only": N_("nurse only"),
    "offline": N_("cabinet offline"),
}
KEYS = "SELECT id, compartment_key FROM lockers_compartment WHERE tenant_id = $1 AND id = ANY($2::uuid[])"


async def may_read_log(scope: api.Scope, user: WebUser) -> bool:
    """Tenant admins (federation admins as well), and staff with the nurse qualification."""
    if user.municipality is None or user.principal.actor.id is None:
        return False
    if user.principal.roles_in(user.municipality.id) & {api.Role.TENANT_ADMIN, api.Role.FEDERATION_ADMIN}:
        return True
    return await service.is_nurse(scope, user.principal.actor.id)


async def _reader(request: Request[Any, Any, Any]) -> StaffContext:
    ctx = await staff(request)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        if not await may_read_log(scope, ctx.user):
            raise PermissionDenied("Nurses and admins only.")
    return ctx


def _filters(request: Request[Any, Any, Any]) -> tuple[dict[str, str], dict[str, UUID | None], dict[str, str]]:
    """The chosen filters as given, as ids, and an error for any that is not one of the choices."""
    given = {k: (request.query_params.get(k) or "").strip() for k in FILTERS}
    ids = {k: parse_uuid(v) if v else None for k, v in given.items()}
    errors = {k: gettext("Choose from the list.") for k, v in given.items() if v and ids[k] is None}
    return given, ids, errors


async def _window(scope: api.Scope, request: Request[Any, Any, Any], ids: dict[str, UUID | None]) -> log_pages.Window:
    """The page of entries the ``older``/``newer`` links ask for (a bad one: the newest page)."""
    older, newer = (request.query_params.get(k) or "" for k in ("older", "newer"))
    narrowing = log.Narrowing(ids["cabinet"], ids["recipient"], ids["staff"])
    try:
        older_than, newer_than = log_pages.cursor_seq(older or None), log_pages.cursor_seq(newer or None)
    except api.ValidationFailed:
        older_than = newer_than = None
    return await log_pages.window(scope, narrowing, size=PAGE_SIZE, older_than=older_than, newer_than=newer_than)


def verdict_text(verdict: chain.Verdict) -> str:
    """What the chain check found, in the reader's language."""
    if verdict.intact:
        return gettext("The log is intact: all %(count)s entries were checked; none is missing or altered.",
                       count=verdict.checked)  # fmt: skip
    seq = verdict.broken_seq
    if verdict.truncated:
        found = gettext("Entries were deleted from the end of the log: it ends at entry %(seq)s.", seq=verdict.checked)
    elif verdict.reason.endswith("is missing"):
        found = gettext("Entry %(seq)s is missing.", seq=seq)
    elif verdict.reason.endswith("was altered"):
        found = gettext("Entry %(seq)s was altered.", seq=seq)
    elif "does not match" in verdict.reason:
        found = gettext("Entry %(seq)s is not the one recorded when it was written.", seq=seq)
    else:
        found = gettext("Entry %(seq)s does not follow the entry before it.", seq=seq)
    return found + " " + gettext("Export the log and report it to the medically responsible nurse (lex Maria).")


def status_lines(status: log_checks.Status) -> list[str]:
    """What the kept full check and the check of the entries since cover and found, in the reader's language."""
    kept = status.kept
    if kept is None:
        lines = [gettext("The whole log has not been checked yet.")]
    elif kept.verdict.intact:
        lines = [gettext("The whole log was checked at %(when)s: all %(count)s entries up to then hold; none is "
                         "missing or altered.", when=web_labels.when(kept.at), count=kept.verdict.checked)]  # fmt: skip
    else:
        lines = [gettext("The check of the whole log at %(when)s found:", when=web_labels.when(kept.at)),
                 verdict_text(kept.verdict)]  # fmt: skip
    if status.newer is not None and status.newer.intact:
        lines.append(gettext("The %(count)s entries written since were checked now; they hold and follow on from it.",
                             count=status.newer_count))  # fmt: skip
    elif status.newer is not None:
        lines += [gettext("The entries written since were checked now:"), verdict_text(status.newer)]
    if status.requested_at is not None:
        asked = web_labels.when(status.requested_at)
        lines.append(gettext("A check of the whole log was asked for at %(when)s. It runs in the background; reload "
                             "this page in a minute to see its result.", when=asked))  # fmt: skip
    return lines


def _link(given: dict[str, str], key: str, seq: int | None) -> str | None:
    return None if seq is None else f"{LOG}?" + urlencode({k: v for k, v in given.items() if v} | {key: seq})


@get("/log")
async def log_page(request: Request[Any, Any, Any]) -> Template:
    ctx = await _reader(request)
    given, ids, errors = _filters(request)
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        status = await log_checks.status(scope)
        found = log_pages.Window([], None, None) if errors else await _window(scope, request, ids)
        rows = found.rows
        cabinets = await queries.cabinets(scope)
        users = (await list_tenant_users(scope, PageRequest(first=MAX_PAGE_SIZE))).items
        keys = dict(await scope.connection.fetch(KEYS, ctx.tenant, list({r["compartment_id"] for r in rows})))
    choices = {
        "cabinet": [(str(c.id), f"{c.recipient_reference}, {c.locker_name}") for c in cabinets],
        "recipient": sorted({(str(c.recipient_id), c.recipient_reference) for c in cabinets}, key=lambda r: r[1]),
        "staff": [(str(u.id), f"{u.name} ({u.email})") for u in users],
    }
    labels = {"cabinet": gettext("Cabinet"), "recipient": gettext("Care recipient"), "staff": gettext("Staff member")}
    query = urlencode({k: v for k, v in given.items() if v and not errors})
    return render(
        request,
        ctx.user,
        "medicine_cabinets/log.html",
        status_code=400 if errors else 200,
        status=status,
        status_lines=status_lines(status),
        rows=rows,
        newer_url=_link(given, "newer", found.newer_than),
        older_url=_link(given, "older", found.older_than),
        errors=errors,
        values=given,
        cabinets={c.id: c for c in cabinets},
        choices=choices,
        labels=labels,
        users={u.id: u for u in users},
        keys=keys,
        kinds={k: gettext(v) for k, v in KINDS.items()},
        reasons={k: gettext(v) for k, v in REASONS.items()},
        fmt=web_labels,
        log_url=LOG,
        check_url=f"{LOG}/check",
        export_url=f"{LOG}/export" + (f"?{query}" if query else ""),
    )


@post("/log/check")
async def check_log(request: Request[Any, Any, Any]) -> Redirect:
    """Ask the worker for a full check of the log (audited); the page shows that it waits."""
    ctx = await _reader(request)
    actor = ctx.user.principal.actor
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        asked = await log_checks.request(scope, now=utcnow(), by=actor.id)
        if asked:
            await audit.record(
                scope, actor=actor, action="medicine_cabinets.log_check_requested", target_kind="medication_log",
                target_id=ctx.tenant,
            )  # fmt: skip
    if not asked:
        return redirect(request, LOG, flash=gettext("A check of the whole log is already waiting to run."), kind="info")
    text = gettext("The whole log is being checked in the background. Reload this page in a minute to see the result.")
    return redirect(request, LOG, flash=text)


@get("/log/export")
async def export_log(request: Request[Any, Any, Any]) -> Stream:
    """The filtered log with its hashes and the chain's verdict, as a file to download. The verdict
    is computed first (a streaming pass of its own, kept as the latest full check) and the download
    audited with its entry count; the entries up to the log's end at that moment then stream a
    batch at a time, so a download of years of log holds one batch in memory, whatever its length."""
    ctx = await _reader(request)
    _, ids, errors = _filters(request)
    if errors:
        raise api.ValidationFailed("Choose the filters from the lists.")
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        verdict = await log_checks.full(scope, source="export", by=ctx.user.principal.actor.id)
        end = await scope.connection.fetchrow(log.HEAD, ctx.tenant)
        last = end["seq"] if end else 0
        narrowing = log.Narrowing(ids["cabinet"], ids["recipient"], ids["staff"], upto=last)
        count = await log.count(scope, narrowing, at_most=last)
        await audit.record(
            scope,
            actor=ctx.user.principal.actor,
            action="medicine_cabinets.log_exported",
            target_kind="medication_log",
            target_id=ctx.tenant,
            details={k: str(v) for k, v in ids.items() if v} | {"entries": count},
        )
    name = f"medication-log-{utcnow():%Y%m%d-%H%M%S}.json"
    return Stream(
        _download(ctx, narrowing, verdict),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _download(ctx: StaffContext, narrowing: log.Narrowing, verdict: chain.Verdict) -> AsyncIterator[bytes]:
    async with ctx.services.db.tenant(ctx.tenant) as scope:
        async for piece in log.export_stream(ctx.tenant, verdict, log.batches(scope, narrowing)):
            yield piece
