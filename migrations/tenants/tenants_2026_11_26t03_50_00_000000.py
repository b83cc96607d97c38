"""Kernel schema: federation-level tables, tenant-owned tables with row-level security, roles.

Written as SQL rather than generated: composite keys led by ``tenant_id``,
policies, grants and the append-only trigger are beyond piccolo's auto
migrations (docs/adr/0003-migrations-as-sql.md).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T03:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "kernel tables, app role and row-level security"

APP_ROLE = "samverka_app"
TENANT_TABLES = ("membership", "api_token", "audit_log")

SCHEMA = f"""
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$;
GRANT USAGE ON SCHEMA public TO {APP_ROLE};

CREATE TABLE federation (
  id uuid PRIMARY KEY,
  slug varchar(64) NOT NULL UNIQUE,
  name varchar(200) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE municipality (
  id uuid PRIMARY KEY,
  federation_id uuid NOT NULL REFERENCES federation (id),
  slug varchar(64) NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]*$'),
  name varchar(200) NOT NULL CHECK (length(trim(name)) > 0),
  code varchar(4) NOT NULL,
  population integer CHECK (population IS NULL OR population >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX municipality_federation_idx ON municipality (federation_id);

CREATE TABLE app_user (
  id uuid PRIMARY KEY,
  federation_id uuid REFERENCES federation (id),
  email varchar(320) NOT NULL UNIQUE CHECK (email = lower(email)),
  name varchar(200) NOT NULL,
  password_hash text NOT NULL DEFAULT '',
  is_federation_admin boolean NOT NULL DEFAULT false,
  locale varchar(5) NOT NULL DEFAULT 'sv',
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_session (
  id uuid PRIMARY KEY,
  user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  token_hash varchar(64) NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz
);

CREATE TABLE membership (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  user_id uuid NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  role varchar(32) NOT NULL CHECK (role IN ('tenant_admin', 'staff', 'integrator')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, user_id, role)
);
-- Led by user_id on purpose: the only cross-tenant read, a user's own memberships at sign-in.
CREATE INDEX membership_user_idx ON membership (user_id);

CREATE TABLE api_token (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id uuid NOT NULL,
  name varchar(200) NOT NULL CHECK (length(trim(name)) > 0),
  prefix varchar(16) NOT NULL,
  token_hash varchar(64) NOT NULL,
  scopes varchar(64)[] NOT NULL DEFAULT '{{}}',
  user_id uuid REFERENCES app_user (id),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  last_used_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, token_hash)
);

CREATE TABLE audit_log (
  tenant_id uuid NOT NULL REFERENCES municipality (id),
  id bigserial NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  actor_kind varchar(16) NOT NULL CHECK (actor_kind IN ('user', 'token', 'system')),
  actor_id uuid,
  actor_label varchar(320) NOT NULL DEFAULT '',
  action varchar(100) NOT NULL,
  target_kind varchar(50) NOT NULL DEFAULT '',
  target_id varchar(100) NOT NULL DEFAULT '',
  details jsonb NOT NULL DEFAULT '{{}}',
  request_id varchar(64) NOT NULL DEFAULT '',
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_action_idx ON audit_log (tenant_id, action, id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

GRANT SELECT, INSERT, UPDATE ON federation, municipality, app_user TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON user_session TO {APP_ROLE};
GRANT SELECT, INSERT, UPDATE, DELETE ON membership, api_token TO {APP_ROLE};
GRANT SELECT, INSERT ON audit_log TO {APP_ROLE};
GRANT USAGE ON SEQUENCE audit_log_id_seq TO {APP_ROLE};
"""

TENANT_POLICY = "tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid"


def tenant_isolation(table: str) -> str:
    return f"""
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table} USING ({TENANT_POLICY}) WITH CHECK ({TENANT_POLICY});
"""


# A signed-in user may read their own memberships in every tenant (and nothing else of them),
# which sign-in needs before any tenant is chosen. It adds no write path.
MEMBERSHIP_SELF = """
CREATE POLICY own_memberships ON membership FOR SELECT
  USING (user_id = NULLIF(current_setting('app.user_id', true), '')::uuid);
"""


async def _execute(sql: str) -> None:
    engine = engine_finder()
    assert engine is not None, "piccolo_conf must define DB"
    transaction = engine.current_transaction.get()
    assert transaction is not None, "migrations run inside a transaction"
    await transaction.connection.execute(sql)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="tenants", description=DESCRIPTION)

    async def run() -> None:
        await _execute(SCHEMA)
        for table in TENANT_TABLES:
            await _execute(tenant_isolation(table))
        await _execute(MEMBERSHIP_SELF)

    manager.add_raw(run)
    return manager
