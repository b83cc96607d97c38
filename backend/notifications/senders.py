"""One interface per channel, so a provider is a class, not a change to delivery.

A sender returns a :class:`SendResult` for every failure it expects (a refused recipient, a
timeout, a lost connection); anything else it raises is a bug and leaves the notification
pending for the sweeper. An SMS gateway over HTTP is a new ``SmsSender`` built from settings in
:func:`backend.notifications.delivery.senders_for`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from backend.notifications.records import Outcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    status_code: int | None = None  # HTTP status or SMTP reply code
    detail: str = ""
    permanent: bool = False  # retrying cannot help (SMTP 5xx, no provider configured)

    @classmethod
    def ok(cls, status_code: int | None = None, detail: str = "") -> SendResult:
        return cls(Outcome.OK, status_code, detail)

    @classmethod
    def error(cls, detail: str, status_code: int | None = None, *, permanent: bool = False) -> SendResult:
        return cls(Outcome.ERROR, status_code, detail, permanent)

    @classmethod
    def timeout(cls, detail: str) -> SendResult:
        return cls(Outcome.TIMEOUT, None, detail)


@dataclass(frozen=True)
class Email:
    notification_id: UUID
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class Sms:
    notification_id: UUID
    to: str
    body: str


class EmailSender(Protocol):
    async def send_email(self, message: Email) -> SendResult: ...


class SmsSender(Protocol):
    async def send_sms(self, message: Sms) -> SendResult: ...


class LoggingSender:
    """E-mail and SMS written to the log instead of sent: the demo, and tests of the SMS path.

    With ``delivers=False`` (production without a provider) nothing is pretended: the message is
    logged without its text and fails at once, so the delivery log says it never went out.
    """

    def __init__(self, *, delivers: bool) -> None:
        self.delivers = delivers

    async def send_email(self, message: Email) -> SendResult:
        return self._log("e-mail", message.notification_id, message.to, f"{message.subject}\n{message.body}")

    async def send_sms(self, message: Sms) -> SendResult:
        return self._log("SMS", message.notification_id, message.to, message.body)

    def _log(self, kind: str, notification_id: UUID, to: str, text: str) -> SendResult:
        if not self.delivers:
            log.warning("%s %s to %s not sent: no provider is configured", kind, notification_id, to)
            return SendResult.error(f"no {kind} provider is configured", permanent=True)
        log.info("%s %s to %s (logged, not sent):\n%s", kind, notification_id, to, text)
        return SendResult.ok(detail="logged")
