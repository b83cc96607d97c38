"""Rendering a page with the base context, redirects and one-shot flash messages."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.response import Redirect, Template

from backend.web.i18n import LANGUAGES, current_language, gettext
from backend.web.session import WebUser, csrf_token, expired_cookie, make_cookie, services_of
from tenants.access import Role

FLASH_COOKIE = "samverka_flash"
FLASH_KINDS = ("success", "info", "error")
MAX_FLASH = 500


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    current: bool = False


@dataclass(frozen=True)
class Flash:
    kind: str  # success | info | error
    text: str


def nav_items(request: Request[Any, Any, Any], user: WebUser | None) -> list[NavItem]:
    """The kernel's sections the user may use, then the enabled plugins' pages."""
    if user is None:
        return []
    lang = current_language()
    items: list[tuple[str, str]] = [("/", gettext("Start"))]
    if user.is_federation_admin:
        items.append(("/web/federation", gettext("Federation")))
    roles = user.roles
    if roles & {Role.TENANT_ADMIN, Role.FEDERATION_ADMIN}:
        items.append(("/web/admin", gettext("Administration")))
    if roles & {Role.STAFF, Role.TENANT_ADMIN}:
        items.append(("/web/staff", gettext("My work")))
    for plugin in services_of(request).plugins:
        if plugin.id not in user.enabled_plugins:
            continue
        for page in plugin.pages:
            if page.audience == "municipality" and page.shown_to(roles):  # staff pages: /web/staff
                items.append((page.href(plugin.id), page.title.sv if lang == "sv" else page.title.en))
    path = request.url.path
    current = max((href for href, _ in items if path == href or (href != "/" and path.startswith(href))),
                  key=len, default=None)
    return [NavItem(href, label, href == current) for href, label in items]


def read_flash(request: Request[Any, Any, Any]) -> Flash | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        kind, text = str(data["kind"]), str(data["text"])[:MAX_FLASH]
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None
    return Flash(kind if kind in FLASH_KINDS else "info", text)


def flash_cookie_value(text: str, kind: str) -> str:
    payload = json.dumps({"kind": kind, "text": text[:MAX_FLASH]}).encode()
    return base64.urlsafe_b64encode(payload).decode()


def base_context(request: Request[Any, Any, Any], user: WebUser | None) -> dict[str, Any]:
    return {
        "user": user,
        "csrf_token": user.csrf_token if user else csrf_token(request),
        "nav": nav_items(request, user),
        "lang": current_language(),
        "languages": LANGUAGES,
        "flash": read_flash(request),
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
    }


def render(
    request: Request[Any, Any, Any],
    user: WebUser | None,
    template_name: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A page: ``template_name`` with the base context (``user``, ``csrf_token``, ``nav``, ``lang``,
    ``languages``, ``flash``, ``path``, ``here``) and ``context``; ``_`` and ``ngettext`` are template
    globals in the request's language. A shown flash message is cleared."""
    response = Template(
        template_name=template_name,
        context={**base_context(request, user), **context},
        status_code=status_code,
    )
    if request.cookies.get(FLASH_COOKIE):
        response.set_cookie(expired_cookie(request, FLASH_COOKIE))
    return response


def redirect(
    request: Request[Any, Any, Any], path: str, *, flash: str | None = None, kind: str = "success"
) -> Redirect:
    """A 303 redirect (after a POST), optionally with a message shown once on the next page."""
    response = Redirect(path, status_code=303)
    if flash:
        response.set_cookie(make_cookie(request, FLASH_COOKIE, flash_cookie_value(flash, kind), max_age=60))
    return response


__all__ = ["FLASH_COOKIE", "Flash", "NavItem", "base_context", "nav_items", "redirect", "render"]
