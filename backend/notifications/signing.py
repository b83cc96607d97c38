"""The webhook signature: HMAC-SHA256 over ``"<unix seconds>.<body>"`` with the endpoint's secret.

Integrators check it with :func:`verify_signature` (or the same few lines in their language,
see docs/webhooks.md): the timestamp bounds replays, the HMAC proves origin and integrity.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SCHEME = "sha256="
SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_S = 300.0


def new_secret() -> str:
    """256 random bits; the whole string (prefix included) is the HMAC key."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _bytes(value: bytes | str) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """The ``X-Samverka-Signature`` header value for this timestamp and body."""
    message = str(timestamp).encode() + b"." + _bytes(body)
    return SCHEME + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes | str,
    header: str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """Whether ``header`` signs exactly this ``body`` at ``timestamp``, no more than ``tolerance_s`` ago
    (or ahead). Pass the raw body bytes as received: re-serialised JSON does not verify."""
    try:
        sent_at = int(str(timestamp))
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, sent_at, body), header.strip())
