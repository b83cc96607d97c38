"""Per-tenant plugin enablement and configuration, tenant-owned with row-level security."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T04:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "tenant_plugin: enablement and configuration of plugins per tenant"

POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"

SQL = f"""
CREATE TABLE tenant_plugin (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  plugin_id varchar(64) NOT NULL CHECK (plugin_id ~ '^[a-z][a-z0-9_]{{1,47}}$'),
  enabled boolean NOT NULL DEFAULT false,
  config jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(config) = 'object'),
  secrets jsonb NOT NULL DEFAULT '{{}}' CHECK (jsonb_typeof(secrets) = 'object'),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, plugin_id)
);
ALTER TABLE tenant_plugin ENABLE ROW LEVEL SECURITY;
ALTER TABLE tenant_plugin FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenant_plugin USING ({POLICY}) WITH CHECK ({POLICY});
GRANT SELECT, INSERT, UPDATE ON tenant_plugin TO samverka_app;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None
        transaction = engine.current_transaction.get()
        assert transaction is not None
        await transaction.connection.execute(SQL)

    manager.add_raw(run)
    return manager
