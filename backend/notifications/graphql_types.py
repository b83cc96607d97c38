"""GraphQL types of the notification service, for the kernel's fields and plugins' resolvers."""

from __future__ import annotations

from datetime import datetime

import strawberry

from backend.notifications.records import (
    AttemptRecord,
    Channel,
    NotificationRecord,
    Outcome,
    Status,
    WebhookEndpointRecord,
)

# Register the domain enums themselves (strawberry.enum returns the class it is given).
strawberry.enum(Channel, name="NotificationChannel")
strawberry.enum(Status, name="NotificationStatus")
strawberry.enum(Outcome, name="NotificationOutcome")


@strawberry.type
class NotificationAttempt:
    attempt: int
    at: datetime
    outcome: Outcome
    status_code: int | None = strawberry.field(description="HTTP status (webhooks) or SMTP reply code (e-mail).")
    detail: str
    duration_ms: int

    @classmethod
    def of(cls, r: AttemptRecord) -> NotificationAttempt:
        return cls(
            attempt=r.attempt,
            at=r.at,
            outcome=r.outcome,
            status_code=r.status_code,
            detail=r.detail,
            duration_ms=r.duration_ms,
        )


@strawberry.type(description="An e-mail, SMS or webhook about something, and every try to send it.")
class Notification:
    id: strawberry.ID
    channel: Channel
    recipient: str = strawberry.field(description="E-mail address, phone number or webhook endpoint id.")
    subject: str
    topic: str
    subject_kind: str
    subject_id: strawberry.ID
    status: Status
    attempt_count: int
    next_attempt_at: datetime | None = strawberry.field(description="While pending: when the next try is due.")
    created_at: datetime
    sent_at: datetime | None
    last_error: str
    attempts: list[NotificationAttempt]

    @classmethod
    def of(cls, r: NotificationRecord) -> Notification:
        return cls(
            id=strawberry.ID(str(r.id)),
            channel=r.channel,
            recipient=r.recipient,
            subject=r.subject,
            topic=r.topic,
            subject_kind=r.subject_kind,
            subject_id=strawberry.ID(str(r.subject_id)),
            status=r.status,
            attempt_count=r.attempt_count,
            next_attempt_at=r.next_attempt_at if r.status is Status.PENDING else None,
            created_at=r.created_at,
            sent_at=r.sent_at,
            last_error=r.last_error,
            attempts=[NotificationAttempt.of(a) for a in r.attempts],
        )


@strawberry.type(description="Where Samverka POSTs this integrator's webhooks; the secret is never shown here.")
class WebhookEndpoint:
    id: strawberry.ID
    url: str
    created_at: datetime
    rotated_at: datetime | None

    @classmethod
    def of(cls, r: WebhookEndpointRecord) -> WebhookEndpoint:
        return cls(id=strawberry.ID(str(r.id)), url=r.url, created_at=r.created_at, rotated_at=r.rotated_at)


NOTIFICATION_TYPES: tuple[type, ...] = (Notification, NotificationAttempt, WebhookEndpoint)
