"""The start page (each role's home), the choice of municipality and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from backend.lib import NotFound
from backend.web.i18n import LANG_COOKIE, LANGUAGES, gettext, negotiate, set_language
from backend.web.render import redirect, render
from backend.web.session import (
    TENANT_COOKIE,
    WebUser,
    expired_cookie,
    make_cookie,
    safe_next,
    web_user,
)
from tenants.access import Role

ONE_YEAR_S = 365 * 24 * 3600


def home_of(user: WebUser) -> str | None:
    """Where a user starts: federation admins the federation, tenant admins the administration,
    staff their work; someone with several municipalities and none chosen chooses first."""
    if user.is_federation_admin:
        return "/web/federation"
    if user.municipality is None:
        return "/web/choose" if user.municipalities else None
    if Role.TENANT_ADMIN in user.roles:
        return "/web/admin"
    if Role.STAFF in user.roles:
        return "/web/staff"
    return None


def _route_exists(request: Request[Any, Any, Any], path: str) -> bool:
    return any(route.path == path for route in request.app.routes)


@get("/", name="start")
async def start_page(request: Request[Any, Any, Any]) -> Response[Any]:
    user = await web_user(request)
    home = home_of(user)
    if home is not None and _route_exists(request, home):
        return Redirect(home, status_code=303)
    return render(request, user, "home.html")


@get("/web/choose", name="choose")
async def choose_page(request: Request[Any, Any, Any], next: str | None = None) -> Response[Any]:
    user = await web_user(request)
    return render(request, user, "choose.html", next=safe_next(next))


@post("/web/choose", name="choose_submit")
async def choose_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    """Act in one of one's municipalities from now on (a federation admin may also choose none)."""
    user = await web_user(request)
    form = await request.form()
    slug = str(form.get("municipality") or "")
    next_path = safe_next(str(form.get("next") or ""))
    if not slug and user.is_federation_admin:
        response = redirect(request, next_path, flash=gettext("You are working at federation level."), kind="info")
        response.set_cookie(expired_cookie(request, TENANT_COOKIE))
        return response
    chosen = next((m for m in user.municipalities if m.slug == slug), None)
    if chosen is None:
        raise NotFound("Municipality", slug)  # unknown and not yours look the same
    response = redirect(request, next_path, flash=gettext("You are now working in %(name)s.", name=chosen.name))
    response.set_cookie(make_cookie(request, TENANT_COOKIE, chosen.slug))
    return response


@post("/web/lang", name="switch_language")
async def switch_language(request: Request[Any, Any, Any]) -> Response[Any]:
    """Switch the interface language (kept in the ``lang`` cookie); open to everyone."""
    form = await request.form()
    lang = negotiate(str(form.get("lang") or ""))
    set_language(lang)
    response = Redirect(safe_next(str(form.get("next") or "")), status_code=303)
    response.set_cookie(make_cookie(request, LANG_COOKIE, lang, max_age=ONE_YEAR_S))
    return response


__all__ = ["LANGUAGES", "choose_page", "choose_submit", "home_of", "start_page", "switch_language"]
