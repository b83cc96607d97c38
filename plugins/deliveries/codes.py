"""Single-use locker codes: random, expiring, stored only as HMAC-SHA256 under the tenant's key,
unique among a locker's live codes, and guarded by a per-locker lock-out after wrong tries.

A code is typed on a locker's keypad (the gateway turns it into a ``CodeEntered`` event), so
it is looked up per locker: the same digits may be live at two different lockers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from uuid import UUID, uuid4

import asyncpg

from backend import plugin_api as api

DIGITS = 6
MAX_TRIES = 20  # a fresh random code that collides with a live one is drawn again


class Purpose(str, Enum):
    DROPOFF = "dropoff"
    PICKUP = "pickup"
    RETURN = "return"


@dataclass(frozen=True)
class Issued:
    code: str  # the clear code: shown or sent once, never stored
    expires_at: datetime


@dataclass(frozen=True)
class Match:
    code_id: UUID
    delivery_id: UUID
    purpose: Purpose


class Verdict(str, Enum):
    ACCEPTED = "accepted"
    UNKNOWN = "unknown"  # no such code at this locker
    USED = "used"  # it was valid once and has been used: a reuse
    EXPIRED = "expired"
    REVOKED = "revoked"
    BLOCKED = "blocked"  # the locker refuses codes for now (too many wrong tries)


@dataclass(frozen=True)
class Checked:
    verdict: Verdict
    match: Match | None = None
    failures: int = 0
    blocked_until: datetime | None = None
    newly_blocked: bool = False


async def _key(scope: api.Scope) -> bytes:
    conn = scope.connection
    key = await conn.fetchval("SELECT key FROM deliveries_key WHERE tenant_id = $1", scope.tenant)
    if key is None:
        await conn.execute(
            "INSERT INTO deliveries_key (tenant_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            scope.tenant,
            secrets.token_bytes(32),
        )
        key = await conn.fetchval("SELECT key FROM deliveries_key WHERE tenant_id = $1", scope.tenant)
    return bytes(key)


def digest(key: bytes, locker_id: UUID, code: str) -> str:
    return hmac.new(key, f"{locker_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _draw() -> str:
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


async def issue(
    scope: api.Scope, *, delivery_id: UUID, locker_id: UUID, purpose: Purpose, now: datetime, expires_at: datetime
) -> Issued:
    """A new live code for this delivery at this locker; earlier live codes of the same purpose
    for the delivery are revoked (a re-issued code replaces the old one)."""
    conn, key = scope.connection, await _key(scope)
    await revoke(scope, delivery_id, now, purpose=purpose)
    for _ in range(MAX_TRIES):
        code = _draw()
        try:
            async with conn.transaction():  # a savepoint: a collision must not abort the caller's work
                await conn.execute(
                    """INSERT INTO deliveries_code (tenant_id, id, delivery_id, locker_id, purpose, code_hash,
                                                    created_at, expires_at)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                    scope.tenant,
                    uuid4(),
                    delivery_id,
                    locker_id,
                    purpose.value,
                    digest(key, locker_id, code),
                    now,
                    expires_at,
                )
        except asyncpg.UniqueViolationError:
            continue
        return Issued(code, expires_at)
    raise api.Conflict("Could not draw a free code for this locker; try again.")


async def revoke(scope: api.Scope, delivery_id: UUID, now: datetime, *, purpose: Purpose | None = None) -> None:
    await scope.connection.execute(
        """UPDATE deliveries_code SET revoked_at = $3
           WHERE tenant_id = $1 AND delivery_id = $2 AND used_at IS NULL AND revoked_at IS NULL
             AND ($4::text IS NULL OR purpose = $4)""",
        scope.tenant,
        delivery_id,
        now,
        purpose.value if purpose else None,
    )


async def check(
    scope: api.Scope, locker_id: UUID, code: str, now: datetime, *, attempts: int, lockout: timedelta
) -> Checked:
    """Check a typed code at a locker and use it up when it is good. Wrong tries count per
    locker within the lock-out period; reaching ``attempts`` blocks the locker for ``lockout``."""
    conn = scope.connection
    pad = await conn.fetchrow(
        """INSERT INTO deliveries_keypad (tenant_id, locker_id) VALUES ($1, $2)
           ON CONFLICT (tenant_id, locker_id) DO UPDATE SET failures = deliveries_keypad.failures
           RETURNING failures, window_started_at, blocked_until""",
        scope.tenant,
        locker_id,
    )
    if pad["blocked_until"] is not None and pad["blocked_until"] > now:
        return Checked(Verdict.BLOCKED, failures=pad["failures"], blocked_until=pad["blocked_until"])
    rows = await conn.fetch(
        """SELECT id, delivery_id, purpose, expires_at, used_at, revoked_at FROM deliveries_code
           WHERE tenant_id = $1 AND locker_id = $2 AND code_hash = $3
           ORDER BY (used_at IS NULL AND revoked_at IS NULL) DESC, created_at DESC
           FOR UPDATE""",
        scope.tenant,
        locker_id,
        digest(await _key(scope), locker_id, code),
    )
    live = rows[0] if rows and rows[0]["used_at"] is None and rows[0]["revoked_at"] is None else None
    if live is not None and live["expires_at"] > now:
        await conn.execute(
            "UPDATE deliveries_code SET used_at = $3 WHERE tenant_id = $1 AND id = $2", scope.tenant, live["id"], now
        )
        await conn.execute(
            """UPDATE deliveries_keypad SET failures = 0, window_started_at = NULL, blocked_until = NULL
               WHERE tenant_id = $1 AND locker_id = $2""",
            scope.tenant,
            locker_id,
        )
        return Checked(Verdict.ACCEPTED, Match(live["id"], live["delivery_id"], Purpose(live["purpose"])))
    if live is not None:
        verdict = Verdict.EXPIRED
    elif rows:
        verdict = Verdict.USED if rows[0]["used_at"] is not None else Verdict.REVOKED
    else:
        verdict = Verdict.UNKNOWN
    fresh = pad["window_started_at"] is None or pad["window_started_at"] <= now - lockout
    failures = 1 if fresh else pad["failures"] + 1
    blocked_until = now + lockout if failures >= attempts else None
    await conn.execute(
        """UPDATE deliveries_keypad SET failures = $3, window_started_at = $4, blocked_until = $5
           WHERE tenant_id = $1 AND locker_id = $2""",
        scope.tenant,
        locker_id,
        0 if blocked_until else failures,
        None if blocked_until else (now if fresh else pad["window_started_at"]),
        blocked_until,
    )
    match = Match(rows[0]["id"], rows[0]["delivery_id"], Purpose(rows[0]["purpose"])) if rows else None
    return Checked(verdict, match, failures, blocked_until, newly_blocked=blocked_until is not None)
