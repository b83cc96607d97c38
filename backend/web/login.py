"""Signing in and out of the web UI with the kernel's accounts service (the GraphQL ``login`` path)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.response import Redirect

from backend.auth import authenticate
from backend.lib import RateLimited, Unauthenticated
from backend.web.i18n import gettext
from backend.web.render import redirect, render
from backend.web.session import (
    SESSION_COOKIE,
    TENANT_COOKIE,
    LoginRequired,
    expired_cookie,
    make_cookie,
    safe_next,
    services_of,
    web_user,
)
from tenants import accounts

MAX_FIELD = 1000  # longer input is no e-mail address or password of ours


@get("/login", name="login")
async def login_page(request: Request[Any, Any, Any], next: str | None = None) -> Response[Any]:
    """The sign-in form; a signed-in user goes on to where they were heading."""
    if request.cookies.get(SESSION_COOKIE):
        try:
            await web_user(request)
            return Redirect(safe_next(next), status_code=303)
        except LoginRequired:
            pass
    return render(request, None, "login.html", email="", next=safe_next(next), errors={})


@post("/login", name="login_submit")
async def login_submit(request: Request[Any, Any, Any]) -> Response[Any]:
    form = await request.form()
    email = str(form.get("email") or "").strip()[:MAX_FIELD]
    password = str(form.get("password") or "")[:MAX_FIELD]
    next_path = safe_next(str(form.get("next") or ""))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = gettext("Enter your e-mail address.")
    if not password:
        errors["password"] = gettext("Enter your password.")
    if errors:
        return render(request, None, "login.html", status_code=400, email=email, next=next_path, errors=errors)
    services = services_of(request)
    # Anonymous callers are rate limited per address, as the GraphQL sign-in is (a 429 page).
    await authenticate(services, None, None, request.client.host if request.client else None)
    try:
        session = await accounts.sign_in(
            services.db,
            email=email,
            password=password,
            ttl=timedelta(hours=services.settings.session_ttl_hours),
            attempts=services.redis,
        )
    except RateLimited:
        problem = gettext("Too many failed sign-ins: the account is locked for 15 minutes. Try again later.")
        return render(request, None, "login.html", status_code=429, email=email, next=next_path,
                      errors={}, problem=problem)
    except Unauthenticated:
        problem = gettext("Wrong e-mail address or password.")
        return render(request, None, "login.html", status_code=400, email=email, next=next_path,
                      errors={}, problem=problem)
    await services.jobs.enqueue("kernel.record_sign_in", str(session.user.id), str(session.id))
    response = Redirect(next_path, status_code=303)
    max_age = int(timedelta(hours=services.settings.session_ttl_hours).total_seconds())
    response.set_cookie(make_cookie(request, SESSION_COOKIE, session.token, max_age=max_age))
    response.set_cookie(expired_cookie(request, TENANT_COOKIE))  # a previous user's choice is not theirs
    return response


@post("/logout", name="logout")
async def logout(request: Request[Any, Any, Any]) -> Response[Any]:
    """End the kernel session (it stops working for the API too) and forget the cookies."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if token.startswith(accounts.SESSION_PREFIX):
        await accounts.sign_out(services_of(request).db, token)
    response = redirect(request, "/login", flash=gettext("You are signed out."), kind="info")
    response.set_cookie(expired_cookie(request, SESSION_COOKIE))
    response.set_cookie(expired_cookie(request, TENANT_COOKIE))
    return response


__all__ = ["login_page", "login_submit", "logout"]
