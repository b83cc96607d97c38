"""The fault reports plugin's one table: a fault reported on a locker or a compartment, with an
optional photo (JPEG/PNG, at most 5 MB, checked by the service).

Tenant-owned with the kernel's ``tenant_isolation`` policy (docs/adr/0001). The status and
category checks are named so the later workflow (routing to vendors, statuses, service levels)
can widen them; new columns for it are nullable or defaulted.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fault_reports: fault_report"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
CATEGORIES = "('door_or_lock', 'temperature', 'keypad_or_display', 'damage', 'cleaning', 'other')"

SCHEMA = f"""
CREATE TABLE fault_report (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  locker_id uuid NOT NULL,
  compartment_id uuid,
  category varchar(32) NOT NULL CONSTRAINT fault_report_category_check CHECK (category IN {CATEGORIES}),
  description text NOT NULL CHECK (length(trim(description)) BETWEEN 1 AND 2000),
  photo bytea CHECK (octet_length(photo) <= 5242880),
  photo_type varchar(32) CHECK (photo_type IN ('image/jpeg', 'image/png')),
  reported_by_kind varchar(16) NOT NULL,
  reported_by_id uuid,
  reported_by varchar(320) NOT NULL DEFAULT '',
  reported_at timestamptz NOT NULL,
  status varchar(24) NOT NULL DEFAULT 'reported' CONSTRAINT fault_report_status_check CHECK (status IN ('reported')),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, locker_id) REFERENCES lockers_locker (tenant_id, id),
  FOREIGN KEY (tenant_id, compartment_id) REFERENCES lockers_compartment (tenant_id, id),
  CHECK ((photo IS NULL) = (photo_type IS NULL))
);
CREATE INDEX fault_report_reported_idx ON fault_report (tenant_id, reported_at DESC, id);
CREATE INDEX fault_report_locker_idx ON fault_report (tenant_id, locker_id, reported_at DESC);

ALTER TABLE fault_report ENABLE ROW LEVEL SECURITY;
ALTER TABLE fault_report FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON fault_report USING ({POLICY}) WITH CHECK ({POLICY});
GRANT SELECT, INSERT, UPDATE ON fault_report TO {APP_ROLE};
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
