"""The lockers plugin's tables: sites, gateway endpoints, lockers and compartments (with their
current state), temperature samples, the event history, alarms and command requests.

Every table is tenant-owned: ``tenant_id`` leads each key, row-level security is enabled and
forced with the kernel's ``tenant_isolation`` policy (docs/adr/0001), and the app role gets only
what the plugin needs (history tables are append-only for it).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T05:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lockers: sites, endpoints, lockers, compartments, samples, events, alarms, commands"

APP_ROLE = "samverka_app"
POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"

CONNECTIVITY = "('online', 'offline', 'stale')"
DEVICE_HEALTH = "('normal', 'failure', 'check_function', 'off_spec', 'maintenance_required')"
ALARM_KINDS = "('door_ajar', 'temperature_high', 'temperature_low', 'sensor_fault', 'vendor')"

SCHEMA = f"""
CREATE TABLE lockers_site (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  name varchar(200) NOT NULL CHECK (length(trim(name)) > 0),
  address varchar(500) NOT NULL DEFAULT '',
  latitude double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude double precision CHECK (longitude BETWEEN -180 AND 180),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);

-- A gateway endpoint's id names its tenant: '<tenant uuid hex>.<name>' (docs/design/lockers.md).
CREATE TABLE lockers_endpoint (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id varchar(73) NOT NULL,
  name varchar(40) NOT NULL CHECK (name ~ '^[a-z0-9-]{{1,40}}$'),
  vendor varchar(40) NOT NULL CHECK (vendor ~ '^[a-z0-9_-]{{1,40}}$'),
  url varchar(500) NOT NULL CHECK (url LIKE 'opc.tcp://%'),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name),
  CHECK (id = replace(tenant_id::text, '-', '') || '.' || name)
);

CREATE TABLE lockers_locker (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  site_id uuid NOT NULL,
  endpoint_id varchar(73) NOT NULL,
  vendor_locker_id varchar(100) NOT NULL CHECK (length(vendor_locker_id) > 0),
  name varchar(200) NOT NULL CHECK (length(trim(name)) > 0),
  connectivity varchar(16) CHECK (connectivity IN {CONNECTIVITY}),
  device_health varchar(32) CHECK (device_health IN {DEVICE_HEALTH}),
  health_detail varchar(500) NOT NULL DEFAULT '',
  health_seq bigint,
  health_at timestamptz,
  last_seen timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, endpoint_id, vendor_locker_id),
  FOREIGN KEY (tenant_id, site_id) REFERENCES lockers_site (tenant_id, id),
  FOREIGN KEY (tenant_id, endpoint_id) REFERENCES lockers_endpoint (tenant_id, id)
);
CREATE INDEX lockers_locker_site_idx ON lockers_locker (tenant_id, site_id);

-- Current state, applied in seq order: *_seq is the seq of the event a group of columns came from.
CREATE TABLE lockers_compartment (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  locker_id uuid NOT NULL,
  compartment_key varchar(40) NOT NULL CHECK (length(compartment_key) > 0),
  temperature_class varchar(16) NOT NULL CHECK (temperature_class IN ('ambient', 'chilled', 'frozen')),
  size_class varchar(4) NOT NULL CHECK (size_class IN ('S', 'M', 'L', 'XL')),
  door_open boolean,
  locked boolean,
  occupied boolean,
  status varchar(32) NOT NULL DEFAULT 'free'
    CHECK (status IN ('free', 'occupied', 'out_of_order', 'locked_out', 'cleaning_required')),
  setpoint_c double precision,
  state_seq bigint,
  state_at timestamptz,
  temperature_c double precision,
  temperature_seq bigint,
  temperature_at timestamptz,
  door_opened_at timestamptz,
  excursion varchar(20) CHECK (excursion IN ('temperature_high', 'temperature_low')),
  excursion_since timestamptz,
  connectivity varchar(16) CHECK (connectivity IN {CONNECTIVITY}),
  device_health varchar(32) CHECK (device_health IN {DEVICE_HEALTH}),
  health_detail varchar(500) NOT NULL DEFAULT '',
  health_seq bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, locker_id, compartment_key),
  FOREIGN KEY (tenant_id, locker_id) REFERENCES lockers_locker (tenant_id, id),
  CHECK ((excursion IS NULL) = (excursion_since IS NULL))
);
-- The compartments whose alarm timers run (door open, temperature out of its class's band).
CREATE INDEX lockers_compartment_timers_idx ON lockers_compartment (tenant_id)
  WHERE door_opened_at IS NOT NULL OR excursion_since IS NOT NULL;

CREATE TABLE lockers_temperature_sample (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  compartment_id uuid NOT NULL,
  at timestamptz NOT NULL,
  seq bigint NOT NULL,
  temperature_c double precision NOT NULL,
  PRIMARY KEY (tenant_id, compartment_id, at, seq),
  FOREIGN KEY (tenant_id, compartment_id) REFERENCES lockers_compartment (tenant_id, id)
);

-- Every event as received (at-least-once delivery; the key makes ingest idempotent).
CREATE TABLE lockers_event (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  event_id varchar(100) NOT NULL,
  kind varchar(16) NOT NULL,
  endpoint_id varchar(73) NOT NULL,
  locker_key varchar(100) NOT NULL,
  compartment_key varchar(40),
  locker_id uuid,
  compartment_id uuid,
  seq bigint NOT NULL,
  at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  body jsonb NOT NULL,
  PRIMARY KEY (tenant_id, event_id)
);
CREATE INDEX lockers_event_locker_idx ON lockers_event (tenant_id, locker_id, at);

CREATE TABLE lockers_alarm (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  alarm_key varchar(200) NOT NULL,
  source varchar(16) NOT NULL CHECK (source IN ('gateway', 'backend')),
  kind varchar(32) NOT NULL CHECK (kind IN {ALARM_KINDS}),
  severity varchar(16) NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  message varchar(500) NOT NULL DEFAULT '',
  value double precision,
  endpoint_id varchar(73),
  locker_id uuid,
  compartment_id uuid,
  condition_since timestamptz,
  raised_at timestamptz,
  cleared_at timestamptz,
  acknowledged_at timestamptz,
  acknowledged_by_kind varchar(16),
  acknowledged_by_id uuid,
  acknowledged_by_label varchar(320),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, alarm_key)
);
-- Open: still active, or cleared but not yet acknowledged.
CREATE INDEX lockers_alarm_open_idx ON lockers_alarm (tenant_id, compartment_id)
  WHERE cleared_at IS NULL OR acknowledged_at IS NULL;

CREATE TABLE lockers_command (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  request_id uuid NOT NULL,
  command varchar(16) NOT NULL CHECK (command IN ('unlock', 'set_setpoint')),
  endpoint_id varchar(73) NOT NULL,
  compartment_id uuid NOT NULL,
  requested_by_kind varchar(16) NOT NULL,
  requested_by_id uuid,
  requested_by_label varchar(320) NOT NULL,
  requested_at timestamptz NOT NULL DEFAULT now(),
  timeout_s double precision NOT NULL CHECK (timeout_s > 0),
  outcome varchar(16) CHECK (outcome IN ('confirmed', 'failed', 'timeout', 'rejected')),
  detail varchar(1000) NOT NULL DEFAULT '',
  completed_at timestamptz,
  PRIMARY KEY (tenant_id, request_id),
  FOREIGN KEY (tenant_id, compartment_id) REFERENCES lockers_compartment (tenant_id, id)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON lockers_site, lockers_endpoint, lockers_locker, lockers_compartment
  TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE ON lockers_alarm, lockers_command TO {APP_ROLE};
GRANT SELECT, INSERT ON lockers_temperature_sample, lockers_event TO {APP_ROLE};
"""

TABLES = (
    "lockers_site",
    "lockers_endpoint",
    "lockers_locker",
    "lockers_compartment",
    "lockers_temperature_sample",
    "lockers_event",
    "lockers_alarm",
    "lockers_command",
)


def tenant_isolation(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY});
"""


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="lockers", description=DESCRIPTION)

    async def run() -> None:
        engine = engine_finder()
        assert engine is not None, "piccolo_conf must define DB"
        transaction = engine.current_transaction.get()
        assert transaction is not None, "migrations run inside a transaction"
        await transaction.connection.execute(SCHEMA + "".join(tenant_isolation(t) for t in TABLES))

    manager.add_raw(run)
    return manager
