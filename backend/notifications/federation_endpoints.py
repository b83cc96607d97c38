"""Webhook endpoints of federation-level organisations (a procurement vendor serves every member
municipality, so it is not an integrator of one): one per organisation and federation, kept in
``federation_webhook_endpoint`` and managed in the federation's own transaction
(``Database.federation``), with the same URL checks, secrets and audit as integrators' endpoints.

Their changes are audited where federation-level actions go: ``federation_audit_log``, the
federation's append-only log (as procurement keeps ``procurement_log``), since no municipality
owns them. Events reach them from a municipality's outbox (``outbox.federation_webhook``).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from backend.notifications.endpoints import Holder, delete_in, get_in, rotate_in, set_in
from backend.notifications.records import IssuedSecret, WebhookEndpointRecord
from tenants.access import Actor
from tenants.database import Database, Scope

AUDIT = """
INSERT INTO federation_audit_log (federation_id, actor_kind, actor_id, actor_label, action, target_kind, target_id,
                                  details)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
"""


def _federation(scope: Scope) -> UUID:
    if scope.federation_id is None:
        raise RuntimeError("federation webhook endpoints need a federation transaction (Database.federation)")
    return scope.federation_id


async def record_federation_audit(
    scope: Scope, *, actor: Actor, action: str, target_kind: str, target_id: object, details: dict[str, Any] | None
) -> None:
    """Append one entry to the federation's own audit log, inside its transaction."""
    await scope.connection.execute(
        AUDIT,
        _federation(scope),
        actor.kind,
        actor.id,
        actor.label[:320],
        action,
        target_kind,
        str(target_id)[:100],
        json.dumps(details or {}, default=str),
    )


async def _audit(scope: Scope, actor: Actor, action: str, target: UUID, details: dict[str, Any] | None) -> None:
    await record_federation_audit(
        scope,
        actor=actor,
        action=action,
        target_kind="federation_webhook_endpoint",
        target_id=target,
        details=details,
    )


FEDERATION = Holder("federation_webhook_endpoint", "federation_id", "organisation", _federation, _audit)


async def get_federation_endpoint(scope: Scope, owner_id: UUID) -> WebhookEndpointRecord | None:
    """This organisation's active endpoint in the scope's federation, if it registered one."""
    return await get_in(scope, FEDERATION, owner_id)


async def set_federation_endpoint(
    scope: Scope, *, owner_id: UUID, url: str, allow_local: bool, actor: Actor
) -> IssuedSecret:
    """Register the organisation's endpoint or change its URL; the secret only when one is made."""
    return await set_in(scope, FEDERATION, owner_id=owner_id, url=url, allow_local=allow_local, actor=actor)


async def rotate_federation_secret(scope: Scope, *, owner_id: UUID, actor: Actor) -> IssuedSecret:
    """A new secret for the organisation's endpoint, in force at once (NotFound without one)."""
    return await rotate_in(scope, FEDERATION, owner_id=owner_id, actor=actor)


async def delete_federation_endpoint(scope: Scope, *, owner_id: UUID, actor: Actor) -> WebhookEndpointRecord:
    """Stop webhooks to the organisation: pending ones fail, later ones fail at once."""
    return await delete_in(scope, FEDERATION, owner_id=owner_id, actor=actor)


async def endpoint_for_delivery(db: Database, federation_id: UUID, owner_id: UUID) -> WebhookEndpointRecord | None:
    """The organisation's active endpoint, read in the federation's own transaction (never inside a
    municipality's: delivery calls this before it opens the notification's one)."""
    async with db.federation(federation_id) as scope:
        return await get_federation_endpoint(scope, owner_id)
