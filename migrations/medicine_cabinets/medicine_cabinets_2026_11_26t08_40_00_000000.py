"""The medicine cabinets plugin's tables: care recipients (an internal reference only), cabinets
(a lockers locker placed in a recipient's home), nurse-only compartments, staff qualifications,
daily assignments, and the hash-chained medication log.

The log is append-only for the app role (grant) and for everyone short of dropping the trigger
(``medicine_cabinets_log_append_only`` refuses UPDATE, DELETE and TRUNCATE, like ``audit_log``).
Each entry carries ``hash = sha256(canonical JSON of the entry || prev_hash)``, so an altered or
deleted entry is found by ``verify`` even if someone with the owner role drops the trigger.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T08:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "medicine_cabinets: recipients, cabinets, restrictions, qualifications, assignments, log"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
KINDS = "('opened', 'refused', 'failed', 'unauthorised_opening', 'door_ajar')"

SCHEMA = f"""
CREATE TABLE medicine_cabinets_recipient (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  reference varchar(64) NOT NULL CHECK (reference ~ '^[A-Za-z0-9._-]{{1,64}}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, reference)
);

CREATE TABLE medicine_cabinets_cabinet (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  locker_id uuid NOT NULL,
  recipient_id uuid NOT NULL,
  responsible_nurse_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, locker_id),
  FOREIGN KEY (tenant_id, locker_id) REFERENCES lockers_locker (tenant_id, id),
  FOREIGN KEY (tenant_id, recipient_id) REFERENCES medicine_cabinets_recipient (tenant_id, id)
);

-- A compartment listed here opens for nurses only (e.g. narcotics).
CREATE TABLE medicine_cabinets_restriction (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  compartment_id uuid NOT NULL,
  PRIMARY KEY (tenant_id, compartment_id),
  FOREIGN KEY (tenant_id, compartment_id) REFERENCES lockers_compartment (tenant_id, id)
);

CREATE TABLE medicine_cabinets_qualification (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  user_id uuid NOT NULL,
  nurse boolean NOT NULL DEFAULT false,
  PRIMARY KEY (tenant_id, user_id)
);

CREATE TABLE medicine_cabinets_assignment (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  user_id uuid NOT NULL,
  recipient_id uuid NOT NULL,
  day date NOT NULL,
  PRIMARY KEY (tenant_id, user_id, recipient_id, day),
  FOREIGN KEY (tenant_id, recipient_id) REFERENCES medicine_cabinets_recipient (tenant_id, id)
);

CREATE TABLE medicine_cabinets_log (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  seq bigint NOT NULL CHECK (seq > 0),
  at timestamptz NOT NULL,
  kind varchar(32) NOT NULL CHECK (kind IN {KINDS}),
  cabinet_id uuid,
  compartment_id uuid,
  recipient_id uuid,
  staff_user_id uuid,
  request_id uuid,
  detail varchar(500) NOT NULL DEFAULT '',
  prev_hash char(64) NOT NULL,
  hash char(64) NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX medicine_cabinets_log_cabinet_idx ON medicine_cabinets_log (tenant_id, cabinet_id, seq);
CREATE INDEX medicine_cabinets_log_recipient_idx ON medicine_cabinets_log (tenant_id, recipient_id, seq);
CREATE INDEX medicine_cabinets_log_staff_idx ON medicine_cabinets_log (tenant_id, staff_user_id, seq);

CREATE FUNCTION medicine_cabinets_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'medicine_cabinets_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER medicine_cabinets_log_append_only BEFORE UPDATE OR DELETE ON medicine_cabinets_log
  FOR EACH ROW EXECUTE FUNCTION medicine_cabinets_log_is_append_only();
CREATE TRIGGER medicine_cabinets_log_no_truncate BEFORE TRUNCATE ON medicine_cabinets_log
  FOR EACH STATEMENT EXECUTE FUNCTION medicine_cabinets_log_is_append_only();

GRANT SELECT, INSERT, UPDATE, DELETE ON medicine_cabinets_recipient, medicine_cabinets_cabinet,
  medicine_cabinets_restriction, medicine_cabinets_qualification, medicine_cabinets_assignment TO {APP_ROLE};
GRANT SELECT, INSERT ON medicine_cabinets_log TO {APP_ROLE};
"""

TABLES = (
    "medicine_cabinets_recipient",
    "medicine_cabinets_cabinet",
    "medicine_cabinets_restriction",
    "medicine_cabinets_qualification",
    "medicine_cabinets_assignment",
    "medicine_cabinets_log",
)


def tenant_isolation(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY});
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="medicine_cabinets", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SCHEMA + "".join(tenant_isolation(t) for t in TABLES))

    manager.add_raw(run)
    return manager
