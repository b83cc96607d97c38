"""Integrator API tokens: granted per tenant by its admin, shown once, stored hashed.

A token reads ``svk_<tenant id>_<secret>``: the tenant part lets the lookup run
inside that tenant's transaction, so row-level security guards it like any
other tenant data. Only the SHA-256 of the whole token is stored.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from backend.lib import FieldError, NotFound, Page, PageRequest, Unauthenticated, ValidationFailed, utcnow
from tenants import audit
from tenants.access import TOKEN_SCOPES, Actor
from tenants.database import Database, Scope
from tenants.secrets import digest
from tenants.tables import ApiToken

PREFIX = "svk_"
MAX_DAYS = 366
MAX_NAME = 200  # api_token.name is varchar(200)


@dataclass(frozen=True)
class TokenRecord:
    id: UUID
    tenant_id: UUID
    name: str
    prefix: str
    scopes: tuple[str, ...]
    user_id: UUID | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class NewToken:
    token: str
    record: TokenRecord


def _token(row: dict[str, Any]) -> TokenRecord:
    return TokenRecord(
        row["id"],
        row["tenant_id"],
        row["name"],
        row["prefix"],
        tuple(row["scopes"]),
        row["user_id"],
        row["created_at"],
        row["expires_at"],
        row["revoked_at"],
        row["last_used_at"],
    )


def tenant_of(token: str) -> UUID:
    """The tenant a token claims to belong to; the lookup then proves it."""
    try:
        head, tenant_hex, _secret = token.split("_", 2)
        if head + "_" != PREFIX:
            raise ValueError
        return UUID(hex=tenant_hex)
    except ValueError:
        raise Unauthenticated("This is not a Samverka API token.") from None


async def create_token(
    scope: Scope,
    *,
    name: str,
    scopes: list[str],
    expires_in_days: int,
    user_id: UUID | None = None,
    allowed_scopes: frozenset[str] = TOKEN_SCOPES,
    actor: Actor,
) -> NewToken:
    """``allowed_scopes``: the kernel's plus those of the installed plugins."""
    problems = []
    if not name.strip():
        problems.append(FieldError("name", "Name the token after the integration that uses it."))
    elif len(name.strip()) > MAX_NAME:
        problems.append(FieldError("name", f"Use at most {MAX_NAME} characters."))
    unknown = sorted(set(scopes) - allowed_scopes)
    if unknown:
        problems.append(FieldError("scopes", f"Unknown scopes {unknown}; allowed: {sorted(allowed_scopes)}."))
    if not scopes:
        problems.append(FieldError("scopes", "Grant at least one scope."))
    if not 1 <= expires_in_days <= MAX_DAYS:
        problems.append(FieldError("expiresInDays", f"A token lives between 1 and {MAX_DAYS} days."))
    if problems:
        raise ValidationFailed("The token could not be created.", problems)
    secret = secrets.token_urlsafe(32)
    token = f"{PREFIX}{scope.tenant.hex}_{secret}"
    row = ApiToken(
        id=uuid4(),
        tenant_id=scope.tenant,
        name=name.strip(),
        prefix=secret[:8],
        token_hash=digest(token),
        scopes=sorted(set(scopes)),
        user_id=user_id,
        created_by=actor.id,
        expires_at=utcnow() + timedelta(days=expires_in_days),
    )
    await ApiToken.insert(row)
    await audit.record(
        scope,
        actor=actor,
        action="token.created",
        target_kind="api_token",
        target_id=row.id,
        details={"name": row.name, "scopes": row.scopes, "expires_at": row.expires_at},
    )
    return NewToken(token, await get_token(scope, row.id))


async def get_token(scope: Scope, token_id: UUID) -> TokenRecord:
    row = await ApiToken.select().where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFound("API token", token_id)
    return _token(row)


async def revoke_token(scope: Scope, *, token_id: UUID, actor: Actor) -> TokenRecord:
    """Takes effect at once: every request looks the token up."""
    updated = (
        await ApiToken.update({ApiToken.revoked_at: utcnow()})
        .where((ApiToken.id == token_id) & ApiToken.revoked_at.is_null())
        .returning(ApiToken.id)
    )
    if not updated:
        existing = await get_token(scope, token_id)  # raises NotFound for unknown / other tenants' ids
        return existing
    await audit.record(scope, actor=actor, action="token.revoked", target_kind="api_token", target_id=token_id)
    return await get_token(scope, token_id)


async def list_tokens(scope: Scope, page: PageRequest) -> Page[TokenRecord]:
    query = ApiToken.select().order_by(ApiToken.id).limit(page.first + 1)
    after = page.after_key()
    if after is not None:
        try:
            query = query.where(ApiToken.id > UUID(after))
        except ValueError:
            raise ValidationFailed.on("after", "'after' is not a cursor this API gave out.") from None
    rows = [_token(r) for r in await query]
    return Page.from_rows(rows, [str(r.id) for r in rows], page)


async def resolve_token(db: Database, token: str) -> TokenRecord:
    """The live token behind a bearer string, or Unauthenticated saying why not."""
    tenant_id = tenant_of(token)
    async with db.tenant(tenant_id):
        row = await ApiToken.select().where(ApiToken.token_hash == digest(token)).first()
    if row is None:
        raise Unauthenticated("Unknown API token.")
    record = _token(row)
    if record.revoked_at is not None:
        raise Unauthenticated("This API token was revoked; ask the municipality's administrator for a new one.")
    if record.expires_at <= utcnow():
        raise Unauthenticated("This API token has expired; ask the municipality's administrator for a new one.")
    return record
