"""Sending one notification: the worker's actor, retries with backoff, and the senders it uses.

The row is locked (``FOR UPDATE SKIP LOCKED``) for the whole attempt, so two deliveries of one
message never both send; a row that is not pending, not yet due or locked by another worker is
left alone. The attempt, the outcome and the next try commit together; the next try's message
is enqueued with a delay after commit (and the sweeper re-sends it if that message is lost).
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING
from uuid import UUID

from backend.lib import utcnow
from backend.notifications import endpoints, federation_endpoints, history
from backend.notifications.outbox import enqueue_deliveries
from backend.notifications.records import Channel, NotificationRecord, Outcome, Status, WebhookEndpointRecord
from backend.notifications.senders import Email, EmailSender, LoggingSender, SendResult, Sms, SmsSender
from backend.notifications.smtp import SmtpConfig, SmtpEmailSender
from backend.notifications.webhooks import WebhookSender
from backend.settings import Settings
from tenants.database import Database, Scope

if TYPE_CHECKING:
    from backend.jobs.queue import JobQueue
    from backend.jobs.runtime import Runtime

log = logging.getLogger(__name__)

BACKOFF_FACTOR = 3.0
JITTER = 0.1
CLOCK_SLACK = "interval '50 milliseconds'"  # a delayed message may be handed out a hair early
MAX_TEXT = 1000

PEEK_FEDERATION = """
SELECT federation_id, recipient FROM notification
WHERE tenant_id = $1 AND id = $2 AND status = 'pending' AND federation_id IS NOT NULL
"""
LOCK = f"""
SELECT {history.COLUMNS}, next_attempt_at <= clock_timestamp() + {CLOCK_SLACK} AS due
FROM notification WHERE tenant_id = $1 AND id = $2 FOR UPDATE SKIP LOCKED
"""
RECORD_ATTEMPT = """
INSERT INTO notification_attempt (tenant_id, notification_id, attempt, at, outcome, status_code, detail, duration_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
MARK = """
UPDATE notification SET status = $3::varchar, attempts = $4, last_error = $5,
  sent_at = CASE WHEN $3::varchar = 'sent' THEN clock_timestamp() END,
  next_attempt_at = CASE WHEN $6::float8 IS NULL THEN next_attempt_at
                         ELSE clock_timestamp() + make_interval(secs => $6::float8) END
WHERE tenant_id = $1 AND id = $2
"""


@dataclass(frozen=True)
class Senders:
    email: EmailSender
    sms: SmsSender
    webhooks: WebhookSender


def senders_for(settings: Settings) -> Senders:
    """SMTP when ``SAMVERKA_SMTP_URL`` is set, else the log; SMS to the log (no gateway yet)."""
    logged = LoggingSender(delivers=settings.sandbox)
    email: EmailSender = logged
    if settings.smtp_url:
        email = SmtpEmailSender(SmtpConfig.from_url(settings.smtp_url), settings.mail_from)
    return Senders(email=email, sms=logged, webhooks=WebhookSender(settings.webhook_timeout_s))


def backoff_s(attempt: int, *, base: float, cap: float, jitter: float = JITTER) -> float:
    """The wait after failed attempt ``attempt`` (1-based): base, 3x, 9x ... up to ``cap``, with a
    little jitter so that many retries to one endpoint spread out."""
    delay = base * BACKOFF_FACTOR ** (attempt - 1) * (1 + jitter * random.random())  # jitter, not security
    return min(cap, delay)


async def deliver(rt: Runtime, tenant_id: str, notification_id: str) -> None:
    """The actor ``kernel.notifications.deliver``: ids in, safe to run any number of times."""
    await deliver_one(rt.db, rt.jobs, rt.settings, UUID(tenant_id), UUID(notification_id))


async def deliver_one(
    db: Database,
    jobs: JobQueue | None,
    settings: Settings,
    tenant_id: UUID,
    notification_id: UUID,
    senders: Senders | None = None,
) -> Status | None:
    """Try to send once, if it is pending and due; the status it ends in (``None``: not tried)."""
    senders = senders or senders_for(settings)
    elsewhere = await _federation_endpoint(db, tenant_id, notification_id)
    async with db.tenant(tenant_id) as scope:
        row = await scope.connection.fetchrow(LOCK, tenant_id, notification_id)
        if row is None or row["status"] != Status.PENDING.value or not row["due"]:
            return None  # unknown, another worker's now, finished, or its time has not come
        n = history.record(row)
        attempt = n.attempt_count + 1
        started_at, clock = utcnow(), time.monotonic()
        result = await _send(scope, senders, n, elsewhere)
        duration_ms = int((time.monotonic() - clock) * 1000)
        await scope.connection.execute(
            RECORD_ATTEMPT, tenant_id, n.id, attempt, started_at, result.outcome.value, result.status_code,
            result.detail[:MAX_TEXT], duration_ms,
        )
        status, delay = _next(settings, attempt, result)
        error = "" if status is Status.SENT else (result.detail or result.outcome.value)[:MAX_TEXT]
        await scope.connection.execute(MARK, tenant_id, n.id, status.value, attempt, error, delay)
        if delay is not None:
            scope.on_commit(partial(enqueue_deliveries, jobs, tenant_id, [n.id], delay_ms=int(delay * 1000)))
    _log(n, attempt, result, status, delay)
    return status


def _next(settings: Settings, attempt: int, result: SendResult) -> tuple[Status, float | None]:
    if result.outcome is Outcome.OK:
        return Status.SENT, None
    if result.permanent or attempt >= settings.notify_max_attempts:
        return Status.FAILED, None
    return Status.PENDING, backoff_s(attempt, base=settings.notify_backoff_base_s, cap=settings.notify_backoff_cap_s)


async def _federation_endpoint(db: Database, tenant_id: UUID, notification_id: UUID) -> WebhookEndpointRecord | None:
    """For a pending webhook to a federation-level organisation: its active endpoint, read in the
    federation's own transaction before the notification's is opened (a transaction cannot
    read both). An endpoint changed between the two is used as read, like a rotation mid-send."""
    async with db.tenant(tenant_id) as scope:
        row = await scope.connection.fetchrow(PEEK_FEDERATION, tenant_id, notification_id)
    if row is None:
        return None
    return await federation_endpoints.endpoint_for_delivery(db, row["federation_id"], UUID(row["recipient"]))


async def _send(
    scope: Scope, senders: Senders, n: NotificationRecord, federation_endpoint: WebhookEndpointRecord | None
) -> SendResult:
    if n.channel is Channel.EMAIL:
        return await senders.email.send_email(Email(n.id, n.recipient, n.subject, n.body))
    if n.channel is Channel.SMS:
        return await senders.sms.send_sms(Sms(n.id, n.recipient, n.body))
    if n.federation_id is not None:
        if federation_endpoint is None:
            return SendResult.error("the organisation has no webhook endpoint (none set, or deleted)", permanent=True)
        return await senders.webhooks.post(federation_endpoint.url, federation_endpoint.secret, n)
    endpoint = await endpoints.endpoint_by_id(scope, UUID(n.recipient))
    if endpoint is None or endpoint.disabled_at is not None:
        return SendResult.error("the integrator deleted its webhook endpoint", permanent=True)
    return await senders.webhooks.post(endpoint.url, endpoint.secret, n)


def _log(n: NotificationRecord, attempt: int, result: SendResult, status: Status, delay: float | None) -> None:
    if status is Status.SENT:
        log.info("notification %s (%s, %s) sent on attempt %d", n.id, n.channel.value, n.topic, attempt)
    elif status is Status.FAILED:
        log.warning("notification %s (%s, %s) failed after %d attempts: %s",
                    n.id, n.channel.value, n.topic, attempt, result.detail)
    else:
        log.info("notification %s attempt %d: %s %s; next try in %.1f s",
                 n.id, attempt, result.outcome.value, result.detail, delay or 0.0)
