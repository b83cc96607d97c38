"""The administration's start page: how many people, plugins and tokens, and the latest changes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from backend.lib import MAX_PAGE_SIZE, PageRequest, utcnow
from backend.web.admin.access import admin_for, local_time
from backend.web.admin.audit_query import action_label
from backend.web.render import render
from plugins import state
from tenants import accounts, audit, tokens
from tenants.access import Permission
from tenants.database import Scope

LATEST = 5


async def _count_users(scope: Scope) -> int:
    total, after = 0, None
    while True:
        page = await accounts.list_tenant_users(scope, PageRequest(first=MAX_PAGE_SIZE, after=after))
        total += len(page.items)
        if not page.has_next:
            return total
        after = page.cursors[-1]


async def _count_active_tokens(scope: Scope) -> int:
    total, after, now = 0, None, utcnow()
    while True:
        page = await tokens.list_tokens(scope, PageRequest(first=MAX_PAGE_SIZE, after=after))
        total += sum(1 for t in page.items if t.revoked_at is None and t.expires_at > now)
        if not page.has_next:
            return total
        after = page.cursors[-1]


@get("/web/admin", name="admin")
async def overview_page(request: Request[Any, Any, Any]) -> Response[Any]:
    admin = await admin_for(request, Permission.USERS_READ)
    registry = admin.services.plugins
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        users = await _count_users(scope)
        enabled = await state.enabled_ids(scope) & {p.id for p in registry}
        active_tokens = await _count_active_tokens(scope)
        latest = await audit.list_entries(scope, PageRequest(first=LATEST))
    recent = [
        {
            "when": local_time(e.occurred_at),
            "when_iso": e.occurred_at.isoformat(),
            "action": action_label(e.action),
            "actor": e.actor_label,
        }
        for e in latest.items
    ]
    return render(
        request,
        admin.user,
        "admin/overview.html",
        users=users,
        enabled=len(enabled),
        installed=len(registry),
        active_tokens=active_tokens,
        recent=recent,
    )


ROUTES = [overview_page]

__all__ = ["ROUTES"]
