"""The notice table, with the tenant isolation every tenant-owned table must have."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T04:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "notices_notice"

POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
SQL = f"""
CREATE TABLE notices_notice (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  text text NOT NULL,
  author_label varchar(320) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX notices_notice_created_idx ON notices_notice (tenant_id, created_at DESC, id);
ALTER TABLE notices_notice ENABLE ROW LEVEL SECURITY;
ALTER TABLE notices_notice FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON notices_notice USING ({POLICY}) WITH CHECK ({POLICY});
GRANT SELECT, INSERT, UPDATE, DELETE ON notices_notice TO samverka_app;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="notices", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.current_transaction.get().connection.execute(SQL)

    manager.add_raw(run)
    return manager
