"""The open faults that found no vendor, for the sweep that routes them once a contract covers
their locker (``plugins/fault_reports/routing.py``): a small partial index, so the check every
few seconds reads only those rows, however many faults a municipality has had."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T11:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fault_reports: index of open faults without a vendor"

SCHEMA = """
CREATE INDEX fault_report_unrouted_idx ON fault_report (tenant_id, routed_at)
  WHERE vendor_id IS NULL AND status IN ('reported', 'acknowledged', 'in_progress');
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
