"""Reading notifications back: the delivery log of one subject, with every attempt."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Any
from uuid import UUID

from backend.lib import Page, PageRequest, ValidationFailed
from backend.notifications.records import AttemptRecord, Channel, NotificationRecord, Outcome, Status
from tenants.database import Scope

COLUMNS = """id, tenant_id, channel, recipient, subject, body, payload, topic, subject_kind, subject_id, status,
attempts, next_attempt_at, created_at, sent_at, last_error, federation_id"""
LOG_LIMIT = 100


def record(row: Any, attempts: tuple[AttemptRecord, ...] = ()) -> NotificationRecord:
    payload = row["payload"]
    return NotificationRecord(
        id=row["id"],
        tenant_id=row["tenant_id"],
        channel=Channel(row["channel"]),
        recipient=row["recipient"],
        subject=row["subject"],
        body=row["body"],
        payload=json.loads(payload) if isinstance(payload, str) else payload,
        topic=row["topic"],
        subject_kind=row["subject_kind"],
        subject_id=row["subject_id"],
        status=Status(row["status"]),
        attempt_count=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
        last_error=row["last_error"],
        attempts=attempts,
        federation_id=row["federation_id"],
    )


async def attempts_of(scope: Scope, ids: list[UUID]) -> dict[UUID, tuple[AttemptRecord, ...]]:
    rows = await scope.connection.fetch(
        """SELECT notification_id, attempt, at, outcome, status_code, detail, duration_ms FROM notification_attempt
           WHERE tenant_id = $1 AND notification_id = ANY($2::uuid[]) ORDER BY notification_id, attempt""",
        scope.tenant,
        ids,
    )
    found: dict[UUID, list[AttemptRecord]] = defaultdict(list)
    for r in rows:
        found[r["notification_id"]].append(
            AttemptRecord(r["attempt"], r["at"], Outcome(r["outcome"]), r["status_code"], r["detail"], r["duration_ms"])
        )
    return {k: tuple(v) for k, v in found.items()}


async def get_notification(scope: Scope, notification_id: UUID) -> NotificationRecord | None:
    """One notification with its attempts (``None`` for unknown ids and other tenants' ones)."""
    row = await scope.connection.fetchrow(
        f"SELECT {COLUMNS} FROM notification WHERE tenant_id = $1 AND id = $2", scope.tenant, notification_id
    )
    if row is None:
        return None
    return record(row, (await attempts_of(scope, [notification_id])).get(notification_id, ()))


async def page_for(scope: Scope, subject_kind: str, subject_id: UUID, page: PageRequest) -> Page[NotificationRecord]:
    """Notifications about one subject, newest first, each with its attempts."""
    args: list[Any] = [scope.tenant, subject_kind, subject_id, page.first + 1]
    after = ""
    if (key := page.after_key()) is not None:
        args += _cursor(key)
        after = "AND (created_at, id) < ($5, $6)"
    rows = await scope.connection.fetch(
        f"""SELECT {COLUMNS} FROM notification WHERE tenant_id = $1 AND subject_kind = $2 AND subject_id = $3 {after}
            ORDER BY created_at DESC, id DESC LIMIT $4""",
        *args,
    )
    attempts = await attempts_of(scope, [r["id"] for r in rows])
    items = [record(r, attempts.get(r["id"], ())) for r in rows]
    return Page.from_rows(items, [f"{n.created_at.isoformat()}|{n.id}" for n in items], page)


async def log_for(scope: Scope, subject_kind: str, subject_id: UUID) -> list[NotificationRecord]:
    """The delivery log of one subject (e.g. ``"delivery"``, its id): the newest 100, newest first."""
    return list((await page_for(scope, subject_kind, subject_id, PageRequest(first=LOG_LIMIT))).items)


def _cursor(key: str) -> list[Any]:
    created, _, ident = key.partition("|")
    wrong = ValidationFailed.on("after", "'after' is not a cursor this API gave out.")
    try:
        at, notification_id = datetime.fromisoformat(created), UUID(ident)
    except ValueError:
        raise wrong from None
    if at.tzinfo is None:
        raise wrong
    return [at, notification_id]
