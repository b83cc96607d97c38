"""The deliveries plugin's tables: deliveries (with their compartment hold and cold-chain record),
their transitions, single-use codes, keypad lock-outs and the per-compartment slots that
reservations lock.

No compartment is ever double-booked: ``deliveries_delivery`` carries an exclusion constraint
over (tenant, compartment, hold period), so the database itself refuses an overlapping hold
whatever the application does. Every table is tenant-owned with the kernel's
``tenant_isolation`` policy (docs/adr/0001); transitions are append-only for the app role.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T07:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "deliveries: deliveries, transitions, codes, keypad lock-outs, slots"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"
STATUSES = "('reserved', 'dropped_off', 'pickup_code_sent', 'picked_up', 'expired', 'returned', 'cancelled')"

SCHEMA = f"""
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE deliveries_delivery (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  reference varchar(100) NOT NULL CHECK (length(trim(reference)) > 0),
  integrator_id uuid NOT NULL,
  integrator_label varchar(320) NOT NULL DEFAULT '',
  site_id uuid NOT NULL,
  compartment_id uuid NOT NULL,
  temperature_class varchar(16) NOT NULL CHECK (temperature_class IN ('ambient', 'chilled', 'frozen')),
  size_class varchar(4) NOT NULL CHECK (size_class IN ('S', 'M', 'L', 'XL')),
  recipient_kind varchar(16) NOT NULL CHECK (recipient_kind IN ('staff_unit', 'citizen')),
  recipient_name varchar(200),
  recipient_phone varchar(32),
  recipient_email varchar(320),
  recipient_erased_at timestamptz,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  hold tstzrange NOT NULL,
  pickup_deadline timestamptz,
  status varchar(24) NOT NULL CHECK (status IN {STATUSES}),
  status_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  dropped_off_at timestamptz,
  picked_up_at timestamptz,
  expired_at timestamptz,
  returned_at timestamptz,
  cancelled_at timestamptz,
  reminder_sent_at timestamptz,
  opened_after_dropoff_at timestamptz,
  picked_up_by varchar(320) NOT NULL DEFAULT '',
  cold_limit_c double precision,
  cold_min_c double precision,
  cold_max_c double precision,
  cold_seconds_above double precision NOT NULL DEFAULT 0,
  cold_last_c double precision,
  cold_last_at timestamptz,
  cold_chain_broken boolean NOT NULL DEFAULT false,
  cold_broken_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, integrator_id, reference),
  FOREIGN KEY (tenant_id, site_id) REFERENCES lockers_site (tenant_id, id),
  FOREIGN KEY (tenant_id, compartment_id) REFERENCES lockers_compartment (tenant_id, id),
  CHECK (window_end > window_start),
  CHECK (recipient_erased_at IS NOT NULL OR recipient_name IS NOT NULL),
  EXCLUDE USING gist (tenant_id WITH =, compartment_id WITH =, hold WITH &&)
);
CREATE INDEX deliveries_delivery_status_idx ON deliveries_delivery (tenant_id, status, compartment_id);
CREATE INDEX deliveries_delivery_integrator_idx ON deliveries_delivery (tenant_id, integrator_id, created_at, id);
CREATE INDEX deliveries_delivery_created_idx ON deliveries_delivery (tenant_id, created_at, id);
CREATE INDEX deliveries_delivery_dropped_idx ON deliveries_delivery (tenant_id, dropped_off_at)
  WHERE dropped_off_at IS NOT NULL;

CREATE TABLE deliveries_transition (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id bigserial NOT NULL,
  delivery_id uuid NOT NULL,
  from_status varchar(24) CHECK (from_status IN {STATUSES}),
  to_status varchar(24) NOT NULL CHECK (to_status IN {STATUSES}),
  at timestamptz NOT NULL,
  actor_kind varchar(16) NOT NULL,
  actor_id uuid,
  actor_label varchar(320) NOT NULL DEFAULT '',
  detail varchar(1000) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES deliveries_delivery (tenant_id, id)
);
CREATE INDEX deliveries_transition_delivery_idx ON deliveries_transition (tenant_id, delivery_id, id);

-- Codes are stored as HMAC-SHA256 under the tenant's key; the clear code is shown once.
CREATE TABLE deliveries_code (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  delivery_id uuid NOT NULL,
  locker_id uuid NOT NULL,
  purpose varchar(16) NOT NULL CHECK (purpose IN ('dropoff', 'pickup', 'return')),
  code_hash varchar(64) NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  revoked_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, delivery_id) REFERENCES deliveries_delivery (tenant_id, id),
  FOREIGN KEY (tenant_id, locker_id) REFERENCES lockers_locker (tenant_id, id)
);
-- No two live codes at one locker are the same code.
CREATE UNIQUE INDEX deliveries_code_live_idx ON deliveries_code (tenant_id, locker_id, code_hash)
  WHERE used_at IS NULL AND revoked_at IS NULL;
CREATE INDEX deliveries_code_lookup_idx ON deliveries_code (tenant_id, locker_id, code_hash);
CREATE INDEX deliveries_code_delivery_idx ON deliveries_code (tenant_id, delivery_id);

CREATE TABLE deliveries_key (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  key bytea NOT NULL CHECK (length(key) = 32),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id)
);

-- Wrong codes per locker: a locker refuses every code for a while after repeated wrong tries.
CREATE TABLE deliveries_keypad (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  locker_id uuid NOT NULL,
  failures integer NOT NULL DEFAULT 0,
  window_started_at timestamptz,
  blocked_until timestamptz,
  PRIMARY KEY (tenant_id, locker_id),
  FOREIGN KEY (tenant_id, locker_id) REFERENCES lockers_locker (tenant_id, id)
);

-- What a reservation locks (FOR UPDATE SKIP LOCKED), and the fair-spread order.
CREATE TABLE deliveries_slot (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  compartment_id uuid NOT NULL,
  reservations bigint NOT NULL DEFAULT 0,
  last_reserved_at timestamptz,
  PRIMARY KEY (tenant_id, compartment_id),
  FOREIGN KEY (tenant_id, compartment_id) REFERENCES lockers_compartment (tenant_id, id)
);

GRANT SELECT, INSERT, UPDATE ON deliveries_delivery, deliveries_code, deliveries_keypad, deliveries_slot
  TO {APP_ROLE};
GRANT SELECT, INSERT ON deliveries_transition, deliveries_key TO {APP_ROLE};
GRANT USAGE ON SEQUENCE deliveries_transition_id_seq TO {APP_ROLE};
"""

TABLES = (
    "deliveries_delivery",
    "deliveries_transition",
    "deliveries_code",
    "deliveries_key",
    "deliveries_keypad",
    "deliveries_slot",
)


def tenant_isolation(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY});
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="deliveries", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SCHEMA + "".join(tenant_isolation(t) for t in TABLES))

    manager.add_raw(run)
    return manager
