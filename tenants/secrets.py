"""Passwords (argon2id) and bearer secrets (random, stored as SHA-256)."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so a wrong e-mail costs the same time.
_DUMMY_HASH = _hasher.hash("samverka-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str) -> str:
    """A bearer secret with a readable prefix (``svs_`` sessions, ``svk_`` API tokens)."""
    return f"{prefix}{secrets.token_urlsafe(32)}"


def digest(secret: str) -> str:
    """Secrets carry 256 random bits, so a fast hash is safe and lookups stay cheap."""
    return hashlib.sha256(secret.encode()).hexdigest()
