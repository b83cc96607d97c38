"""Kernel queries, mutations and subscriptions: me, municipalities, users, tokens, audit log."""

from collections.abc import AsyncGenerator
from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

import strawberry

from backend.graphql.context import Info
from backend.graphql.decorators import field, mutation, subscription
from backend.graphql.errors import Error, Errors, errors_as_data
from backend.graphql.relay import Connection, connection, page_request
from backend.graphql.streams import authorized_stream
from backend.graphql.types import ApiToken, AuditEntry, Me, MembershipInfo, Municipality, User
from backend.lib import NotFound, PageRequest, PermissionDenied, ValidationFailed
from backend.live import channel, decode_audit
from plugins.registry import PluginRegistry
from tenants import accounts, audit, provisioning, tokens
from tenants.access import TOKEN_SCOPES, Permission, Role, require, require_signed_in
from tenants.database import Database


def parse_id(value: str, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise NotFound(kind, value) from None


def grantable_scopes(registry: PluginRegistry) -> frozenset[str]:
    return TOKEN_SCOPES.union(*(p.scopes for p in registry))


def db(info: Info) -> Database:
    return info.context.services.db


@strawberry.type
class LoginSuccess:
    token: str = strawberry.field(description="Send as 'Authorization: Bearer <token>'.")
    expires_at: datetime
    user: User


@strawberry.type
class ApiTokenCreated:
    token: str = strawberry.field(description="Shown this once; store it now.")
    api_token: ApiToken


@strawberry.input
class CreateMunicipalityInput:
    name: str
    code: str
    slug: str | None = None
    population: int | None = None


@strawberry.input
class CreateUserInput:
    email: str
    name: str
    role: Role
    password: str | None = None


@strawberry.input
class CreateApiTokenInput:
    name: str
    scopes: list[str]
    expires_in_days: int = 90


@strawberry.type
class KernelQuery:
    @field(description="The caller, the municipality this request acts in, and their rights.")
    async def me(self, info: Info) -> Me:
        p = info.context.principal
        user = None
        if p.user_id:
            async with db(info).shared() as scope:
                user = User.of(await accounts.get_user(scope, p.user_id))
        here = await provisioning.get_municipality(db(info), p.tenant_id) if p.tenant_id else None
        page = PageRequest(first=100)
        mine = await provisioning.list_municipalities(db(info), page, only=frozenset(p.memberships))
        return Me(
            kind=p.actor.kind,
            label=p.actor.label,
            user=user,
            municipality=Municipality.of(here) if here else None,
            permissions=sorted(x.value for x in p.permissions_in(p.tenant_id)) if p.tenant_id else [],
            memberships=[
                MembershipInfo(municipality=Municipality.of(m), roles=sorted(p.memberships[m.id])) for m in mine.items
            ],
        )

    @field(description="Federation admins see every member; others the ones they belong to.")
    async def municipalities(self, info: Info, first: int = 20, after: str | None = None) -> Connection[Municipality]:
        p = info.context.principal
        require_signed_in(p)
        only: frozenset[UUID] | None = None
        if not p.is_federation_admin:
            only = frozenset(p.memberships) | ({p.token_tenant_id} if p.token_tenant_id is not None else set())
        page = await provisioning.list_municipalities(
            db(info),
            page_request(first, after),
            federation_id=p.federation_id if p.is_federation_admin else None,
            only=only,
        )
        return connection(page, Municipality.of)

    @field(description="Users with a role in this municipality.")
    async def users(self, info: Info, first: int = 20, after: str | None = None) -> Connection[User]:
        tenant = require(info.context.principal, Permission.USERS_READ)
        async with db(info).tenant(tenant) as scope:
            page = await accounts.list_tenant_users(scope, page_request(first, after))
            roles = await accounts.memberships_in_tenant(scope, [u.id for u in page.items])
        return connection(page, lambda u: User.of(u, sorted(roles.get(u.id, []))))

    @field(description="This municipality's integrator API tokens (never their secrets).")
    async def api_tokens(self, info: Info, first: int = 20, after: str | None = None) -> Connection[ApiToken]:
        tenant = require(info.context.principal, Permission.TOKENS_MANAGE)
        async with db(info).tenant(tenant) as scope:
            page = await tokens.list_tokens(scope, page_request(first, after))
        return connection(page, ApiToken.of)

    @field(description="This municipality's audit log, newest first.")
    async def audit_log(
        self, info: Info, first: int = 20, after: str | None = None, action: str | None = None
    ) -> Connection[AuditEntry]:
        tenant = require(info.context.principal, Permission.AUDIT_READ)
        async with db(info).tenant(tenant) as scope:
            page = await audit.list_entries(scope, page_request(first, after, numeric=True), action=action)
        return connection(page, AuditEntry.of)


@strawberry.type
class KernelMutation:
    @mutation(description="Sign in with e-mail and password; returns a bearer session token.")
    @errors_as_data
    async def login(
        self, info: Info, email: str, password: str
    ) -> Annotated[LoginSuccess | Errors, strawberry.union("LoginResult")]:
        services = info.context.services
        session = await accounts.sign_in(
            services.db,
            email=email,
            password=password,
            ttl=timedelta(hours=services.settings.session_ttl_hours),
            attempts=services.redis,
        )
        await services.jobs.enqueue("kernel.record_sign_in", str(session.user.id), str(session.id))
        return LoginSuccess(token=session.token, expires_at=session.expires_at, user=User.of(session.user))

    @mutation(description="End the current session.")
    async def logout(self, info: Info) -> bool:
        token = info.context.bearer_token
        if info.context.principal.user_id is None or token is None:
            return False
        await accounts.sign_out(db(info), token)
        return True

    @mutation(description="Add a member municipality (federation admins).")
    @errors_as_data
    async def create_municipality(
        self, info: Info, input: CreateMunicipalityInput
    ) -> Annotated[Municipality | Errors, strawberry.union("CreateMunicipalityResult")]:
        p = info.context.principal
        require_signed_in(p)
        if not p.is_federation_admin or p.federation_id is None:
            raise PermissionDenied("Only federation administrators add municipalities.")
        record = await provisioning.create_municipality(
            db(info),
            federation_id=p.federation_id,
            name=input.name,
            code=input.code,
            slug=input.slug,
            population=input.population,
            actor=p.actor,
        )
        return Municipality.of(record)

    @mutation(description="Create an account with a role in this municipality.")
    @errors_as_data
    async def create_user(
        self, info: Info, input: CreateUserInput
    ) -> Annotated[User | Errors, strawberry.union("CreateUserResult")]:
        p = info.context.principal
        tenant = require(p, Permission.USERS_MANAGE)
        here = await provisioning.get_municipality(db(info), tenant)
        async with db(info).tenant(tenant) as scope:
            user = await accounts.create_user(
                scope, email=input.email, name=input.name, password=input.password, federation_id=here.federation_id
            )
            await accounts.grant_membership(scope, user_id=user.id, role=Role(input.role), actor=p.actor)
            await audit.record(
                scope,
                actor=p.actor,
                action="user.created",
                target_kind="user",
                target_id=user.id,
                details={"email": user.email},
            )
        return User.of(user, [input.role])

    @mutation(description="Give a user a role in this municipality.")
    @errors_as_data
    async def grant_role(
        self, info: Info, user_id: strawberry.ID, role: Role
    ) -> Annotated[User | Errors, strawberry.union("GrantRoleResult")]:
        p = info.context.principal
        tenant = require(p, Permission.USERS_MANAGE)
        uid = parse_id(user_id, "User")
        async with db(info).tenant(tenant) as scope:
            await accounts.grant_membership(scope, user_id=uid, role=Role(role), actor=p.actor)
            roles = (await accounts.memberships_in_tenant(scope, [uid])).get(uid, [])
            return User.of(await accounts.get_user(scope, uid), sorted(roles))

    @mutation(description="Take a role in this municipality away from a user.")
    @errors_as_data
    async def revoke_role(
        self, info: Info, user_id: strawberry.ID, role: Role
    ) -> Annotated[User | Errors, strawberry.union("RevokeRoleResult")]:
        p = info.context.principal
        tenant = require(p, Permission.USERS_MANAGE)
        uid = parse_id(user_id, "User")
        async with db(info).tenant(tenant) as scope:
            await accounts.revoke_membership(scope, user_id=uid, role=Role(role), actor=p.actor)
            roles = (await accounts.memberships_in_tenant(scope, [uid])).get(uid, [])
            return User.of(await accounts.get_user(scope, uid), sorted(roles))

    @mutation(description="Grant an integrator API token for this municipality.")
    @errors_as_data
    async def create_api_token(
        self, info: Info, input: CreateApiTokenInput
    ) -> Annotated[ApiTokenCreated | Errors, strawberry.union("CreateApiTokenResult")]:
        p = info.context.principal
        tenant = require(p, Permission.TOKENS_MANAGE)
        async with db(info).tenant(tenant) as scope:
            new = await tokens.create_token(
                scope,
                name=input.name,
                scopes=input.scopes,
                allowed_scopes=grantable_scopes(info.context.services.plugins),
                expires_in_days=input.expires_in_days,
                actor=p.actor,
            )
        return ApiTokenCreated(token=new.token, api_token=ApiToken.of(new.record))

    @mutation(description="Revoke an API token; it stops working at once.")
    @errors_as_data
    async def revoke_api_token(
        self, info: Info, id: strawberry.ID
    ) -> Annotated[ApiToken | Errors, strawberry.union("RevokeApiTokenResult")]:
        p = info.context.principal
        tenant = require(p, Permission.TOKENS_MANAGE)
        token_id = parse_id(id, "API token")
        async with db(info).tenant(tenant) as scope:
            return ApiToken.of(await tokens.revoke_token(scope, token_id=token_id, actor=p.actor))


@strawberry.type
class KernelSubscription:
    @subscription(description="Audit entries of this municipality as they are written.")
    async def audit_log_added(self, info: Info) -> AsyncGenerator[AuditEntry, None]:
        tenant = require(info.context.principal, Permission.AUDIT_READ)
        stream = authorized_stream(info.context, channel(tenant, "audit"), lambda p: require(p, Permission.AUDIT_READ))
        async for payload in stream:
            yield AuditEntry.of(decode_audit(payload))


__all__ = ["Error", "KernelMutation", "KernelQuery", "KernelSubscription", "ValidationFailed"]
