"""Webhooks to federation-level organisations (a procurement vendor serves every member
municipality): their endpoints per federation, the federation's own append-only audit log, and
the outbox column that sends a municipality's notification to such an endpoint
(docs/adr/0013-vendor-webhooks.md).

Federation-level tables are isolated by ``federation_isolation`` on ``app.federation_id`` (set by
``Database.federation``), like procurement's; grants as narrow as for ``webhook_endpoint``.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "federation webhook endpoints, the federation audit log, notifications to them"

APP_ROLE = "samverka_app"
FEDERATION_TABLES = ("federation_webhook_endpoint", "federation_audit_log")
POLICY = "federation_id = NULLIF(current_setting('app.federation_id', true), '')::uuid"

SCHEMA = f"""
CREATE TABLE federation_webhook_endpoint (
  federation_id uuid NOT NULL REFERENCES federation (id),
  id uuid NOT NULL,
  owner_id uuid NOT NULL,
  url varchar(2000) NOT NULL CHECK (url ~ '^https?://'),
  secret varchar(100) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rotated_at timestamptz,
  disabled_at timestamptz,
  PRIMARY KEY (federation_id, id),
  UNIQUE (federation_id, owner_id)
);

CREATE TABLE federation_audit_log (
  federation_id uuid NOT NULL REFERENCES federation (id),
  id bigserial NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor_kind varchar(16) NOT NULL CHECK (actor_kind IN ('user', 'token', 'system')),
  actor_id uuid,
  actor_label varchar(320) NOT NULL DEFAULT '',
  action varchar(100) NOT NULL,
  target_kind varchar(50) NOT NULL DEFAULT '',
  target_id varchar(100) NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{{}}',
  PRIMARY KEY (federation_id, id)
);
CREATE INDEX federation_audit_log_action_idx ON federation_audit_log (federation_id, action, id);
CREATE FUNCTION federation_audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'federation_audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER federation_audit_log_append_only BEFORE UPDATE OR DELETE ON federation_audit_log
  FOR EACH ROW EXECUTE FUNCTION federation_audit_log_is_append_only();
CREATE TRIGGER federation_audit_log_no_truncate BEFORE TRUNCATE ON federation_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION federation_audit_log_is_append_only();

-- A webhook to an organisation of the municipality's federation: recipient is the organisation.
ALTER TABLE notification ADD COLUMN federation_id uuid REFERENCES federation (id);
ALTER TABLE notification ADD CONSTRAINT notification_federation_webhook
  CHECK (federation_id IS NULL OR channel = 'webhook');

GRANT SELECT, INSERT ON federation_webhook_endpoint TO {APP_ROLE};
GRANT UPDATE (url, secret, rotated_at, disabled_at) ON federation_webhook_endpoint TO {APP_ROLE};
GRANT SELECT, INSERT ON federation_audit_log TO {APP_ROLE};
GRANT USAGE ON SEQUENCE federation_audit_log_id_seq TO {APP_ROLE};
"""


def federation_isolation(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY federation_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY});
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
        for table in FEDERATION_TABLES:
            await _execute(federation_isolation(table))

    manager.add_raw(run)
    return manager
