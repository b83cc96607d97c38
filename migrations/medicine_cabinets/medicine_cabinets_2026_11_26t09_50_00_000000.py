"""Anchors of the medication log's head, outside the log table.

Each append also records its ``(seq, hash)`` in ``medicine_cabinets_log_anchor``, in the same
transaction; the app role may only SELECT and INSERT, and a trigger of its own refuses UPDATE,
DELETE and TRUNCATE. Deleting the newest log entries (which leaves a shorter chain that is valid
in itself) or rewriting the chain from some entry on then no longer matches the anchors, unless
both tables are changed. Entries from before this migration have no anchor.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T09:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "medicine_cabinets: the log's anchored heads"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"

SCHEMA = f"""
CREATE TABLE medicine_cabinets_log_anchor (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  seq bigint NOT NULL CHECK (seq > 0),
  hash char(64) NOT NULL,
  anchored_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq)
);

CREATE FUNCTION medicine_cabinets_anchor_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'medicine_cabinets_log_anchor is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER medicine_cabinets_log_anchor_append_only BEFORE UPDATE OR DELETE ON medicine_cabinets_log_anchor
  FOR EACH ROW EXECUTE FUNCTION medicine_cabinets_anchor_is_append_only();
CREATE TRIGGER medicine_cabinets_log_anchor_no_truncate BEFORE TRUNCATE ON medicine_cabinets_log_anchor
  FOR EACH STATEMENT EXECUTE FUNCTION medicine_cabinets_anchor_is_append_only();

GRANT SELECT, INSERT ON medicine_cabinets_log_anchor TO {APP_ROLE};

ALTER TABLE medicine_cabinets_log_anchor ENABLE ROW LEVEL SECURITY;
ALTER TABLE medicine_cabinets_log_anchor FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON medicine_cabinets_log_anchor USING ({POLICY}) WITH CHECK ({POLICY});
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="medicine_cabinets", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SCHEMA)

    manager.add_raw(run)
    return manager
