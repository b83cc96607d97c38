"""The medication log's kept verdict: the latest full checks of each tenant's chain.

A full check walks the whole log (about 16 s for a year of a municipality's entries), so it runs in
the worker (daily per tenant, and soon after someone asks for one) or when ``verifyMedicationLog``
is called; its result is kept here: when, up to which head (``head_seq``, ``head_hash``), intact or
the first finding. Views then show it and check only the entries after that head. A row with
``done_at`` NULL is a request for a full check that the worker has not run yet.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T10:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "medicine_cabinets: the log's kept full checks"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"

SCHEMA = f"""
CREATE TABLE medicine_cabinets_log_check (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  source text NOT NULL CHECK (source IN ('daily', 'requested', 'api', 'export')),
  requested_at timestamptz NOT NULL,
  requested_by uuid,
  done_at timestamptz,
  checked bigint,
  head_seq bigint,
  head_hash char(64),
  intact boolean,
  broken_seq bigint,
  reason text NOT NULL DEFAULT '',
  truncated boolean NOT NULL DEFAULT false,
  CHECK (done_at IS NULL OR (checked IS NOT NULL AND intact IS NOT NULL))
);
CREATE INDEX medicine_cabinets_log_check_done_idx ON medicine_cabinets_log_check (tenant_id, done_at DESC, id DESC);
CREATE INDEX medicine_cabinets_log_check_waiting_idx ON medicine_cabinets_log_check (tenant_id)
  WHERE done_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON medicine_cabinets_log_check TO {APP_ROLE};
GRANT USAGE ON SEQUENCE medicine_cabinets_log_check_id_seq TO {APP_ROLE};

ALTER TABLE medicine_cabinets_log_check ENABLE ROW LEVEL SECURITY;
ALTER TABLE medicine_cabinets_log_check FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON medicine_cabinets_log_check USING ({POLICY}) WITH CHECK ({POLICY});
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
