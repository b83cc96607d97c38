"""The fault workflow: severity, source (staff or gateway), the vendor a fault is routed to, the
statuses reported -> acknowledged -> in_progress -> resolved (or rejected) with their times, an
"ongoing" key so a fault the gateway raises is not raised again while it is open, and an
append-only table of every status change with its actor (SELECT and INSERT only for the app).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "fault_reports: workflow, severity, source, ongoing key, transitions"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
OPEN = "('reported', 'acknowledged', 'in_progress')"
STATUSES = "('reported', 'acknowledged', 'in_progress', 'resolved', 'rejected')"

SCHEMA = f"""
ALTER TABLE fault_report DROP CONSTRAINT fault_report_status_check;
ALTER TABLE fault_report ADD CONSTRAINT fault_report_status_check CHECK (status IN {STATUSES});
ALTER TABLE fault_report
  ADD COLUMN severity varchar(16) NOT NULL DEFAULT 'normal'
    CONSTRAINT fault_report_severity_check CHECK (severity IN ('critical', 'high', 'normal')),
  ADD COLUMN source varchar(16) NOT NULL DEFAULT 'staff'
    CONSTRAINT fault_report_source_check CHECK (source IN ('staff', 'gateway')),
  ADD COLUMN ongoing_key varchar(200),
  ADD COLUMN vendor_id uuid,
  ADD COLUMN acknowledged_at timestamptz,
  ADD COLUMN started_at timestamptz,
  ADD COLUMN resolved_at timestamptz,
  ADD COLUMN rejected_at timestamptz;
CREATE UNIQUE INDEX fault_report_ongoing_idx ON fault_report (tenant_id, ongoing_key)
  WHERE ongoing_key IS NOT NULL AND status IN {OPEN};
CREATE INDEX fault_report_vendor_idx ON fault_report (vendor_id, reported_at DESC) WHERE vendor_id IS NOT NULL;

CREATE TABLE fault_transition (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  fault_id uuid NOT NULL,
  from_status varchar(24),
  to_status varchar(24) NOT NULL CHECK (to_status IN {STATUSES}),
  at timestamptz NOT NULL,
  actor_kind varchar(16) NOT NULL,
  actor_id uuid,
  actor_label varchar(320) NOT NULL DEFAULT '',
  note text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, fault_id) REFERENCES fault_report (tenant_id, id)
);
CREATE INDEX fault_transition_fault_idx ON fault_transition (tenant_id, fault_id, at);
ALTER TABLE fault_transition ENABLE ROW LEVEL SECURITY;
ALTER TABLE fault_transition FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON fault_transition USING ({POLICY}) WITH CHECK ({POLICY});
GRANT SELECT, INSERT ON fault_transition TO {APP_ROLE};
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
