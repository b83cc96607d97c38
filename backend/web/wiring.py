"""How the web UI plugs into the app: its router, templates, static files, CSRF and headers.

``backend/app.py`` calls these once when it builds the app; nothing here does I/O at import time.
"""

from __future__ import annotations

import importlib
import secrets
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape
from litestar import Litestar, Request, Router
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.handlers.base import BaseRouteHandler
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import Message, Scope

from backend.lib import NotFound
from backend.services import Services
from backend.settings import Settings
from backend.web import i18n
from backend.web.errors import web_exception_handlers
from backend.web.formats import FILTERS, nice_scale, number
from backend.web.login import login_page, login_submit, logout
from backend.web.session import require_federation_admin, require_municipality, web_user
from backend.web.start import choose_page, choose_submit, start_page, switch_language
from plugins.contract import Plugin
from plugins.registry import PluginRegistry

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
CSRF_COOKIE = "samverka_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_SECRET_KEY = "samverka:web:csrf-secret"
API_PATHS = ("/graphql", "/healthz")
# The web UI's sections: packages under backend/web that export their route handlers as ``ROUTES``
# (or ``<SECTION>_ROUTES``, e.g. ``ADMIN_ROUTES``) in their ``__init__``. A section not (yet) there
# is left out, so the sections can land one by one.
SECTIONS = ("admin", "federation", "staff")

# Scripts and styles from /static only: no inline script or style, no eval (htmx is configured in
# base.html not to need them). SVG charts use presentation attributes, never style="...".
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    b"content-security-policy": CONTENT_SECURITY_POLICY.encode(),
    b"x-frame-options": b"DENY",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
    b"permissions-policy": b"camera=(self), geolocation=(), microphone=()",
}


def _handler_modules(handler: Any) -> list[str]:
    """The modules defining a page's handler, or the handlers of a page's router."""
    if isinstance(handler, Router):
        return [h.fn.__module__ for route in handler.routes for h in getattr(route, "route_handlers", [])]
    fn = getattr(handler, "fn", None)
    return [getattr(fn, "__module__", "")]


def _plugin_template_dir(plugin: Plugin) -> Path | None:
    """A plugin's templates live in ``templates/`` beside the module that defines its pages."""
    for page in plugin.pages:
        for name in _handler_modules(page.handler):
            module = sys.modules.get(name)
            if module is not None and module.__file__:
                directory = Path(module.__file__).parent / "templates"
                if directory.is_dir():
                    return directory
    return None


def template_environment(registry: PluginRegistry) -> Environment:
    """Jinja2 with autoescape on and gettext in the request's language. A plugin's own templates
    are named ``<plugin id>/<file>``."""
    plugin_dirs = {p.id: d for p in registry if (d := _plugin_template_dir(p)) is not None}
    loaders: list[BaseLoader] = [FileSystemLoader(TEMPLATES_DIR)]
    if plugin_dirs:
        loaders.append(PrefixLoader({pid: FileSystemLoader(d) for pid, d in plugin_dirs.items()}))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )

    def gettext(message: str) -> str:
        return i18n.catalogs()[i18n.current_language()].gettext(message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return i18n.catalogs()[i18n.current_language()].ngettext(singular, plural, n)

    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]  # added by the i18n extension
    env.filters.update(FILTERS)
    env.filters["chart_row"] = chart_row
    env.globals["chart_scale"] = nice_scale
    return env


def chart_row(point: tuple[Any, Any], digits: int = 0) -> tuple[Any, str]:
    """A chart's (label, value) as a table row, the value formatted for the reader."""
    return point[0], number(point[1], digits)


def template_config(registry: PluginRegistry) -> TemplateConfig[JinjaTemplateEngine]:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(template_environment(registry)))


def csrf_config(settings: Settings) -> CSRFConfig:
    """Double-submit CSRF tokens for forms and htmx; the API (bearer tokens) is exempt. The secret
    is replaced at start-up by one shared through Redis, so every web process accepts every form."""
    return CSRFConfig(
        secret=secrets.token_hex(32),
        cookie_name=CSRF_COOKIE,
        header_name=CSRF_HEADER,
        cookie_secure=not settings.sandbox,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=[r"^/graphql", r"^/healthz$"],
    )


def web_lifespan(csrf: CSRFConfig) -> Callable[[Litestar], Any]:
    """After the services are up: compile the catalogs and take the shared CSRF secret."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        i18n.catalogs()
        services: Services = app.state.services
        await services.redis.set(CSRF_SECRET_KEY, secrets.token_hex(32), nx=True)
        shared = await services.redis.get(CSRF_SECRET_KEY)
        csrf.secret = shared.decode() if isinstance(shared, bytes) else str(shared)
        yield

    return lifespan


async def security_headers(message: Message, scope: Scope) -> None:
    """A ``before_send`` hook: the browser protections on every response but the API's."""
    if message["type"] != "http.response.start" or scope["path"].startswith(API_PATHS):
        return
    headers = list(message.get("headers", []))
    present = {name.lower() for name, _ in headers}
    headers.extend((k, v) for k, v in SECURITY_HEADERS.items() if k not in present)
    if not scope["path"].startswith("/static/") and b"cache-control" not in present:
        headers.append((b"cache-control", b"no-store"))  # pages hold personal data; shared phones
    message["headers"] = headers


def plugin_enabled(plugin_id: str) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Any]:
    """A guard: a plugin's pages exist only in municipalities that enabled the plugin (404 otherwise,
    as for anything that is not yours)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        user = await web_user(connection)
        require_municipality(user)
        if plugin_id not in user.enabled_plugins:
            raise NotFound("Page", connection.url.path)

    return guard


async def federation_admin(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A guard: federation pages are for federation administrators only (the 403 page otherwise)."""
    require_federation_admin(await web_user(connection))


def plugin_routers(registry: PluginRegistry) -> list[Router]:
    """Each plugin's web pages: municipality and staff pages under /web/plugins/<id>/, behind the
    enablement guard; federation pages under /web/federation/<id>/, for federation admins only."""
    routers = []
    for p in registry:
        local = [page.handler for page in p.pages if page.audience != "federation"]
        federation = [page.handler for page in p.pages if page.audience == "federation"]
        if local:
            routers.append(Router(path=f"/web/plugins/{p.id}", route_handlers=local, guards=[plugin_enabled(p.id)]))
        if federation:
            routers.append(Router(path=f"/web/federation/{p.id}", route_handlers=federation, guards=[federation_admin]))
    return routers


async def set_request_language(request: Request[Any, Any, Any]) -> None:
    i18n.set_language(request.cookies.get(i18n.LANG_COOKIE) or "")


def section_routes() -> list[Any]:
    routes: list[Any] = []
    for section in SECTIONS:
        name = f"backend.web.{section}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # the section is there but broken: fail loudly
                raise
            continue
        routes.extend(getattr(module, "ROUTES", None) or getattr(module, f"{section.upper()}_ROUTES", []))
    return routes


def web_router(registry: PluginRegistry, pages: list[Any] | None = None) -> Router:
    """The web UI at ``/``: the foundation's pages, the sections' (``SECTIONS``), ``pages``, and
    plugin pages."""
    return Router(
        path="/",
        route_handlers=[
            start_page,
            login_page,
            login_submit,
            logout,
            choose_page,
            choose_submit,
            switch_language,
            *section_routes(),
            *(pages or []),
            *plugin_routers(registry),
        ],
        before_request=set_request_language,
        exception_handlers=web_exception_handlers(),
        include_in_schema=False,
    )


def static_router() -> Router:
    return create_static_files_router(path="/static", directories=[STATIC_DIR], name="static", include_in_schema=False)


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE",
    "csrf_config",
    "plugin_routers",
    "security_headers",
    "static_router",
    "template_config",
    "web_lifespan",
    "web_router",
]
