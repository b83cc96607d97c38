"""Federation administrators enter new dated thresholds and exchange rates (mutations
``setThreshold`` and ``setExchangeRate``): the app role may add rows to the two reference tables,
never change or delete one, so every earlier classification stays explainable."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T08:11:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "procurement: the app role adds dated thresholds and exchange rates"

SQL = "GRANT INSERT ON procurement_threshold, procurement_exchange_rate TO samverka_app;"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="procurement", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SQL)

    manager.add_raw(run)
    return manager
