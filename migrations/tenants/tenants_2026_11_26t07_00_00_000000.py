"""Notifications: the outbox of e-mail, SMS and webhooks, its per-attempt log, and integrators'
webhook endpoints (docs/adr/0008-notifications.md). Tenant-owned, with row-level security.

The app role's grants are as narrow as the service needs: nothing may be deleted, and only the
columns that delivery, erasure and endpoint management change may be updated.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notification outbox, delivery attempts and webhook endpoints"

APP_ROLE = "samverka_app"
TENANT_TABLES = ("notification", "notification_attempt", "webhook_endpoint")
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"

SCHEMA = f"""
CREATE TABLE webhook_endpoint (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  owner_id uuid NOT NULL,
  url varchar(2000) NOT NULL CHECK (url ~ '^https?://'),
  secret varchar(100) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz,
  disabled_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, owner_id)
);

CREATE TABLE notification (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  channel varchar(16) NOT NULL CHECK (channel IN ('email', 'sms', 'webhook')),
  recipient varchar(320) NOT NULL CHECK (length(recipient) > 0),
  subject varchar(300) NOT NULL DEFAULT '',
  body text NOT NULL DEFAULT '',
  payload jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(payload) = 'object'),
  topic varchar(100) NOT NULL CHECK (length(topic) > 0),
  subject_kind varchar(50) NOT NULL,
  subject_id uuid NOT NULL,
  status varchar(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  last_error varchar(1000) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
-- The worker's sweeper: due pending rows of one tenant.
CREATE INDEX notification_due_idx ON notification (tenant_id, next_attempt_at) WHERE status = 'pending';
-- The delivery log of one thing (a delivery, a fault report), newest first.
CREATE INDEX notification_subject_idx
  ON notification (tenant_id, subject_kind, subject_id, created_at DESC, id DESC);

CREATE TABLE notification_attempt (
  tenant_id uuid NOT NULL,
  notification_id uuid NOT NULL,
  attempt integer NOT NULL CHECK (attempt >= 1),
  at timestamptz NOT NULL,
  outcome varchar(16) NOT NULL CHECK (outcome IN ('ok', 'error', 'timeout')),
  status_code integer,
  detail varchar(1000) NOT NULL DEFAULT '',
  duration_ms integer NOT NULL CHECK (duration_ms >= 0),
  PRIMARY KEY (tenant_id, notification_id, attempt),
  FOREIGN KEY (tenant_id, notification_id) REFERENCES notification (tenant_id, id)
);

GRANT SELECT, INSERT ON notification TO {APP_ROLE};
-- Delivery changes the state columns; erasure (personal data retention) blanks the content ones.
GRANT UPDATE (status, attempts, next_attempt_at, sent_at, last_error, recipient, subject, body, payload)
  ON notification TO {APP_ROLE};
GRANT SELECT, INSERT ON notification_attempt TO {APP_ROLE};
GRANT UPDATE (detail) ON notification_attempt TO {APP_ROLE};
GRANT SELECT, INSERT ON webhook_endpoint TO {APP_ROLE};
GRANT UPDATE (url, secret, rotated_at, disabled_at) ON webhook_endpoint TO {APP_ROLE};
"""


def tenant_isolation(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY});
"""


async def _execute(sql: str) -> None:
    engine = engine_finder()
    assert engine is not None, "piccolo_conf must define DB"
    transaction = engine.current_transaction.get()
    assert transaction is not None, "migrations run inside a transaction"
    await transaction.connection.execute(sql)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        await _execute(SCHEMA)
        for table in TENANT_TABLES:
            await _execute(tenant_isolation(table))

    manager.add_raw(run)
    return manager
