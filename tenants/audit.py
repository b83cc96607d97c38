"""The append-only audit log of each tenant: who did what, when, to what."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

from backend.lib import Page, PageRequest, ValidationFailed
from tenants.access import Actor
from tenants.database import Scope
from tenants.tables import AuditEntry


@dataclass(frozen=True)
class AuditRecord:
    id: int
    tenant_id: UUID
    occurred_at: datetime
    actor_kind: str
    actor_id: UUID | None
    actor_label: str
    action: str
    target_kind: str
    target_id: str
    details: dict[str, Any]


def _record(row: dict[str, Any]) -> AuditRecord:
    details = row["details"]
    if isinstance(details, str):
        details = json.loads(details)
    return AuditRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        occurred_at=row["occurred_at"],
        actor_kind=row["actor_kind"],
        actor_id=row["actor_id"],
        actor_label=row["actor_label"],
        action=row["action"],
        target_kind=row["target_kind"],
        target_id=row["target_id"],
        details=details,
    )


async def record(
    scope: Scope,
    *,
    actor: Actor,
    action: str,
    target_kind: str = "",
    target_id: object = "",
    details: dict[str, Any] | None = None,
) -> AuditRecord:
    """Append one entry to the tenant's log, inside the caller's transaction."""
    entry = AuditEntry(
        tenant_id=scope.tenant,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:320],
        action=action,
        target_kind=target_kind,
        target_id=str(target_id),
        details=json.dumps(details or {}, default=str),
    )
    rows = await AuditEntry.insert(entry).returning(*AuditEntry.all_columns())
    result = _record(rows[0])
    for hook in scope.audit_hooks:
        scope.on_commit(partial(hook, result))
    return result


async def list_entries(scope: Scope, page: PageRequest, *, action: str | None = None) -> Page[AuditRecord]:
    """Newest first."""
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(page.first + 1)
    after = page.after_key()
    if after is not None:
        if not after.isdigit():
            raise ValidationFailed.on("after", "'after' is not a cursor this API gave out.")
        query = query.where(AuditEntry.id < int(after))
    if action:
        query = query.where(AuditEntry.action == action)
    rows = [_record(r) for r in await query]
    return Page.from_rows(rows, [str(r.id) for r in rows], page)
