"""Integrator access: API tokens granted to vendors' integrations, listed and revoked.

A new token's secret is shown once. The grant answers with a redirect to a page that takes it out
of Redis (``GETDEL``, for the granting user only, for a few minutes at most), so reloading that
page, or going back to it, never shows it again and never grants a second token.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from litestar import Request, Response, get, post

from backend.graphql.kernel import grantable_scopes
from backend.lib import ValidationFailed, utcnow
from backend.web.admin.access import Admin, admin_for, field_errors, local_time, page_request, parse_id
from backend.web.i18n import N_, gettext
from backend.web.render import redirect, render
from tenants import tokens
from tenants.access import Permission
from tenants.tokens import MAX_DAYS, TokenRecord

SHOWN_ONCE_S = 300
DEFAULT_DAYS = 90
SCOPE_LABELS = {
    "municipality:read": N_("Read the municipality's details"),
    "audit:read": N_("Read the audit log"),
    "lockers:read": N_("Read lockers, compartments and their state"),
    "lockers:open": N_("Open compartments"),
    "lockers:alarms": N_("Read and acknowledge alarms"),
    "lockers:manage": N_("Register sites, lockers and their connections"),
    "deliveries:read": N_("Follow its own deliveries"),
    "deliveries:write": N_("Book, move and cancel deliveries"),
    "procurement:read": N_("Read procurements"),
    "procurement:write": N_("Take part in procurements"),
    "fault_reports:read": N_("Read fault reports"),
    "fault_reports:write": N_("Report faults"),
}


def _once_key(admin: Admin, nonce: str) -> str:
    return f"samverka:web:new-token:{admin.tenant_id}:{admin.user.principal.user_id}:{nonce}"


def scope_choices(admin: Admin) -> list[tuple[str, str]]:
    allowed = sorted(grantable_scopes(admin.services.plugins))
    return [(s, gettext(SCOPE_LABELS[s]) if s in SCOPE_LABELS else "") for s in allowed]


def token_status(record: TokenRecord) -> str:
    if record.revoked_at is not None:
        return gettext("Revoked")
    if record.expires_at <= utcnow():
        return gettext("Expired")
    return gettext("Active")


async def _tokens_page(
    request: Request[Any, Any, Any],
    admin: Admin,
    after: str | None,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> Response[Any]:
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        page = await tokens.list_tokens(scope, page_request(after))
    rows = [
        {
            "record": r,
            "status": token_status(r),
            "active": r.revoked_at is None and r.expires_at > utcnow(),
            "created": local_time(r.created_at),
            "expires": local_time(r.expires_at),
            "last_used": local_time(r.last_used_at),
            "revoked": local_time(r.revoked_at),
        }
        for r in page.items
    ]
    return render(
        request,
        admin.user,
        "admin/tokens.html",
        status_code=status,
        rows=rows,
        next_after=page.cursors[-1] if page.has_next and page.cursors else None,
        first_page=after is None,
        scopes=scope_choices(admin),
        values=values or {"days": str(DEFAULT_DAYS), "scopes": []},
        errors=errors or {},
        max_days=MAX_DAYS,
    )


@get("/web/admin/tokens", name="admin_tokens")
async def tokens_page(request: Request[Any, Any, Any], after: str | None = None) -> Response[Any]:
    admin = await admin_for(request, Permission.TOKENS_MANAGE)
    return await _tokens_page(request, admin, after)


def _days(text: str) -> int:
    """Days as a whole number; anything else is 0, which the kernel refuses on its field."""
    try:
        return int(text.strip())
    except ValueError:
        return 0


@post("/web/admin/tokens", name="admin_token_create")
async def grant_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Grant a token (the mutation ``createApiToken``), then show it once on its own page."""
    admin = await admin_for(request, Permission.TOKENS_MANAGE)
    form = await request.form()
    name = str(form.get("name") or "")
    chosen = [s for s in form.getall("scopes", []) if isinstance(s, str)]
    days = str(form.get("days") or "")
    try:
        async with admin.services.db.tenant(admin.tenant_id) as scope:
            new = await tokens.create_token(
                scope,
                name=name,
                scopes=chosen,
                allowed_scopes=grantable_scopes(admin.services.plugins),
                expires_in_days=_days(days),
                actor=admin.user.principal.actor,
            )
    except ValidationFailed as exc:
        errors = field_errors(exc.fields)
        errors["days"] = errors.pop("expiresInDays", [])
        values = {"name": name, "scopes": chosen, "days": days}
        return await _tokens_page(request, admin, None, values=values, errors=errors, status=400)
    nonce = secrets.token_urlsafe(16)
    shown = {
        "token": new.token,
        "name": new.record.name,
        "scopes": list(new.record.scopes),
        "expires": local_time(new.record.expires_at),
    }
    await admin.services.redis.set(_once_key(admin, nonce), json.dumps(shown), ex=SHOWN_ONCE_S)
    return redirect(request, f"/web/admin/tokens/new/{nonce}")


@get("/web/admin/tokens/new/{nonce:str}", name="admin_token_created")
async def created_page(request: Request[Any, Any, Any], nonce: str) -> Response[Any]:
    """The new token, this one time; afterwards (reload, back) a page saying it was shown."""
    admin = await admin_for(request, Permission.TOKENS_MANAGE)
    raw = await admin.services.redis.getdel(_once_key(admin, nonce)) if nonce.isascii() else None
    shown = json.loads(raw) if raw else None
    return render(request, admin.user, "admin/token_created.html", shown=shown, status_code=200 if shown else 410)


@post("/web/admin/tokens/{token_id:str}/revoke", name="admin_token_revoke")
async def revoke_submit(request: Request[Any, Any, Any], token_id: str) -> Response[Any]:
    """Revoke a token (the mutation ``revokeApiToken``): it stops working at once."""
    admin = await admin_for(request, Permission.TOKENS_MANAGE)
    tid = parse_id(token_id, "API token")
    async with admin.services.db.tenant(admin.tenant_id) as scope:
        record = await tokens.revoke_token(scope, token_id=tid, actor=admin.user.principal.actor)
    return redirect(request, "/web/admin/tokens", flash=gettext("The token %(name)s was revoked.", name=record.name))


ROUTES = [tokens_page, grant_submit, created_page, revoke_submit]

__all__ = ["ROUTES", "SCOPE_LABELS", "scope_choices", "token_status"]
