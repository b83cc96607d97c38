"""The audit log filtered by action, actor and a date range, and its entries put into words.

The kernel's ``tenants.audit.list_entries`` filters by action only; the same keyset query (newest
first, the cursor is the entry id) takes the other filters here. It runs in the tenant's
transaction, so row-level security keeps every other municipality's entries out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from backend.lib import FieldError, NotFound, Page, PageRequest, ValidationFailed
from backend.web.admin.access import local_time, role_label, text_of
from backend.web.formats import LOCAL_TIME
from backend.web.i18n import N_, gettext
from plugins.registry import PluginRegistry
from tenants import accounts, audit, tokens
from tenants.audit import AuditRecord
from tenants.database import Scope
from tenants.tables import AuditEntry

MAX_FILTER = 320

ACTION_LABELS = {
    "user.created": N_("User created"),
    "user.signed_in": N_("Signed in"),
    "membership.granted": N_("Role given"),
    "membership.revoked": N_("Role taken away"),
    "token.created": N_("API token granted"),
    "token.revoked": N_("API token revoked"),
    "plugin.enabled": N_("Plugin enabled"),
    "plugin.disabled": N_("Plugin disabled"),
    "plugin.configured": N_("Plugin settings changed"),
    "municipality.created": N_("Municipality created"),
    "webhook.endpoint_set": N_("Webhook address set"),
    "webhook.endpoint_deleted": N_("Webhook address removed"),
    "webhook.secret_rotated": N_("Webhook secret replaced"),
}
DETAIL_LABELS = {
    "role": N_("Role"),
    "email": N_("E-mail"),
    "name": N_("Name"),
    "scopes": N_("Scopes"),
    "expires_at": N_("Expires"),
    "version": N_("Version"),
    "config": N_("Settings"),
    "secrets_set": N_("Secret settings set"),
    "secrets_changed": N_("Secret settings changed"),
    "slug": N_("Short name"),
    "code": N_("Municipality code"),
}
TARGET_KINDS = {
    "user": N_("User"),
    "api_token": N_("API token"),
    "plugin": N_("Plugin"),
    "municipality": N_("Municipality"),
}
ACTOR_KINDS = {"user": N_("Person"), "token": N_("API token"), "system": N_("System")}


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""
    actor: str = ""  # part of the actor's label (an e-mail address or "token:<name>")
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def _day(value: str, field: str, problems: list[FieldError]) -> date | None:
    if not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        problems.append(FieldError(field, N_("Give a date as YYYY-MM-DD.")))
        return None


def _start_of(day: date) -> datetime:
    """Midnight starting ``day`` in Swedish time, the way the admin means a date."""
    return datetime.combine(day, time.min, LOCAL_TIME)


def parse_filter(action: str, actor: str, date_from: str, date_to: str) -> AuditFilter:
    """The filter from the form's text; a bad date or a range that ends before it starts is refused."""
    problems: list[FieldError] = []
    first, last = _day(date_from, "from", problems), _day(date_to, "to", problems)
    if first and last and last < first:
        problems.append(FieldError("to", N_("The end date must not be before the start date.")))
    for name, value in (("action", action), ("actor", actor)):
        if len(value) > MAX_FILTER:
            problems.append(FieldError(name, N_("Use at most 320 characters.")))
    if problems:
        raise ValidationFailed("The filter is not valid.", problems)
    return AuditFilter(
        action=action.strip(),
        actor=actor.strip(),
        since=_start_of(first) if first else None,
        until=_start_of(last + timedelta(days=1)) if last else None,
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _record(row: dict[str, Any]) -> AuditRecord:
    details = row["details"]
    fields = {k: row[k] for k in AuditRecord.__dataclass_fields__}
    return AuditRecord(**{**fields, "details": json.loads(details) if isinstance(details, str) else details})


async def entries(scope: Scope, page: PageRequest, wanted: AuditFilter) -> Page[AuditRecord]:
    """Newest first; the kernel's own query when only the action is filtered."""
    if not (wanted.actor or wanted.since or wanted.until):
        return await audit.list_entries(scope, page, action=wanted.action or None)
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(page.first + 1)
    after = page.after_key()
    if after is not None:
        if not after.isdigit():
            raise ValidationFailed.on("after", "'after' is not a cursor this API gave out.")
        query = query.where(AuditEntry.id < int(after))
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.actor:
        query = query.where(AuditEntry.actor_label.ilike(_like(wanted.actor)))
    if wanted.since:
        query = query.where(AuditEntry.occurred_at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.occurred_at < wanted.until)
    rows = [_record(r) for r in await query]
    return Page.from_rows(rows, [str(r.id) for r in rows], page)


async def target_names(scope: Scope, registry: PluginRegistry, records: list[AuditRecord]) -> dict[str, str]:
    """Names for the entries' targets, by target id: people who still have a role here, this
    municipality's tokens, installed plugins. Anything else keeps its bare id."""
    names: dict[str, str] = {}
    wanted: dict[str, set[UUID]] = {"user": set(), "api_token": set()}
    for r in records:
        if r.target_kind == "plugin" and (plugin := registry.get(r.target_id)) is not None:
            names[r.target_id] = text_of(plugin.name)
        elif r.target_kind in wanted:
            try:
                wanted[r.target_kind].add(UUID(r.target_id))
            except ValueError:
                continue
    held = await accounts.memberships_in_tenant(scope, sorted(wanted["user"]))
    for user_id in held:
        names[str(user_id)] = (await accounts.get_user(scope, user_id)).name
    for token_id in wanted["api_token"]:
        try:
            names[str(token_id)] = (await tokens.get_token(scope, token_id)).name
        except NotFound:
            continue
    return names


def target_kind_label(kind: str) -> str:
    return gettext(TARGET_KINDS[kind]) if kind in TARGET_KINDS else kind


def action_label(action: str) -> str:
    return gettext(ACTION_LABELS[action]) if action in ACTION_LABELS else action


def actor_kind_label(kind: str) -> str:
    return gettext(ACTOR_KINDS[kind]) if kind in ACTOR_KINDS else kind


def _value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "-"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "-"
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        return local_time(moment) if moment.tzinfo is not None and "-" in value else value
    return str(value)


def readable_details(details: dict[str, Any]) -> list[tuple[str, str]]:
    """Each detail as (label, value) in words: known keys named, lists and settings spelt out."""
    return [
        (
            gettext(DETAIL_LABELS[key]) if key in DETAIL_LABELS else key.replace("_", " "),
            role_label(value) if key == "role" and isinstance(value, str) else _value(value),
        )
        for key, value in details.items()
    ]


__all__ = [
    "ACTION_LABELS",
    "AuditFilter",
    "action_label",
    "actor_kind_label",
    "entries",
    "parse_filter",
    "readable_details",
    "target_kind_label",
    "target_names",
]
