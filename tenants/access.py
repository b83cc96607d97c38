"""Who may do what: roles, token scopes, permissions and the acting principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from uuid import UUID

from backend.lib import PermissionDenied, Unauthenticated


class Role(str, Enum):
    FEDERATION_ADMIN = "federation_admin"
    TENANT_ADMIN = "tenant_admin"
    STAFF = "staff"
    INTEGRATOR = "integrator"


TENANT_ROLES = (Role.TENANT_ADMIN, Role.STAFF, Role.INTEGRATOR)


class Permission(str, Enum):
    MUNICIPALITY_READ = "municipality:read"
    MUNICIPALITY_CREATE = "municipality:create"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    PLUGINS_MANAGE = "plugins:manage"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FEDERATION_ADMIN: frozenset(Permission),
    Role.TENANT_ADMIN: frozenset(
        {
            Permission.MUNICIPALITY_READ,
            Permission.USERS_READ,
            Permission.USERS_MANAGE,
            Permission.TOKENS_MANAGE,
            Permission.AUDIT_READ,
            Permission.PLUGINS_MANAGE,
        }
    ),
    Role.STAFF: frozenset({Permission.MUNICIPALITY_READ}),
    Role.INTEGRATOR: frozenset({Permission.MUNICIPALITY_READ}),
}

# What an integrator token may be granted. A scope names a permission; tokens never manage
# users or tokens, whatever they ask for.
TOKEN_SCOPES: frozenset[str] = frozenset({Permission.MUNICIPALITY_READ.value, Permission.AUDIT_READ.value})


@dataclass(frozen=True)
class Actor:
    """Who did something, as the audit log records it."""

    kind: str  # "user" | "token" | "system"
    id: UUID | None
    label: str

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls("system", None, label)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request, and the tenant it acts in (if any)."""

    actor: Actor
    federation_id: UUID | None = None
    is_federation_admin: bool = False
    memberships: dict[UUID, frozenset[Role]] = field(default_factory=dict)
    token_tenant_id: UUID | None = None
    token_scopes: frozenset[str] = frozenset()
    token_user_id: UUID | None = None  # the user an API token was issued to, if any
    tenant_id: UUID | None = None

    @property
    def user_id(self) -> UUID | None:
        return self.actor.id if self.actor.kind == "user" else None

    def roles_in(self, tenant_id: UUID) -> frozenset[Role]:
        roles = set(self.memberships.get(tenant_id, frozenset()))
        if self.is_federation_admin:
            roles.add(Role.FEDERATION_ADMIN)
        return frozenset(roles)

    def permissions_in(self, tenant_id: UUID) -> frozenset[Permission]:
        if self.actor.kind == "token":
            if tenant_id != self.token_tenant_id:
                return frozenset()
            return frozenset(Permission(s) for s in self.token_scopes if s in TOKEN_SCOPES)
        granted: set[Permission] = set()
        for role in self.roles_in(tenant_id):
            granted |= ROLE_PERMISSIONS[role]
        return frozenset(granted)

    def can_enter(self, tenant_id: UUID, tenant_federation_id: UUID) -> bool:
        if self.actor.kind == "token":
            return tenant_id == self.token_tenant_id
        if self.is_federation_admin and tenant_federation_id == self.federation_id:
            return True
        return tenant_id in self.memberships


ANONYMOUS = Principal(actor=Actor("anonymous", None, "anonymous"))


def require_tenant(principal: Principal) -> UUID:
    """The tenant this request acts in, or a clear error saying how to choose one."""
    if principal.actor.kind == "anonymous":
        raise Unauthenticated("Sign in (mutation login) or send an API token as 'Authorization: Bearer ...'.")
    if principal.tenant_id is None:
        raise PermissionDenied(
            "No municipality chosen: send the header 'X-Samverka-Tenant: <slug>' for one you belong to."
        )
    return principal.tenant_id


def require(principal: Principal, permission: Permission) -> UUID:
    """The tenant to act in, once the principal holds ``permission`` there."""
    tenant_id = require_tenant(principal)
    if permission not in principal.permissions_in(tenant_id):
        raise PermissionDenied(f"This needs the permission '{permission.value}' in this municipality.")
    return tenant_id


def require_signed_in(principal: Principal) -> None:
    if principal.actor.kind == "anonymous":
        raise Unauthenticated("Sign in (mutation login) or send an API token as 'Authorization: Bearer ...'.")
