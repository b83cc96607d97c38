"""The kernel's notification service: an outbox of e-mail, SMS and signed webhooks, sent by the
worker with retries, and a delivery log per attempt (docs/adr/0008-notifications.md).

Plugins use it through ``backend.plugin_api``.
"""

from backend.notifications.delivery import Senders, backoff_s, deliver, deliver_one, senders_for
from backend.notifications.endpoints import (
    check_url,
    delete_endpoint,
    get_endpoint,
    rotate_secret,
    set_endpoint,
)
from backend.notifications.erasure import erase_notifications
from backend.notifications.federation_endpoints import (
    delete_federation_endpoint,
    get_federation_endpoint,
    record_federation_audit,
    rotate_federation_secret,
    set_federation_endpoint,
)
from backend.notifications.graphql_types import NOTIFICATION_TYPES, Notification, NotificationAttempt, WebhookEndpoint
from backend.notifications.history import get_notification, log_for, page_for
from backend.notifications.outbox import (
    DELIVER_ACTOR,
    QUEUE,
    HasJobs,
    dispatch_after_commit,
    federation_webhook,
    notify,
    webhook,
)
from backend.notifications.owners import integrator_id
from backend.notifications.records import (
    AttemptRecord,
    Channel,
    IssuedSecret,
    NotificationRecord,
    Outcome,
    Status,
    WebhookEndpointRecord,
)
from backend.notifications.senders import Email, EmailSender, LoggingSender, SendResult, Sms, SmsSender
from backend.notifications.signing import sign, verify_signature
from backend.notifications.sweeper import sweep_forever, sweep_once

__all__ = [
    "DELIVER_ACTOR",
    "NOTIFICATION_TYPES",
    "QUEUE",
    "AttemptRecord",
    "Channel",
    "Email",
    "EmailSender",
    "HasJobs",
    "IssuedSecret",
    "LoggingSender",
    "Notification",
    "NotificationAttempt",
    "NotificationRecord",
    "Outcome",
    "SendResult",
    "Senders",
    "Sms",
    "SmsSender",
    "Status",
    "WebhookEndpoint",
    "WebhookEndpointRecord",
    "backoff_s",
    "check_url",
    "delete_endpoint",
    "delete_federation_endpoint",
    "deliver",
    "deliver_one",
    "dispatch_after_commit",
    "erase_notifications",
    "federation_webhook",
    "get_endpoint",
    "get_federation_endpoint",
    "get_notification",
    "integrator_id",
    "log_for",
    "notify",
    "page_for",
    "record_federation_audit",
    "rotate_federation_secret",
    "rotate_secret",
    "senders_for",
    "set_endpoint",
    "set_federation_endpoint",
    "sign",
    "sweep_forever",
    "sweep_once",
    "verify_signature",
    "webhook",
]
