"""Who is calling: a bearer session (people) or API token (integrators), and in which tenant."""

from __future__ import annotations

import time
from uuid import UUID

from backend.lib import PermissionDenied, RateLimited, Unauthenticated
from backend.services import Services
from tenants.access import ANONYMOUS, Actor, Principal
from tenants.accounts import SESSION_PREFIX, own_memberships, resolve_session
from tenants.provisioning import find_municipality
from tenants.tokens import PREFIX as TOKEN_PREFIX
from tenants.tokens import resolve_token

TENANT_HEADER = "x-samverka-tenant"


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("Send credentials as 'Authorization: Bearer <token>'.")
    return value.strip()


async def authenticate(
    services: Services, authorization: str | None, tenant_ref: str | None, client: str | None = None
) -> Principal:
    """``client`` is the caller's address: anonymous requests (sign-in, vendor registration) are
    rate limited per address, as signed-in ones are per caller."""
    token = bearer(authorization)
    if token is None:
        if tenant_ref:
            raise Unauthenticated("Sign in before choosing a municipality.")
        if client is not None:
            await _rate_limit(services, "public", f"address:{client}")
        return ANONYMOUS
    if token.startswith(TOKEN_PREFIX):
        return await _token_principal(services, token, tenant_ref)
    if token.startswith(SESSION_PREFIX):
        return await _session_principal(services, token, tenant_ref)
    raise Unauthenticated("Unknown kind of token; API tokens start with 'svk_', sessions with 'svs_'.")


async def _token_principal(services: Services, token: str, tenant_ref: str | None) -> Principal:
    record = await resolve_token(services.db, token)
    if tenant_ref:
        chosen = await _tenant_id(services, tenant_ref)
        if chosen != record.tenant_id:
            raise PermissionDenied("This API token was not granted for that municipality.")
    await _rate_limit(services, record.tenant_id, f"token:{record.id}")
    return Principal(
        actor=Actor("token", record.id, f"token:{record.name}"),
        token_tenant_id=record.tenant_id,
        token_scopes=frozenset(record.scopes),
        token_user_id=record.user_id,  # read by the same lookup, no extra query
        tenant_id=record.tenant_id,
    )


async def _session_principal(services: Services, token: str, tenant_ref: str | None) -> Principal:
    user = await resolve_session(services.db, token)
    memberships = await own_memberships(services.db, user.id)
    principal = Principal(
        actor=Actor("user", user.id, user.email),
        federation_id=user.federation_id,
        is_federation_admin=user.is_federation_admin,
        memberships=memberships,
    )
    tenant_id: UUID | None = None
    if tenant_ref:
        municipality = await find_municipality(services.db, tenant_ref)
        if not principal.can_enter(municipality.id, municipality.federation_id):
            raise PermissionDenied("You have no role in that municipality.")
        tenant_id = municipality.id
    elif len(memberships) == 1:
        tenant_id = next(iter(memberships))
    # In a municipality, or at federation level (vendors, federation admins choosing none).
    await _rate_limit(services, tenant_id if tenant_id is not None else "federation", f"user:{user.id}")
    return Principal(**{**principal.__dict__, "tenant_id": tenant_id})


async def _tenant_id(services: Services, ref: str) -> UUID:
    return (await find_municipality(services.db, ref)).id


async def _rate_limit(services: Services, tenant_id: UUID | str, caller: str) -> None:
    """A fixed one-minute window per caller and tenant, counted in Redis (shared by all web processes)."""
    limit = services.settings.rate_limit_per_minute
    window = int(time.time() // 60)
    key = f"samverka:ratelimit:{tenant_id}:{caller}:{window}"
    async with services.redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, 120)
        count, _ = await pipe.execute()
    if count > limit:
        raise RateLimited(
            f"More than {limit} requests a minute; slow down and retry shortly.",
            retry_after_s=60 - int(time.time() % 60),
        )
