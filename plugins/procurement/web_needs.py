"""The needs page: the municipality's procurement needs, and a form for its admins to record one
through the same service as the mutation ``recordNeed`` (per-field errors, nothing saved on error)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from litestar import Request, Response, get, post

from backend import plugin_api as api
from backend.lib import utcnow
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from backend.web.session import WebUser, services_of, web_user
from plugins.procurement import needs, web_labels
from plugins.procurement.access import ADMINS, PEOPLE, READ_SCOPE, WRITE_SCOPE

ROOT = "/web/plugins/procurement"
FIELDS = ("category", "title", "description", "estimated_volume", "volume_unit", "estimated_value_sek", "wanted_start")
# The service names fields as the GraphQL input does; the form as its inputs are named.
SERVICE_FIELDS = {
    "estimatedVolume": "estimated_volume",
    "volumeUnit": "volume_unit",
    "estimatedValueSek": "estimated_value_sek",
    "wantedStart": "wanted_start",
}
NOT_A_NUMBER = N_("Give a number, e.g. 12 or 12,5.")
NOT_A_DATE = N_("Give a date as year-month-day, e.g. 2027-03-01.")
CONTROL_CHARACTERS = N_("Remove the invisible control characters from this field.")
# The service's messages in the reader's language: (pattern, msgid with the pattern's groups).
SERVICE_MESSAGES = (
    (re.compile(r"^Fill in the \w+\.$"), N_("Fill in this field.")),
    (re.compile(r"^At most (?P<most>\d+) characters\.$"), N_("Use at most %(most)s characters.")),
    (re.compile(r"^Give a number from 0 up to .*$"), N_("Give a number from 0 up to 999 999 999 999,99.")),
    (re.compile(r"^Use at most two decimals\.$"), N_("Use at most two decimals.")),
    (
        re.compile(r"^The wanted start is in the past: choose (?P<day>[\d-]+) or later\.$"),
        N_("The wanted start is in the past: choose %(day)s or later."),
    ),
)


def translated(message: str) -> str:
    for pattern, msgid in SERVICE_MESSAGES:
        found = pattern.match(message)
        if found:
            return gettext(msgid, **found.groupdict())
    return gettext(message)


def parse_decimal(text: str) -> Decimal | None:
    """``1 234,50`` or ``1234.50``; None when it is not a finite number."""
    cleaned = re.sub(r"[\s\u00a0]", "", text).replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _form(
    request: Request[Any, Any, Any],
    user: WebUser,
    rows: list[Any],
    values: dict[str, str],
    errors: dict[str, list[str]],
    status: int = 200,
) -> Response[Any]:
    return render(
        request,
        user,
        "procurement/needs.html",
        status_code=status,
        needs=rows,
        values=values,
        errors=errors,
        may_record=bool(user.roles & (ADMINS | {api.Role.FEDERATION_ADMIN})),
        labels=web_labels,
    )


async def _own(request: Request[Any, Any, Any], user: WebUser) -> list[Any]:
    tenant = api.check_access(user.principal, roles=PEOPLE, scope=READ_SCOPE)
    async with services_of(request).db.tenant(tenant) as scope:
        return await needs.own(scope)


@get("/")
async def needs_page(request: Request[Any, Any, Any]) -> Response[Any]:
    user = await web_user(request)
    rows = await _own(request, user)
    return _form(request, user, rows, {"volume_unit": "st"}, {})


@post("/needs")
async def record_need(request: Request[Any, Any, Any]) -> Response[Any]:
    """Record a need as ``recordNeed`` does: the municipality's admins, the needs service."""
    user = await web_user(request)
    tenant = api.check_access(user.principal, roles=ADMINS, scope=WRITE_SCOPE)
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in FIELDS}
    errors: dict[str, list[str]] = {
        name: [gettext(CONTROL_CHARACTERS)] for name, value in values.items() if "\x00" in value
    }
    volume = parse_decimal(values["estimated_volume"])
    value_sek = parse_decimal(values["estimated_value_sek"])
    wanted = parse_date(values["wanted_start"])
    for name, parsed, message in (
        ("estimated_volume", volume, NOT_A_NUMBER),
        ("estimated_value_sek", value_sek, NOT_A_NUMBER),
        ("wanted_start", wanted, NOT_A_DATE),
    ):
        if parsed is None:
            errors[name] = [gettext(message)]
    if not errors and volume is not None and value_sek is not None and wanted is not None:
        new = needs.NewNeed(
            category=values["category"],
            title=values["title"],
            description=values["description"],
            estimated_volume=volume,
            volume_unit=values["volume_unit"],
            estimated_value_sek=value_sek,
            wanted_start=wanted,
        )
        try:
            async with services_of(request).db.tenant(tenant) as scope:
                row = await needs.record(scope, new, actor=user.principal.actor, today=utcnow().date())
        except api.ValidationFailed as exc:
            for problem in exc.fields:
                name = SERVICE_FIELDS.get(problem.field, problem.field)
                errors.setdefault(name if name in FIELDS else "", []).append(translated(problem.message))
        else:
            text = gettext("The need “%(title)s” was recorded.", title=row["title"])
            return redirect(request, f"{ROOT}/", flash=text)
    return _form(request, user, await _own(request, user), values, errors, status=400)


ROUTES = [needs_page, record_need]
