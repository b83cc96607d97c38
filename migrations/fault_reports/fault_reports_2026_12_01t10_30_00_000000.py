"""Routing a fault to a vendor: the federation and the contract (procurement plugin) under which
the vendor (``vendor_id``) serves the faulty locker, so the contract's service levels apply."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T10:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fault_reports: routing to a contract"

SCHEMA = """
ALTER TABLE fault_report
  ADD COLUMN federation_id uuid,
  ADD COLUMN contract_id uuid,
  ADD COLUMN routed_at timestamptz;
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="fault_reports", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SCHEMA)

    manager.add_raw(run)
    return manager
