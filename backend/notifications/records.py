"""What the notification service stores and returns: plain records, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID


class Channel(str, Enum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"


class Status(str, Enum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Outcome(str, Enum):
    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class AttemptRecord:
    """One try to send a notification."""

    attempt: int
    at: datetime
    outcome: Outcome
    status_code: int | None  # the HTTP status (webhooks) or SMTP reply code (e-mail)
    detail: str
    duration_ms: int


@dataclass(frozen=True)
class NotificationRecord:
    id: UUID
    tenant_id: UUID
    channel: Channel
    recipient: str  # e-mail address, phone number, the webhook endpoint's id, or a federation organisation's id
    subject: str
    body: str
    payload: dict[str, Any]
    topic: str
    subject_kind: str
    subject_id: UUID
    status: Status
    attempt_count: int
    next_attempt_at: datetime
    created_at: datetime
    sent_at: datetime | None
    last_error: str
    attempts: tuple[AttemptRecord, ...] = ()
    federation_id: UUID | None = None  # a webhook to an organisation of this federation (recipient: its id)


@dataclass(frozen=True)
class WebhookEndpointRecord:
    """An integrator's endpoint in a municipality (``tenant_id``), or a federation-level
    organisation's (``federation_id``); ``secret`` is never served except once when it is made."""

    id: UUID
    tenant_id: UUID | None
    owner_id: UUID
    url: str
    secret: str
    created_at: datetime
    rotated_at: datetime | None
    disabled_at: datetime | None
    federation_id: UUID | None = None


@dataclass(frozen=True)
class IssuedSecret:
    """An endpoint together with a secret that was just made (shown this once)."""

    endpoint: WebhookEndpointRecord
    secret: str | None
