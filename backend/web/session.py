"""Who is using the web UI: the kernel session in a cookie, the chosen municipality, the language.

The session cookie holds the kernel session token (``svs_...``), so the web and the GraphQL API
share one sign-in and one revocation. Every request re-checks the session and the chosen
municipality against the user's memberships through ``backend.auth.authenticate``, the same path
a bearer token takes (rate limits included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote
from uuid import UUID

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.utils.scope.state import ScopeState

from backend.auth import authenticate
from backend.lib import MAX_PAGE_SIZE, NotFound, PageRequest, PermissionDenied, Unauthenticated
from backend.services import Services
from backend.web.i18n import LANG_COOKIE, negotiate
from plugins.state import enabled_ids
from tenants import provisioning
from tenants.access import Principal, Role
from tenants.accounts import SESSION_PREFIX

SESSION_COOKIE = "samverka_session"
TENANT_COOKIE = "samverka_tenant"
_CACHE_KEY = "samverka_web_user"


@dataclass(frozen=True)
class MunicipalityRef:
    id: UUID
    slug: str
    name: str


@dataclass(frozen=True)
class WebUser:
    """The signed-in person of one request and where they act."""

    principal: Principal  # tenant_id is the active municipality's id (or None)
    municipality: MunicipalityRef | None  # the active municipality
    municipalities: tuple[MunicipalityRef, ...]  # those the user may enter, by slug
    lang: str
    csrf_token: str
    enabled_plugins: frozenset[str] = frozenset()  # in the active municipality
    path: str = "/"  # this request's path and query (to come back to after choosing a municipality)
    token: str = field(default="", repr=False)  # the kernel session token (for signing out)

    @property
    def label(self) -> str:
        return self.principal.actor.label

    @property
    def is_federation_admin(self) -> bool:
        return self.principal.is_federation_admin

    @property
    def roles(self) -> frozenset[Role]:
        """Roles in the active municipality (federation admins hold ``federation_admin`` there)."""
        return self.principal.roles_in(self.municipality.id) if self.municipality else frozenset()


class LoginRequired(Exception):
    """Not signed in, or the session ended: the error handlers redirect to the sign-in page."""

    def __init__(self, next_path: str, *, expired: bool = False) -> None:
        super().__init__(next_path)
        self.next_path = next_path
        self.expired = expired

    @property
    def location(self) -> str:
        return f"/login?next={quote(self.next_path, safe='/')}"


class ChooseMunicipality(Exception):
    """The page needs a municipality and none is chosen: redirect to the choice."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.location = f"/web/choose?next={quote(next_path, safe='/')}"


class UnknownMunicipality(NotFound):
    """The municipality cookie names one that does not exist or is not the user's: both 404 alike."""

    def __init__(self, slug: str) -> None:
        super().__init__("Municipality", slug)


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to return to after sign-in; anything else (other hosts, schemes) is ignored."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or "\x00" in value:
        return default
    return value


def request_path(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def csrf_token(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The CSRF token of this request, as litestar's CSRF middleware issued or checked it."""
    return str(getattr(ScopeState.from_scope(request.scope), "csrf_token", "") or "")


def make_cookie(
    request: ASGIConnection[Any, Any, Any, Any],
    key: str,
    value: str,
    *,
    max_age: int | None = None,
    httponly: bool = True,
) -> Cookie:
    """A cookie of the web UI: SameSite=Lax, path ``/``, Secure except over plain HTTP in development
    and tests (``samverka up`` serves http://127.0.0.1:8000, where Secure cookies would be dropped)."""
    secure = request.url.scheme == "https" or not services_of(request).settings.sandbox
    return Cookie(key=key, value=value, max_age=max_age, path="/", secure=secure, httponly=httponly, samesite="lax")


def expired_cookie(request: ASGIConnection[Any, Any, Any, Any], key: str) -> Cookie:
    return make_cookie(request, key, "", max_age=0)


def services_of(request: ASGIConnection[Any, Any, Any, Any]) -> Services:
    services: Services = request.app.state.services
    return services


async def web_user(request: ASGIConnection[Any, Any, Any, Any]) -> WebUser:
    """The signed-in user, or :class:`LoginRequired` (a redirect to ``/login?next=...``)."""
    cached = request.scope.get("state", {}).get(_CACHE_KEY)
    if isinstance(cached, WebUser):
        return cached
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token.startswith(SESSION_PREFIX):
        raise LoginRequired(request_path(request))
    services = services_of(request)
    slug = request.cookies.get(TENANT_COOKIE) or None
    client = request.client.host if request.client else None
    try:
        principal = await authenticate(services, f"Bearer {token}", slug, client)
    except Unauthenticated:
        raise LoginRequired(request_path(request), expired=True) from None
    except (NotFound, PermissionDenied):  # the cookie names a municipality that is not the user's
        raise UnknownMunicipality(slug or "") from None
    if principal.actor.kind != "user":
        raise LoginRequired(request_path(request))
    municipalities = await _municipalities(services, principal)
    active = next((m for m in municipalities if m.id == principal.tenant_id), None)
    if principal.tenant_id is not None and active is None:
        record = await provisioning.get_municipality(services.db, principal.tenant_id)
        active = MunicipalityRef(record.id, record.slug, record.name)
    enabled: frozenset[str] = frozenset()
    if active is not None:
        async with services.db.tenant(active.id) as scope:
            enabled = await enabled_ids(scope)
    user = WebUser(
        principal=principal,
        municipality=active,
        municipalities=municipalities,
        lang=negotiate(request.cookies.get(LANG_COOKIE)),
        csrf_token=csrf_token(request),
        enabled_plugins=enabled,
        path=request_path(request),
        token=token,
    )
    request.scope.setdefault("state", {})[_CACHE_KEY] = user
    return user


def cached_web_user(request: ASGIConnection[Any, Any, Any, Any]) -> WebUser | None:
    """The user if this request already resolved one (error pages show the header with it)."""
    cached = request.scope.get("state", {}).get(_CACHE_KEY)
    return cached if isinstance(cached, WebUser) else None


async def _municipalities(services: Services, principal: Principal) -> tuple[MunicipalityRef, ...]:
    """Federation admins may enter every member of their federation; others their memberships."""
    page = PageRequest(first=MAX_PAGE_SIZE)
    if principal.is_federation_admin and principal.federation_id is not None:
        found = await provisioning.list_municipalities(services.db, page, federation_id=principal.federation_id)
    elif principal.memberships:
        found = await provisioning.list_municipalities(services.db, page, only=frozenset(principal.memberships))
    else:
        return ()
    return tuple(MunicipalityRef(m.id, m.slug, m.name) for m in found.items)


def require_municipality(user: WebUser) -> MunicipalityRef:
    """The active municipality, or a redirect to the choice (and back here afterwards)."""
    if user.municipality is None:
        raise ChooseMunicipality(user.path)
    return user.municipality


def require_tenant_role(user: WebUser, roles: frozenset[Role] | set[Role]) -> UUID:
    """The active municipality's id once the user holds one of ``roles`` there (federation admins
    always do, as in ``backend.plugin_api.check_access``); a 403 page otherwise."""
    municipality = require_municipality(user)
    if user.principal.roles_in(municipality.id) & (set(roles) | {Role.FEDERATION_ADMIN}):
        return municipality.id
    raise PermissionDenied("You do not have a role here that allows this.")


def require_federation_admin(user: WebUser) -> UUID:
    """The user's federation id, for federation administrators only (a 403 page otherwise)."""
    if not user.principal.is_federation_admin or user.principal.federation_id is None:
        raise PermissionDenied("Only federation administrators may see this.")
    return user.principal.federation_id


__all__ = [
    "SESSION_COOKIE",
    "TENANT_COOKIE",
    "ChooseMunicipality",
    "LoginRequired",
    "MunicipalityRef",
    "UnknownMunicipality",
    "WebUser",
    "cached_web_user",
    "expired_cookie",
    "make_cookie",
    "require_federation_admin",
    "require_municipality",
    "require_tenant_role",
    "safe_next",
    "services_of",
    "web_user",
]
