"""Webhook endpoints: one per integrator and municipality, or per organisation and federation
(``federation_endpoints``), managed by their owner. One implementation serves both (:class:`Holder`).

A new secret is shown once (on the first ``set`` and on ``rotate``) and stored so that delivery
can sign with it. Deleting keeps the row (the delivery log refers to it) but forgets the secret.
Every change is audited, never with the secret.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Holder:
    """Where endpoints are kept: per municipality for its integrators (``webhook_endpoint``), or per
    federation for its own organisations, such as procurement vendors (``federation_webhook_endpoint``)."""

    table: str
    key: str  # the leading key column, and the transaction it needs: tenant_id or federation_id
    owner: str  # who owns one, in messages
    key_of: Callable[[Scope], UUID]
    audit: Callable[[Scope, Actor, str, UUID, dict[str, Any] | None], Awaitable[None]]

    def columns(self) -> str:
        return f"id, {self.key}, owner_id, url, secret, created_at, rotated_at, disabled_at"

    def record(self, row: Any) -> WebhookEndpointRecord:
        return WebhookEndpointRecord(
            id=row["id"],
            tenant_id=row["tenant_id"] if self.key == "tenant_id" else None,
            owner_id=row["owner_id"],
            url=row["url"],
            secret=row["secret"],
            created_at=row["created_at"],
            rotated_at=row["rotated_at"],
            disabled_at=row["disabled_at"],
            federation_id=row["federation_id"] if self.key == "federation_id" else None,
        )


async def _tenant_audit(scope: Scope, actor: Actor, action: str, target: UUID, details: dict[str, Any] | None) -> None:
    await audit.record(
        scope, actor=actor, action=action, target_kind="webhook_endpoint", target_id=target, details=details
    )


TENANT = Holder("webhook_endpoint", "tenant_id", "integrator", lambda scope: scope.tenant, _tenant_audit)


async def _row(scope: Scope, holder: Holder, owner_id: UUID) -> Any:
    sql = f"SELECT {holder.columns()} FROM {holder.table} WHERE {holder.key} = $1 AND owner_id = $2"
    return await scope.connection.fetchrow(sql, holder.key_of(scope), owner_id)


async def get_in(scope: Scope, holder: Holder, owner_id: UUID) -> WebhookEndpointRecord | None:
    """This owner's active endpoint, if it registered one."""
    row = await _row(scope, holder, owner_id)
    return holder.record(row) if row is not None and row["disabled_at"] is None else None


async def set_in(
    scope: Scope, holder: Holder, *, owner_id: UUID, url: str, allow_local: bool, actor: Actor
) -> IssuedSecret:
    """Register the endpoint or change its URL; a secret is made (and returned) only for a new
    or previously deleted endpoint, so changing the URL does not break verification."""
    url = check_url(url, allow_local=allow_local)
    key, table, columns = holder.key_of(scope), holder.table, holder.columns()
    # Two first registrations at once must not both insert: serialise them per owner.
    await scope.connection.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"{table}:{key}:{owner_id}"
    )
    existing = await _row(scope, holder, owner_id)
    secret: str | None = None
    if existing is None:
        secret = new_secret()
        row = await scope.connection.fetchrow(
            f"""INSERT INTO {table} ({holder.key}, id, owner_id, url, secret)
                VALUES ($1, $2, $3, $4, $5) RETURNING {columns}""",
            key, uuid4(), owner_id, url, secret,
        )
    else:
        revived = existing["disabled_at"] is not None
        secret = new_secret() if revived else None
        row = await scope.connection.fetchrow(
            f"""UPDATE {table} SET url = $3, secret = coalesce($4, secret),
                  rotated_at = CASE WHEN $4::text IS NULL THEN rotated_at ELSE now() END, disabled_at = NULL
                WHERE {holder.key} = $1 AND id = $2 RETURNING {columns}""",
            key, existing["id"], url, secret,
        )
    endpoint = holder.record(row)
    details = {"url": url, "owner_id": owner_id, "new_secret": secret is not None}
    await holder.audit(scope, actor, "webhook.endpoint_set", endpoint.id, details)
    return IssuedSecret(endpoint, secret)


async def rotate_in(scope: Scope, holder: Holder, *, owner_id: UUID, actor: Actor) -> IssuedSecret:
    """A new secret, in force at once for every delivery not yet made."""
    secret = new_secret()
    row = await scope.connection.fetchrow(
        f"""UPDATE {holder.table} SET secret = $3, rotated_at = now()
            WHERE {holder.key} = $1 AND owner_id = $2 AND disabled_at IS NULL RETURNING {holder.columns()}""",
        holder.key_of(scope), owner_id, secret,
    )
    if row is None:
        raise NotFound("Webhook endpoint", f"of this {holder.owner}")
    endpoint = holder.record(row)
    await holder.audit(scope, actor, "webhook.secret_rotated", endpoint.id, None)
    return IssuedSecret(endpoint, secret)


async def delete_in(scope: Scope, holder: Holder, *, owner_id: UUID, actor: Actor) -> WebhookEndpointRecord:
    """Stop webhooks to this owner: pending ones fail, new events are not queued."""
    row = await scope.connection.fetchrow(
        f"""UPDATE {holder.table} SET disabled_at = now(), secret = ''
            WHERE {holder.key} = $1 AND owner_id = $2 AND disabled_at IS NULL RETURNING {holder.columns()}""",
        holder.key_of(scope), owner_id,
    )
    if row is None:
        raise NotFound("Webhook endpoint", f"of this {holder.owner}")
    endpoint = holder.record(row)
    await holder.audit(scope, actor, "webhook.endpoint_deleted", endpoint.id, {"url": endpoint.url})
    return endpoint


async def get_endpoint(scope: Scope, owner_id: UUID) -> WebhookEndpointRecord | None:
    """This integrator's active endpoint here, if it registered one."""
    return await get_in(scope, TENANT, owner_id)


async def set_endpoint(
    scope: Scope, *, owner_id: UUID, url: str, allow_local: bool, actor: Actor
) -> IssuedSecret:
    """Register this integrator's endpoint here or change its URL (see :func:`set_in`)."""
    return await set_in(scope, TENANT, owner_id=owner_id, url=url, allow_local=allow_local, actor=actor)


async def rotate_secret(scope: Scope, *, owner_id: UUID, actor: Actor) -> IssuedSecret:
    """A new secret for this integrator's endpoint, in force at once."""
    return await rotate_in(scope, TENANT, owner_id=owner_id, actor=actor)


async def delete_endpoint(scope: Scope, *, owner_id: UUID, actor: Actor) -> WebhookEndpointRecord:
    """Stop webhooks to this integrator: pending ones fail, new events are not queued."""
    return await delete_in(scope, TENANT, owner_id=owner_id, actor=actor)


async def endpoint_by_id(scope: Scope, endpoint_id: UUID) -> WebhookEndpointRecord | None:
    row = await scope.connection.fetchrow(
        f"SELECT {TENANT.columns()} FROM webhook_endpoint WHERE tenant_id = $1 AND id = $2", scope.tenant, endpoint_id
    )
    return TENANT.record(row) if row is not None else None
