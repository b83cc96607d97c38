"""The medicine cabinets' set-up pages for tenant admins (``/web/plugins/medicine_cabinets/setup``):
care recipients (list, add by internal reference and, where the municipality keeps them, a personal
identity number; remove) and who is a nurse. Cabinets are in ``web_cabinets``, the schedule in
``web_schedule``. Every change is a form POST with the CSRF token through the same service function
the GraphQL mutation calls, which checks and audits it; bad input re-shows the form with the
service's typed errors on their fields and changes nothing. Anyone but a tenant admin: the 403 page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from litestar import Request, get, post
from litestar.response import Redirect, Template

from backend import plugin_api as api
from backend.lib import Conflict, DomainError, ValidationFailed, local_day
from backend.services import Services
from backend.web.admin.access import form_data, parse_id
from backend.web.i18n import current_language, gettext
from backend.web.render import redirect, render
from backend.web.session import WebUser, require_tenant_role, services_of, web_user
from plugins.medicine_cabinets import config, identity, listing, recipients, service, setup
from plugins.medicine_cabinets.config import PLUGIN_ID

SETUP = f"/web/plugins/{PLUGIN_ID}/setup"
ADMINS = frozenset({api.Role.TENANT_ADMIN})
Errors = dict[str, list[str]]


@dataclass(frozen=True)
class Planner:
    """The signed-in tenant admin of one request and their municipality."""

    user: WebUser
    tenant: UUID
    services: Services


async def planner(request: Request[Any, Any, Any]) -> Planner:
    """The tenant admin of the active municipality (the 403 page for anyone else)."""
    user = await web_user(request)
    return Planner(user, require_tenant_role(user, ADMINS), services_of(request))


def said(exc: DomainError) -> str:
    """A service's message ("svenska / English") in the reader's language."""
    sv, _, en = exc.message.partition(" / ")
    return (sv if current_language() == "sv" or not en else en).strip()


def problem(errors: Errors, name: str, exc: DomainError) -> Errors:
    """``errors`` with the service's message on field ``name``."""
    return errors | {name: [*errors.get(name, []), said(exc)]}


def chosen(errors: Errors, name: str) -> Errors:
    """A value that is not one of the offered choices (or no longer exists)."""
    return errors | {name: [gettext("Choose from the list.")]}


async def _recipients_page(
    request: Request[Any, Any, Any], who: Planner, values: dict[str, str], errors: Errors, status: int = 200
) -> Template:
    async with who.services.db.tenant(who.tenant) as scope:
        rows = await listing.recipients(scope)
        numbers = await recipients.numbers(scope)
        keeps_numbers = (await config.load(scope)).personal_identity_numbers
    return render(
        request, who.user, "medicine_cabinets/setup_recipients.html", status_code=status, recipients=rows,
        numbers=numbers, keeps_numbers=keeps_numbers, values=values, errors=errors, setup_url=SETUP,
    )  # fmt: skip


@get("/setup")
async def recipients_page(request: Request[Any, Any, Any]) -> Template:
    return await _recipients_page(request, await planner(request), {}, {})


@post("/setup/recipients")
async def add_recipient(request: Request[Any, Any, Any]) -> Template | Redirect:
    who = await planner(request)
    form = await form_data(request)
    values = {k: form.get(k, "").strip() for k in ("reference", "pin")}
    try:
        async with who.services.db.tenant(who.tenant) as scope:
            await service.add_recipient(
                scope,
                values["reference"],
                personal_identity_number=values["pin"] or None,
                actor=who.user.principal.actor,
            )
    except ValidationFailed as exc:
        on_number = any(f.field == identity.FIELD for f in exc.fields)
        return await _recipients_page(request, who, values, problem({}, "pin" if on_number else "reference", exc), 400)
    except Conflict as exc:
        async with who.services.db.tenant(who.tenant) as scope:  # the number is checked first, then the reference
            on_number = bool(values["pin"]) and _normalised(values["pin"]) in (await recipients.numbers(scope)).values()
        return await _recipients_page(request, who, values, problem({}, "pin" if on_number else "reference", exc), 409)
    return redirect(request, SETUP, flash=gettext("%(reference)s was added.", reference=values["reference"]))


def _normalised(text: str) -> str | None:
    try:
        return identity.normalised(text, today=local_day())
    except ValidationFailed:
        return None


@post("/setup/recipients/{recipient_id:str}/remove")
async def remove_recipient(request: Request[Any, Any, Any], recipient_id: str) -> Template | Redirect:
    """Remove a care recipient (refused, with the reason shown, while a cabinet is theirs)."""
    who = await planner(request)
    rid = parse_id(recipient_id, "Care recipient")
    try:
        async with who.services.db.tenant(who.tenant) as scope:
            await setup.remove_recipient(scope, rid, actor=who.user.principal.actor)
    except Conflict as exc:
        return await _recipients_page(request, who, {}, problem({}, "", exc), 409)
    return redirect(request, SETUP, flash=gettext("The care recipient and their assignments were removed."))


@get("/setup/staff")
async def staff_page(request: Request[Any, Any, Any]) -> Template:
    who = await planner(request)
    async with who.services.db.tenant(who.tenant) as scope:
        people = await listing.qualifications(scope)
    return render(request, who.user, "medicine_cabinets/setup_staff.html", people=people, setup_url=SETUP)


@post("/setup/staff/{user_id:str}/nurse")
async def set_nurse(request: Request[Any, Any, Any], user_id: str) -> Redirect:
    """Say whether someone is a nurse here (``nurse=1``) or not; anyone not a member here is the 404 page."""
    who = await planner(request)
    uid = parse_id(user_id, "User")
    nurse = (await form_data(request)).get("nurse") == "1"
    async with who.services.db.tenant(who.tenant) as scope:
        await service.qualify(scope, uid, nurse=nurse, actor=who.user.principal.actor)
    done = gettext("Marked as a nurse.") if nurse else gettext("No longer marked as a nurse.")
    return redirect(request, f"{SETUP}/staff", flash=done)


ROUTES = [recipients_page, add_recipient, remove_recipient, staff_page, set_nurse]
__all__ = ["ROUTES", "SETUP", "Planner", "chosen", "planner", "problem", "said"]
