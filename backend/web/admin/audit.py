"""The audit log page: who did what, when, to what, filtered and paged newest first."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get

from backend.lib import ValidationFailed
from backend.web.admin.access import admin_for, field_errors, local_time, page_request
from backend.web.admin.audit_query import (
    ACTION_LABELS,
    AuditFilter,
    action_label,
    actor_kind_label,
    entries,
    parse_filter,
    readable_details,
    target_kind_label,
    target_names,
)
from backend.web.render import render
from tenants.access import Permission

FILTERS = ("action", "actor", "from", "to")


@get("/web/admin/audit", name="admin_audit")
async def audit_page(request: Request[Any, Any, Any]) -> Response[Any]:
    admin = await admin_for(request, Permission.AUDIT_READ)
    params = request.query_params
    values = {name: str(params.get(name) or "") for name in FILTERS}
    after = params.get("after") or None
    try:
        wanted = parse_filter(values["action"], values["actor"], values["from"], values["to"])
    except ValidationFailed as exc:
        return render(
            request,
            admin.user,
            "admin/audit.html",
            status_code=400,
            values=values,
            errors=field_errors(exc.fields),
            rows=[],
            next_href=None,
            first_href=None,
            actions=_actions(),
            filtered=True,
        )
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        page = await entries(scope, page_request(after), wanted)
        names = await target_names(scope, admin.services.plugins, list(page.items))
    rows = [
        {
            "entry": e,
            "when": local_time(e.occurred_at),
            "when_iso": e.occurred_at.isoformat(),
            "action": action_label(e.action),
            "actor_kind": actor_kind_label(e.actor_kind),
            "target_kind": target_kind_label(e.target_kind),
            "target": names.get(e.target_id, ""),
            "details": readable_details(e.details),
        }
        for e in page.items
    ]
    kept = {k: v for k, v in values.items() if v}
    next_href = (
        "/web/admin/audit?" + urlencode({**kept, "after": page.cursors[-1]}) if page.has_next and page.cursors else None
    )
    first_href = "/web/admin/audit" + (f"?{urlencode(kept)}" if kept else "") if after else None
    return render(
        request,
        admin.user,
        "admin/audit.html",
        values=values,
        errors={},
        rows=rows,
        next_href=next_href,
        first_href=first_href,
        actions=_actions(),
        filtered=wanted != AuditFilter(),
    )


def _actions() -> list[tuple[str, str]]:
    """Known actions for the filter's suggestions (any action may be typed)."""
    return [(action, action_label(action)) for action in sorted(ACTION_LABELS)]


ROUTES = [audit_page]

__all__ = ["ROUTES"]
