"""Alarms for unauthorised openings, handled until acknowledged.

``medicine_cabinets_alarm`` holds one row per ``unauthorised_opening`` log entry: whom it was sent
to (the responsible nurse, else the municipality's alert address, else its tenant admins) and,
once a nurse or admin acknowledged it, who and when and the log entry of the acknowledgement (a
new log kind, ``alarm_acknowledged``). Alarms name no cabinet by foreign key, so removing a
cabinet keeps them, like the log.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "medicine_cabinets: alarms for unauthorised openings, acknowledged in the log"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
KINDS = "('opened', 'refused', 'failed', 'unauthorised_opening', 'door_ajar', 'alarm_acknowledged')"

SCHEMA = f"""
ALTER TABLE medicine_cabinets_log DROP CONSTRAINT medicine_cabinets_log_kind_check;
ALTER TABLE medicine_cabinets_log ADD CONSTRAINT medicine_cabinets_log_kind_check CHECK (kind IN {KINDS});

CREATE TABLE medicine_cabinets_alarm (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  log_seq bigint NOT NULL,
  raised_at timestamptz NOT NULL,
  notified varchar(32) NOT NULL CHECK (notified IN ('responsible_nurse', 'alert_address', 'tenant_admins', 'nobody')),
  acknowledged_at timestamptz,
  acknowledged_by uuid,
  acknowledgement_seq bigint,
  PRIMARY KEY (tenant_id, log_seq),
  FOREIGN KEY (tenant_id, log_seq) REFERENCES medicine_cabinets_log (tenant_id, seq),
  FOREIGN KEY (tenant_id, acknowledgement_seq) REFERENCES medicine_cabinets_log (tenant_id, seq),
  CHECK ((acknowledged_at IS NULL) = (acknowledgement_seq IS NULL))
);
CREATE INDEX medicine_cabinets_alarm_open_idx ON medicine_cabinets_alarm (tenant_id, raised_at)
  WHERE acknowledged_at IS NULL;

GRANT SELECT, INSERT, UPDATE ON medicine_cabinets_alarm TO {APP_ROLE};

ALTER TABLE medicine_cabinets_alarm ENABLE ROW LEVEL SECURITY;
ALTER TABLE medicine_cabinets_alarm FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON medicine_cabinets_alarm USING ({POLICY}) WITH CHECK ({POLICY});
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
