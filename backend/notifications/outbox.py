"""The outbox: notifications written in the caller's transaction, handed to the worker after commit.

A plugin calls :func:`notify` or :func:`webhook` inside its own tenant transaction, so the
notification commits (or rolls back) with the change that caused it, then
:func:`dispatch_after_commit` enqueues the sends. A lost enqueue costs only time: the worker's
sweeper finds due pending rows and enqueues them again.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import partial
from typing import Any, Literal, Protocol
from uuid import UUID, uuid4

import dramatiq
from redis.exceptions import RedisError

from backend.jobs.queue import JobQueue
from backend.lib import FieldError, ValidationFailed
from backend.notifications import endpoints
from backend.notifications.records import Channel
from tenants.database import Scope

log = logging.getLogger(__name__)

DELIVER_ACTOR = "kernel.notifications.deliver"
QUEUE = "notifications"

MAX_SUBJECT = 300
MAX_BODY = {Channel.EMAIL: 100_000, Channel.SMS: 1_600}
MAX_PAYLOAD_BYTES = 256 * 1024
TOPIC = re.compile(r"[a-z][a-z0-9_.-]{0,99}")
KIND = re.compile(r"[a-z][a-z0-9_]{0,49}")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")
PHONE = re.compile(r"\+?[0-9]{6,15}")
PHONE_PUNCTUATION = re.compile(r"[\s()-]")

INSERT = """
INSERT INTO notification (tenant_id, id, channel, recipient, subject, body, payload, topic, subject_kind, subject_id,
                          federation_id)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11)
"""


class HasJobs(Protocol):
    """The web's ``Services`` or the worker's ``Runtime``."""

    @property
    def jobs(self) -> JobQueue | None: ...


async def notify(
    scope: Scope,
    *,
    channel: Literal["email", "sms"] | Channel,
    to: str,
    subject: str,
    body: str,
    topic: str,
    subject_kind: str,
    subject_id: UUID,
) -> UUID:
    """Queue an e-mail or SMS in the caller's transaction; its id. ``subject`` is the e-mail's
    subject (for an SMS, a short label for the delivery log)."""
    kind = Channel(channel)
    if kind is Channel.WEBHOOK:
        raise ValueError("use webhook() for webhooks")
    recipient = _recipient(kind, to)
    _check(
        [
            *_about(topic, subject_kind),
            *_text("subject", subject, MAX_SUBJECT, one_line=True),
            *_text("body", body, MAX_BODY[kind], required=True),
        ]
    )
    return await _insert(scope, kind, recipient, subject, body, "{}", topic, subject_kind, subject_id)


async def webhook(
    scope: Scope, *, owner_id: UUID, event: str, payload: dict[str, Any], subject_kind: str, subject_id: UUID
) -> UUID | None:
    """Queue a signed POST of ``payload`` to the endpoint of integrator ``owner_id`` (see
    ``integrator_id``); ``None`` when that integrator registered no endpoint here."""
    encoded = _payload(event, subject_kind, payload)
    endpoint = await endpoints.get_endpoint(scope, owner_id)
    if endpoint is None:
        return None
    return await _insert(scope, Channel.WEBHOOK, str(endpoint.id), "", "", encoded, event, subject_kind, subject_id)


async def federation_webhook(
    scope: Scope, *, owner_id: UUID, event: str, payload: dict[str, Any], subject_kind: str, subject_id: UUID
) -> UUID | None:
    """Queue, in this municipality's outbox, a signed POST of ``payload`` to the endpoint of
    ``owner_id``, an organisation of the municipality's own federation (a procurement vendor);
    ``None`` when that organisation has no active endpoint (nothing is queued).

    The endpoint lives in the federation, which a municipality's transaction cannot read: the
    database function ``federation_webhook_active`` answers only whether there is one, and the
    endpoint itself is resolved when the webhook is sent, in the federation's transaction (deleted
    by then: the notification fails at once, for good, and the delivery log says so). Body,
    signature, retries and attempts are those of integrators' webhooks.
    """
    encoded = _payload(event, subject_kind, payload)
    if not await scope.connection.fetchval("SELECT federation_webhook_active($1)", owner_id):
        return None
    federation = await scope.connection.fetchval("SELECT federation_id FROM municipality WHERE id = $1", scope.tenant)
    return await _insert(
        scope, Channel.WEBHOOK, str(owner_id), "", "", encoded, event, subject_kind, subject_id, federation
    )


def _payload(event: str, subject_kind: str, payload: dict[str, Any]) -> str:
    _check(_about(event, subject_kind))
    encoded = json.dumps(payload, default=_json_value, ensure_ascii=False)
    if len(encoded.encode()) > MAX_PAYLOAD_BYTES or "\\u0000" in encoded:
        raise ValidationFailed.on("payload", f"A webhook payload is at most {MAX_PAYLOAD_BYTES} bytes, without NUL.")
    return encoded


async def dispatch_after_commit(source: HasJobs | JobQueue, tenant: UUID | Scope, ids: Iterable[UUID]) -> None:
    """Enqueue the sends of ``ids``.

    Given the still open ``Scope`` that wrote them, the enqueue waits for its commit (and never
    happens on a rollback); given a tenant id, it happens now, so call it after the transaction
    block. A failure to enqueue is logged, not raised: the data has committed and the sweeper
    sends it later.
    """
    queue = source if isinstance(source, JobQueue) else source.jobs
    wanted = list(ids)
    if isinstance(tenant, Scope):
        tenant.on_commit(partial(enqueue_deliveries, queue, tenant.tenant, wanted))
    else:
        await enqueue_deliveries(queue, tenant, wanted)


async def enqueue_deliveries(
    queue: JobQueue | None, tenant_id: UUID, ids: Iterable[UUID], *, delay_ms: int | None = None
) -> None:
    for notification_id in ids:
        if queue is None:
            log.warning("no job queue here: notification %s waits for the sweeper", notification_id)
            continue
        try:
            await queue.enqueue(DELIVER_ACTOR, str(tenant_id), str(notification_id), queue=QUEUE, delay_ms=delay_ms)
        except (RedisError, dramatiq.errors.DramatiqError, OSError) as exc:
            log.warning("could not enqueue notification %s (%s); the sweeper will send it", notification_id, exc)


async def _insert(
    scope: Scope,
    channel: Channel,
    recipient: str,
    subject: str,
    body: str,
    payload: str,
    topic: str,
    subject_kind: str,
    subject_id: UUID,
    federation_id: UUID | None = None,
) -> UUID:
    notification_id = uuid4()
    await scope.connection.execute(
        INSERT, scope.tenant, notification_id, channel.value, recipient, subject, body, payload, topic,
        subject_kind, subject_id, federation_id,
    )
    return notification_id


def _recipient(channel: Channel, to: str) -> str:
    value = to.strip()
    if channel is Channel.SMS:
        value = PHONE_PUNCTUATION.sub("", value)
        if not PHONE.fullmatch(value):
            raise ValidationFailed.on("to", "A phone number has 6 to 15 digits, optionally after '+'.")
    elif not EMAIL.fullmatch(value) or len(value) > 320:
        raise ValidationFailed.on("to", "This is not an e-mail address.")
    return value


def _about(topic: str, subject_kind: str) -> list[FieldError]:
    problems = []
    if not TOPIC.fullmatch(topic):
        problems.append(FieldError("topic", "A topic reads like 'deliveries.pickup_code' (lower case, dots)."))
    if not KIND.fullmatch(subject_kind):
        problems.append(FieldError("subject_kind", "A subject kind reads like 'delivery' (lower case, '_')."))
    return problems


def _text(field: str, value: str, limit: int, *, required: bool = False, one_line: bool = False) -> list[FieldError]:
    if required and not value.strip():
        return [FieldError(field, "This may not be empty.")]
    if len(value) > limit:
        return [FieldError(field, f"At most {limit} characters.")]
    if "\x00" in value or (one_line and ("\r" in value or "\n" in value)):
        return [FieldError(field, "This may not contain NUL" + (" or line breaks." if one_line else "."))]
    return []


def _check(problems: list[FieldError]) -> None:
    if problems:
        raise ValidationFailed("The notification is not valid: " + "; ".join(p.message for p in problems), problems)


def _json_value(value: object) -> Any:
    """UUIDs, dates, decimals and enums as JSON strings; anything else is a caller's bug."""
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"a webhook payload cannot hold {type(value).__name__}")
