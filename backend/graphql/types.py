"""GraphQL object types of the kernel, mapped from the services' records."""

from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from tenants.access import Role
from tenants.accounts import UserRecord
from tenants.audit import AuditRecord
from tenants.provisioning import MunicipalityRecord
from tenants.tokens import TokenRecord

# Registers the domain enum itself as GraphQL's Role (strawberry.enum returns the class it is given).
strawberry.enum(Role, name="Role", description="federation_admin acts in every municipality of its federation.")


@strawberry.type
class Municipality:
    id: strawberry.ID
    slug: str
    name: str
    code: str = strawberry.field(description="Kommunkod, four digits.")
    population: int | None
    created_at: datetime

    @classmethod
    def of(cls, r: MunicipalityRecord) -> "Municipality":
        return cls(
            id=strawberry.ID(str(r.id)),
            slug=r.slug,
            name=r.name,
            code=r.code,
            population=r.population,
            created_at=r.created_at,
        )


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    name: str
    is_federation_admin: bool
    locale: str
    disabled: bool
    roles: list[Role] = strawberry.field(description="Roles in the municipality of this request.")

    @classmethod
    def of(cls, r: UserRecord, roles: Sequence[Role] | None = None) -> "User":
        return cls(
            id=strawberry.ID(str(r.id)),
            email=r.email,
            name=r.name,
            is_federation_admin=r.is_federation_admin,
            locale=r.locale,
            disabled=r.disabled,
            roles=list(roles or []),
        )


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="First characters of the secret, to tell tokens apart.")
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, r: TokenRecord) -> "ApiToken":
        return cls(
            id=strawberry.ID(str(r.id)),
            name=r.name,
            prefix=r.prefix,
            scopes=list(r.scopes),
            created_at=r.created_at,
            expires_at=r.expires_at,
            revoked_at=r.revoked_at,
            last_used_at=r.last_used_at,
        )


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    occurred_at: datetime
    actor_kind: str
    actor_id: strawberry.ID | None
    actor_label: str
    action: str
    target_kind: str
    target_id: str
    details: JSON

    @classmethod
    def of(cls, r: AuditRecord) -> "AuditEntry":
        return cls(
            id=strawberry.ID(str(r.id)),
            occurred_at=r.occurred_at,
            actor_kind=r.actor_kind,
            actor_id=strawberry.ID(str(r.actor_id)) if r.actor_id else None,
            actor_label=r.actor_label,
            action=r.action,
            target_kind=r.target_kind,
            target_id=r.target_id,
            details=JSON(r.details),
        )


@strawberry.type
class MembershipInfo:
    municipality: Municipality
    roles: list[Role]


@strawberry.type
class Me:
    kind: str = strawberry.field(description="user, token or anonymous.")
    label: str
    user: User | None
    municipality: Municipality | None = strawberry.field(description="The municipality this request acts in.")
    permissions: list[str]
    memberships: list[MembershipInfo]
