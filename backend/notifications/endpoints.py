"""Integrators' webhook endpoints: one per integrator and municipality, managed by the integrator.

A new secret is shown once (on the first ``set`` and on ``rotate``) and stored so that delivery
can sign with it. Deleting keeps the row (the delivery log refers to it) but forgets the secret.
Every change is audited, never with the secret.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from backend.lib import NotFound, ValidationFailed
from backend.notifications.records import IssuedSecret, WebhookEndpointRecord
from backend.notifications.signing import new_secret
from tenants import audit
from tenants.access import Actor
from tenants.database import Scope

MAX_URL = 2000
COLUMNS = "id, tenant_id, owner_id, url, secret, created_at, rotated_at, disabled_at"
LOCAL_NAMES = ("localhost", "localhost.localdomain")


def check_url(url: str, *, allow_local: bool) -> str:
    """The URL to store, or ValidationFailed saying what is wrong with it.

    In production only ``https`` to public hosts: no plain HTTP, no loopback, private or
    link-local addresses (webhooks must not reach into the platform's own network). Development
    and tests (``allow_local``) may use ``http`` and local addresses.
    """
    url = url.strip()

    def bad(message: str) -> ValidationFailed:
        return ValidationFailed.on("url", message)

    if not url or len(url) > MAX_URL:
        raise bad(f"Give the endpoint's full URL, at most {MAX_URL} characters.")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise bad("The URL may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  # raises ValueError for a port out of range
    except ValueError:
        raise bad("This is not a valid URL.") from None
    schemes = ("https", "http") if allow_local else ("https",)
    if parts.scheme not in schemes:
        raise bad("The URL must start with https://.")
    if not host:
        raise bad("The URL has no host name.")
    if parts.username is not None or parts.password is not None:
        raise bad("Leave credentials out of the URL; verify the signature instead.")
    if parts.fragment:
        raise bad("The URL may not have a #fragment.")
    if not allow_local and _is_local(host):
        raise bad("The URL must point to a public host, not a local or private address.")
    return url


def _is_local(host: str) -> bool:
    name = host.lower().rstrip(".")
    if name in LOCAL_NAMES or name.endswith((".localhost", ".local", ".internal")):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(name)
    except ValueError:
        try:  # the legacy IPv4 spellings resolvers still accept: 2130706433, 0x7f000001, 127.1
            address = ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return False  # a DNS name; see the ADR on names that resolve to private addresses
    return not address.is_global


def _record(row: Any) -> WebhookEndpointRecord:
    return WebhookEndpointRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        owner_id=row["owner_id"],
        url=row["url"],
        secret=row["secret"],
        created_at=row["created_at"],
        rotated_at=row["rotated_at"],
        disabled_at=row["disabled_at"],
    )


async def _row(scope: Scope, owner_id: UUID) -> Any:
    sql = f"SELECT {COLUMNS} FROM webhook_endpoint WHERE tenant_id = $1 AND owner_id = $2"
    return await scope.connection.fetchrow(sql, scope.tenant, owner_id)


async def get_endpoint(scope: Scope, owner_id: UUID) -> WebhookEndpointRecord | None:
    """This integrator's active endpoint here, if it registered one."""
    row = await _row(scope, owner_id)
    return _record(row) if row is not None and row["disabled_at"] is None else None


async def set_endpoint(
    scope: Scope, *, owner_id: UUID, url: str, allow_local: bool, actor: Actor
) -> IssuedSecret:
    """Register the endpoint or change its URL; a secret is made (and returned) only for a new
    or previously deleted endpoint, so changing the URL does not break verification."""
    url = check_url(url, allow_local=allow_local)
    # Two first registrations at once must not both insert: serialise them per integrator.
    await scope.connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"webhook_endpoint:{scope.tenant}:{owner_id}"
    )
    existing = await _row(scope, owner_id)
    secret: str | None = None
    if existing is None:
        secret = new_secret()
        row = await scope.connection.fetchrow(
            f"""INSERT INTO webhook_endpoint (tenant_id, id, owner_id, url, secret)
                VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}""",
            scope.tenant, uuid4(), owner_id, url, secret,
        )
    else:
        revived = existing["disabled_at"] is not None
        secret = new_secret() if revived else None
        row = await scope.connection.fetchrow(
            f"""UPDATE webhook_endpoint SET url = $3, secret = coalesce($4, secret),
                  rotated_at = CASE WHEN $4::text IS NULL THEN rotated_at ELSE now() END, disabled_at = NULL
                WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}""",
            scope.tenant, existing["id"], url, secret,
        )
    endpoint = _record(row)
    await audit.record(
        scope, actor=actor, action="webhook.endpoint_set", target_kind="webhook_endpoint", target_id=endpoint.id,
        details={"url": url, "owner_id": owner_id, "new_secret": secret is not None},
    )
    return IssuedSecret(endpoint, secret)


async def rotate_secret(scope: Scope, *, owner_id: UUID, actor: Actor) -> IssuedSecret:
    """A new secret, in force at once for every delivery not yet made."""
    secret = new_secret()
    row = await scope.connection.fetchrow(
        f"""UPDATE webhook_endpoint SET secret = $3, rotated_at = now()
            WHERE tenant_id = $1 AND owner_id = $2 AND disabled_at IS NULL RETURNING {COLUMNS}""",
        scope.tenant, owner_id, secret,
    )
    if row is None:
        raise NotFound("Webhook endpoint", "of this integrator")
    endpoint = _record(row)
    await audit.record(
        scope, actor=actor, action="webhook.secret_rotated", target_kind="webhook_endpoint", target_id=endpoint.id
    )
    return IssuedSecret(endpoint, secret)


async def delete_endpoint(scope: Scope, *, owner_id: UUID, actor: Actor) -> WebhookEndpointRecord:
    """Stop webhooks to this integrator: pending ones fail, new events are not queued."""
    row = await scope.connection.fetchrow(
        f"""UPDATE webhook_endpoint SET disabled_at = now(), secret = ''
            WHERE tenant_id = $1 AND owner_id = $2 AND disabled_at IS NULL RETURNING {COLUMNS}""",
        scope.tenant, owner_id,
    )
    if row is None:
        raise NotFound("Webhook endpoint", "of this integrator")
    endpoint = _record(row)
    await audit.record(
        scope, actor=actor, action="webhook.endpoint_deleted", target_kind="webhook_endpoint",
        target_id=endpoint.id, details={"url": endpoint.url},
    )
    return endpoint


async def endpoint_by_id(scope: Scope, endpoint_id: UUID) -> WebhookEndpointRecord | None:
    row = await scope.connection.fetchrow(
        f"SELECT {COLUMNS} FROM webhook_endpoint WHERE tenant_id = $1 AND id = $2", scope.tenant, endpoint_id
    )
    return _record(row) if row is not None else None
