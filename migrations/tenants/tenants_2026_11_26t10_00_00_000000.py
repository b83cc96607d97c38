"""Whether an organisation of the municipality's federation has an active webhook endpoint,
without letting the municipality read the endpoint (its URL and secret stay federation data).

``federation_webhook_active(owner)`` answers one yes/no for the federation of the municipality
whose transaction calls it (``app.tenant_id``); it runs as the owner role, which may read the
endpoints of the calling municipality's own federation (a SELECT-only policy, like procurement's
sealed bids' owner exemption; the app role can never become the owner). The outbox asks it before queueing, so a vendor without an
endpoint gets no failed webhook row for every event (docs/adr/0013-vendor-webhooks.md).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "federation_webhook_active(owner): a yes/no for a municipality's outbox"

APP_ROLE = "samverka_app"

SCHEMA = f"""
CREATE POLICY owner_reads ON federation_webhook_endpoint FOR SELECT USING (
  federation_id = NULLIF(current_setting('app.federation_id', true), '')::uuid
  OR (current_user <> '{APP_ROLE}' AND federation_id = (
    SELECT m.federation_id FROM municipality m
    WHERE m.id = NULLIF(current_setting('app.tenant_id', true), '')::uuid)));
CREATE FUNCTION federation_webhook_active(owner uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT EXISTS (
    SELECT 1 FROM federation_webhook_endpoint e
    JOIN municipality m ON m.federation_id = e.federation_id
    WHERE m.id = NULLIF(current_setting('app.tenant_id', true), '')::uuid
      AND e.owner_id = owner AND e.disabled_at IS NULL)
$$;
REVOKE ALL ON FUNCTION federation_webhook_active(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION federation_webhook_active(uuid) TO {APP_ROLE};
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SCHEMA)

    manager.add_raw(run)
    return manager
