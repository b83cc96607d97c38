"""Errors as pages: a clear page in the user's language for every failure, never a stack trace.

``backend.lib`` errors from the services and litestar's HTTP errors (no route, a failed CSRF check,
a body too large) become the pages 400, 403, 404, 409, 413, 429 and 500; ``LoginRequired`` and
``ChooseMunicipality`` become redirects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, PermissionDeniedException
from litestar.exceptions.responses import create_exception_response
from litestar.response import Redirect

from backend.lib import DomainError, Unauthenticated
from backend.web.i18n import LANG_COOKIE, N_, gettext, set_language
from backend.web.render import FLASH_COOKIE, flash_cookie_value, render
from backend.web.session import (
    SESSION_COOKIE,
    TENANT_COOKIE,
    ChooseMunicipality,
    LoginRequired,
    UnknownMunicipality,
    cached_web_user,
    expired_cookie,
    make_cookie,
    request_path,
)

log = logging.getLogger("samverka.web")

# status: (title, what happened and what to do next); msgids, translated when shown.
PAGES: dict[int, tuple[str, str]] = {
    400: (N_("The request could not be handled"),
          N_("Something in what was sent was not valid. Go back, check what you entered and try again.")),
    403: (N_("You do not have access"),
          N_("Your account has no role that allows this here. Choose another municipality, or ask your "
             "municipality's administrator for access.")),
    404: (N_("Page not found"),
          N_("The page does not exist or you do not have access to it. Check the address, or start again "
             "from the start page.")),
    405: (N_("The request could not be handled"),
          N_("This page cannot be used that way. Start again from the start page.")),
    409: (N_("It could not be done"),
          N_("Something changed at the same time, or it already exists. Reload the page and try again.")),
    413: (N_("The file is too large"),
          N_("Files may be at most 5 MB. Choose a smaller file, or take the photo at a lower resolution, "
             "and try again.")),
    429: (N_("Too many requests"),
          N_("You have sent many requests in a short time. Wait a minute and try again.")),
    500: (N_("Something went wrong"),
          N_("An unexpected error occurred and has been logged. Try again in a moment; if it keeps "
             "happening, contact your municipality's support.")),
}
CSRF_PAGE = (N_("The form has expired"),
             N_("For your security a form can only be sent from a page you opened in Samverka. Nothing was "
                "changed. Go back, reload the page and try again."))
API_PATHS = ("/graphql", "/healthz")


def error_page(request: Request[Any, Any, Any], status: int, page: tuple[str, str] | None = None) -> Response[Any]:
    set_language(request.cookies.get(LANG_COOKIE) or "")
    title, text = page or PAGES.get(status) or PAGES[500 if status >= 500 else 400]
    response = render(request, cached_web_user(request), "error.html", status_code=status,
                      status=status, title=gettext(title), message=gettext(text))
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


def navigate(request: Request[Any, Any, Any], location: str) -> Response[Any]:
    """A redirect; for htmx (a fragment request) an ``HX-Redirect``, so the whole page goes there
    instead of the sign-in page landing inside a fragment."""
    if request.headers.get("hx-request"):
        return Response(None, status_code=204, headers={"HX-Redirect": location})
    return Redirect(location, status_code=303)


def login_redirect(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    set_language(request.cookies.get(LANG_COOKIE) or "")
    response = navigate(request, exc.location)
    if exc.expired:
        response.set_cookie(expired_cookie(request, SESSION_COOKIE))
        text = gettext("Your session has ended. Sign in again to continue.")
        response.set_cookie(make_cookie(request, FLASH_COOKIE, flash_cookie_value(text, "info"), max_age=60))
    return response


def choose_redirect(request: Request[Any, Any, Any], exc: ChooseMunicipality) -> Response[Any]:
    return navigate(request, exc.location)


def domain_error_page(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, Unauthenticated):
        return login_redirect(request, LoginRequired(request_path(request), expired=True))
    response = error_page(request, exc.http_status)
    if isinstance(exc, UnknownMunicipality):  # forget the stale choice, so the next page works
        response.set_cookie(expired_cookie(request, TENANT_COOKIE))
    return response


def http_error_page(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if isinstance(exc, PermissionDeniedException) and "CSRF" in (exc.detail or ""):
        return error_page(request, 403, CSRF_PAGE)
    return error_page(request, exc.status_code)


def server_error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


def app_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """App-level errors outside any route (no route matched, wrong method): a page for people,
    litestar's JSON for the API paths."""
    if request.url.path.startswith(API_PATHS):
        return create_exception_response(request, exc)
    return http_error_page(request, exc)


def web_exception_handlers() -> dict[type[Exception] | int, Callable[..., Response[Any]]]:
    """The web router's handlers (routes of the web UI, including plugin pages)."""
    return {
        LoginRequired: login_redirect,
        ChooseMunicipality: choose_redirect,
        DomainError: domain_error_page,
        HTTPException: http_error_page,
        Exception: server_error_page,
    }


__all__ = ["CSRF_PAGE", "PAGES", "app_http_error", "error_page", "web_exception_handlers"]
