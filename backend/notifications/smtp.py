"""E-mail over SMTP (aiosmtplib), configured by one URL.

``SAMVERKA_SMTP_URL``: ``smtp://user:password@host:587`` (STARTTLS when the server offers it),
``...?starttls=required`` (refuse to send in clear), ``...?starttls=off``, or
``smtps://user:password@host:465`` (TLS from the first byte). ``?timeout=30`` sets seconds.
User and password are percent-encoded in the URL.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from backend.notifications.senders import Email, SendResult

DEFAULT_TIMEOUT_S = 30.0
STARTTLS = {"auto": None, "required": True, "on": True, "off": False}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    start_tls: bool | None  # None: upgrade when the server offers it
    timeout_s: float

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SAMVERKA_SMTP_URL reads smtp://user:password@host:port or smtps://...")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        implicit = parts.scheme == "smtps"
        mode = query.get("starttls", "auto").lower()
        if mode not in STARTTLS:
            raise ValueError(f"SAMVERKA_SMTP_URL: starttls is one of {sorted(STARTTLS)}, not {mode!r}")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            implicit_tls=implicit,
            start_tls=False if implicit else STARTTLS[mode],
            timeout_s=float(query.get("timeout", DEFAULT_TIMEOUT_S)),
        )


def compose(message: Email, mail_from: str) -> EmailMessage:
    """A plain-text message; its Message-ID is derived from the notification, so a resend after a
    lost reply carries the same id and receiving systems can drop the duplicate."""
    mail = EmailMessage()
    domain = email.utils.parseaddr(mail_from)[1].rpartition("@")[2] or "samverka.invalid"
    mail["From"] = mail_from
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["Date"] = email.utils.formatdate(usegmt=True)
    mail["Message-ID"] = f"<{message.notification_id}@{domain}>"
    mail["Auto-Submitted"] = "auto-generated"
    mail.set_content(message.body)
    return mail


class SmtpEmailSender:
    def __init__(self, config: SmtpConfig, mail_from: str) -> None:
        self.config = config
        self.mail_from = mail_from

    async def send_email(self, message: Email) -> SendResult:
        c = self.config
        smtp = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.implicit_tls,
            start_tls=c.start_tls,
            timeout=c.timeout_s,
        )
        try:
            async with smtp:
                refused, reply = await smtp.send_message(compose(message, self.mail_from))
        except aiosmtplib.SMTPRecipientsRefused as exc:
            first = exc.recipients[0]
            return _refused(first.code, first.message)
        except aiosmtplib.SMTPResponseException as exc:
            return _refused(exc.code, exc.message)
        except TimeoutError as exc:  # SMTPTimeoutError is one
            return SendResult.timeout(f"SMTP server did not answer in time: {exc}")
        except (aiosmtplib.SMTPException, OSError) as exc:
            return SendResult.error(f"SMTP: {type(exc).__name__}: {exc}")
        if refused:
            code, text = next(iter(refused.values()))
            return _refused(code, text)
        return SendResult.ok(250, reply[:500])


def _refused(code: int, text: str) -> SendResult:
    """5xx is final (no such mailbox, policy); 4xx is worth another try."""
    return SendResult.error(f"SMTP {code} {text}"[:500], code, permanent=500 <= code < 600)
