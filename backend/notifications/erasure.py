"""Forgetting what notifications said and to whom, when the thing they were about is erased."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from tenants.database import Scope

ERASED = "erased"

ERASE = """
UPDATE notification SET
  recipient = CASE WHEN channel = 'webhook' THEN recipient ELSE $4 END,
  subject = '', body = '', payload = '{}',
  last_error = CASE WHEN status = 'pending' THEN 'erased before it was sent' ELSE '' END,
  status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
WHERE tenant_id = $1 AND subject_kind = $2 AND subject_id = ANY($3::uuid[])
RETURNING id
"""
ERASE_REPLIES = """
UPDATE notification_attempt SET detail = '' WHERE tenant_id = $1 AND notification_id = ANY($2::uuid[])
"""


async def erase_notifications(scope: Scope, *, subject_kind: str, subject_ids: Sequence[UUID]) -> int:
    """Personal data retention: blank the recipient, texts and payload of every notification about
    these subjects, and the servers' replies in their attempts (which can quote an address).
    Pending ones are never sent. Channel, topic, status, times and outcomes stay, so the log
    still shows that a message went out. The caller audits the erasure. How many were erased."""
    if not subject_ids:
        return 0
    rows = await scope.connection.fetch(ERASE, scope.tenant, subject_kind, list(subject_ids), ERASED)
    ids = [r["id"] for r in rows]
    if ids:
        await scope.connection.execute(ERASE_REPLIES, scope.tenant, ids)
    return len(ids)
