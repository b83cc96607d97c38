"""Care recipients' personal identity numbers, only where the municipality turned them on.

``personal_identity_number`` holds the normalised twelve digits (YYYYMMDDNNNC) in a column of its
own, unique per municipality. When the plugin's ``personal_identity_numbers`` setting is off (or
missing), a trigger on ``tenant_plugin`` erases every number of that municipality in the same
transaction as the change: whichever way the setting was changed (GraphQL, the admin pages,
enabling with a config), no number is left behind.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T09:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "medicine_cabinets: personal identity numbers, erased when the setting is turned off"

SCHEMA = """
ALTER TABLE medicine_cabinets_recipient
  ADD COLUMN personal_identity_number varchar(12) CHECK (personal_identity_number ~ '^[0-9]{12}$');
CREATE UNIQUE INDEX medicine_cabinets_recipient_pin_idx
  ON medicine_cabinets_recipient (tenant_id, personal_identity_number) WHERE personal_identity_number IS NOT NULL;

CREATE FUNCTION medicine_cabinets_erase_personal_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.plugin_id = 'medicine_cabinets'
     AND NOT coalesce((NEW.config ->> 'personal_identity_numbers')::boolean, false) THEN
    UPDATE medicine_cabinets_recipient SET personal_identity_number = NULL
    WHERE tenant_id = NEW.tenant_id AND personal_identity_number IS NOT NULL;
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER medicine_cabinets_erase_personal_numbers AFTER INSERT OR UPDATE OF config ON tenant_plugin
  FOR EACH ROW EXECUTE FUNCTION medicine_cabinets_erase_personal_numbers();
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
