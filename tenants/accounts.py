"""Users, their memberships in municipalities, and sign-in sessions."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from redis.asyncio import Redis

from backend.lib import (
    Conflict,
    FieldError,
    NotFound,
    Page,
    PageRequest,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
    utcnow,
)
from tenants import audit
from tenants.access import TENANT_ROLES, Actor, Role
from tenants.database import Database, Scope
from tenants.secrets import digest, hash_password, new_secret, verify_password
from tenants.tables import AppUser, Membership, Municipality, UserSession

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10
MAX_EMAIL = 320  # app_user.email is varchar(320)
MAX_NAME = 200  # app_user.name is varchar(200)
SESSION_PREFIX = "svs_"
# Lock-out: this many failed sign-ins for one e-mail address within the window lock it for as long.
MAX_FAILED_SIGN_INS = 5
LOCKOUT_S = 15 * 60
LOCKED_MESSAGE = "Too many failed sign-ins: the account is locked for 15 minutes. Try again later."


@dataclass(frozen=True)
class UserRecord:
    id: UUID
    federation_id: UUID | None
    email: str
    name: str
    is_federation_admin: bool
    locale: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True)
class MembershipRecord:
    id: UUID
    tenant_id: UUID
    user_id: UUID
    role: Role
    created_at: datetime


def _user(row: dict[str, Any]) -> UserRecord:
    return UserRecord(**{k: row[k] for k in UserRecord.__dataclass_fields__})


def _membership(row: dict[str, Any]) -> MembershipRecord:
    return MembershipRecord(row["id"], row["tenant_id"], row["user_id"], Role(row["role"]), row["created_at"])


def _check_new_user(email: str, name: str, password: str | None) -> str:
    email = email.strip().lower()
    problems = []
    if not EMAIL.match(email) or len(email) > MAX_EMAIL:
        problems.append(FieldError("email", "Give a valid e-mail address."))
    if not name.strip():
        problems.append(FieldError("name", "Give the user's name."))
    elif len(name.strip()) > MAX_NAME:
        problems.append(FieldError("name", f"Use at most {MAX_NAME} characters."))
    if password is not None and len(password) < MIN_PASSWORD:
        problems.append(FieldError("password", f"Use at least {MIN_PASSWORD} characters."))
    if problems:
        raise ValidationFailed("The user could not be created.", problems)
    return email


async def create_user(
    scope: Scope,
    *,
    email: str,
    name: str,
    password: str | None,
    federation_id: UUID | None,
    is_federation_admin: bool = False,
) -> UserRecord:
    """A federation-level account; it sees nothing until it is granted a membership."""
    email = _check_new_user(email, name, password)
    if await AppUser.exists().where(AppUser.email == email):
        raise Conflict(f"A user with the e-mail {email} already exists.")
    user = AppUser(
        id=uuid4(),
        email=email,
        name=name.strip(),
        federation_id=federation_id,
        password_hash=hash_password(password) if password else "",
        is_federation_admin=is_federation_admin,
    )
    await AppUser.insert(user)
    return await get_user(scope, user.id)


async def get_user(scope: Scope, user_id: UUID) -> UserRecord:
    row = await AppUser.select().where(AppUser.id == user_id).first()
    if row is None:
        raise NotFound("User", user_id)
    return _user(row)


async def find_user_by_email(scope: Scope, email: str) -> UserRecord | None:
    row = await AppUser.select().where(AppUser.email == email.strip().lower()).first()
    return _user(row) if row else None


async def grant_membership(scope: Scope, *, user_id: UUID, role: Role, actor: Actor) -> MembershipRecord:
    """Give a user a role in the scope's tenant; audited."""
    if role not in TENANT_ROLES:
        raise ValidationFailed.on("role", "Roles in a municipality are tenant_admin, staff or integrator.")
    here = await Municipality.select(Municipality.federation_id).where(Municipality.id == scope.tenant).first()
    same_federation = here is not None and await AppUser.exists().where(
        (AppUser.id == user_id) & (AppUser.federation_id == here["federation_id"])
    )
    if not same_federation:  # users of other federations are not this tenant's to see
        raise NotFound("User", user_id)
    if await Membership.exists().where((Membership.user_id == user_id) & (Membership.role == role.value)):
        raise Conflict("The user already has this role here.")
    row = Membership(id=uuid4(), tenant_id=scope.tenant, user_id=user_id, role=role.value)
    await Membership.insert(row)
    await audit.record(
        scope,
        actor=actor,
        action="membership.granted",
        target_kind="user",
        target_id=user_id,
        details={"role": role.value},
    )
    return _membership((await Membership.select().where(Membership.id == row.id).first()) or {})


async def revoke_membership(scope: Scope, *, user_id: UUID, role: Role, actor: Actor) -> None:
    deleted = (
        await Membership.delete()
        .where((Membership.user_id == user_id) & (Membership.role == role.value))
        .returning(Membership.id)
    )
    if not deleted:
        raise NotFound("Membership", f"{user_id}/{role.value}")
    await audit.record(
        scope,
        actor=actor,
        action="membership.revoked",
        target_kind="user",
        target_id=user_id,
        details={"role": role.value},
    )


async def memberships_in_tenant(scope: Scope, user_ids: list[UUID]) -> dict[UUID, list[Role]]:
    if not user_ids:
        return {}
    rows = await Membership.select(Membership.user_id, Membership.role).where(Membership.user_id.is_in(user_ids))
    result: dict[UUID, list[Role]] = {}
    for r in rows:
        result.setdefault(r["user_id"], []).append(Role(r["role"]))
    return result


async def list_tenant_users(scope: Scope, page: PageRequest) -> Page[UserRecord]:
    """Users holding any role in the scope's tenant, by e-mail."""
    user_ids = [r["user_id"] for r in await Membership.select(Membership.user_id).distinct()]
    if not user_ids:
        return Page([], [], False)
    query = AppUser.select().where(AppUser.id.is_in(user_ids)).order_by(AppUser.email).limit(page.first + 1)
    after = page.after_key()
    if after is not None:
        query = query.where(AppUser.email > after)
    rows = [_user(r) for r in await query]
    return Page.from_rows(rows, [r.email for r in rows], page)


async def own_memberships(db: Database, user_id: UUID) -> dict[UUID, frozenset[Role]]:
    """Every tenant role of a user: readable through the ``own_memberships`` policy only."""
    async with db.shared(user_id=user_id):
        rows = await Membership.select(Membership.tenant_id, Membership.role)
    result: dict[UUID, set[Role]] = {}
    for r in rows:
        result.setdefault(r["tenant_id"], set()).add(Role(r["role"]))
    return {k: frozenset(v) for k, v in result.items()}


@dataclass(frozen=True)
class NewSession:
    id: UUID
    token: str
    expires_at: datetime
    user: UserRecord


def _attempt_keys(email: str) -> tuple[str, str]:
    """Redis keys of an address's failures and lock (hashed: no addresses in Redis)."""
    h = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"samverka:signin:failures:{h}", f"samverka:signin:locked:{h}"


async def _refuse_if_locked(redis: Redis, email: str) -> None:
    _, locked = _attempt_keys(email)
    ttl = await redis.ttl(locked)
    if ttl is not None and ttl > 0:
        raise RateLimited(LOCKED_MESSAGE, retry_after_s=int(ttl))


async def _count_failure(redis: Redis, email: str) -> None:
    """Failures count per address whether or not it has an account, so the lock-out reveals nothing."""
    failures, locked = _attempt_keys(email)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(failures, 0, ex=LOCKOUT_S, nx=True)  # the window starts at the first failure
        pipe.incr(failures)  # keeps the key's expiry
        _, count = await pipe.execute()
    if int(count) >= MAX_FAILED_SIGN_INS:
        await redis.set(locked, "1", ex=LOCKOUT_S)
        await redis.delete(failures)
        raise RateLimited(LOCKED_MESSAGE, retry_after_s=LOCKOUT_S)


async def sign_in(
    db: Database, *, email: str, password: str, ttl: timedelta, attempts: Redis | None = None
) -> NewSession:
    """Check the password and open a session; the same error for every kind of failure.

    With ``attempts`` (every sign-in edge passes the process's Redis) an address with
    ``MAX_FAILED_SIGN_INS`` failures within ``LOCKOUT_S`` is locked for ``LOCKOUT_S``: refused with
    ``RateLimited`` before the password is even checked.
    """
    if attempts is not None:
        await _refuse_if_locked(attempts, email)
    async with db.shared():
        row = await AppUser.select().where(AppUser.email == email.strip().lower()).first()
        ok = verify_password(row["password_hash"] if row else None, password)
        if row is None or not ok or row["disabled"]:
            if attempts is not None:
                await _count_failure(attempts, email)
            raise Unauthenticated("Wrong e-mail or password.")
        token = new_secret(SESSION_PREFIX)
        expires_at = utcnow() + ttl
        session_id = uuid4()
        await UserSession.insert(
            UserSession(id=session_id, user_id=row["id"], token_hash=digest(token), expires_at=expires_at)
        )
    if attempts is not None:
        await attempts.delete(_attempt_keys(email)[0])
    return NewSession(session_id, token, expires_at, _user(row))


async def resolve_session(db: Database, token: str) -> UserRecord:
    async with db.shared():
        session = (
            await UserSession.select(UserSession.user_id)
            .where(
                (UserSession.token_hash == digest(token))
                & UserSession.revoked_at.is_null()
                & (UserSession.expires_at > utcnow())
            )
            .first()
        )
        if session is None:
            raise Unauthenticated("The session has expired or was signed out; sign in again.")
        row = await AppUser.select().where(AppUser.id == session["user_id"]).first()
    if row is None or row["disabled"]:
        raise Unauthenticated("The account is disabled; ask your municipality's administrator.")
    return _user(row)


async def sign_out(db: Database, token: str) -> None:
    async with db.shared():
        await UserSession.update({UserSession.revoked_at: utcnow()}).where(UserSession.token_hash == digest(token))
