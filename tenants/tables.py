"""Piccolo tables of the kernel. The DDL (keys, row-level security) is in ``migrations/tenants``.

Federation-level tables (federation, municipality, app_user, user_session) are
shared. Tenant-owned tables carry ``tenant_id``; the database filters them by
``app.tenant_id`` (see ``tenants.database``).
"""

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigSerial,
    Boolean,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Federation(Table, tablename="federation"):
    id = UUID(primary_key=True)
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    created_at = Timestamptz(default=TimestamptzNow())


class Municipality(Table, tablename="municipality"):
    """A member municipality of a federation: the tenant. Its ``id`` is the tenant id."""

    id = UUID(primary_key=True)
    federation_id = UUID()
    slug = Varchar(length=64, unique=True)
    name = Varchar(length=200)
    code = Varchar(length=4)
    population = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class AppUser(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    federation_id = UUID(null=True, default=None)
    email = Varchar(length=320, unique=True)
    name = Varchar(length=200)
    password_hash = Text(default="")
    is_federation_admin = Boolean(default=False)
    locale = Varchar(length=5, default="sv")
    disabled = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class UserSession(Table, tablename="user_session"):
    id = UUID(primary_key=True)
    user_id = UUID()
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class Membership(Table, tablename="membership"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    user_id = UUID()
    role = Varchar(length=32)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_token"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    name = Varchar(length=200)
    prefix = Varchar(length=16)
    token_hash = Varchar(length=64, unique=True)
    scopes = Array(base_column=Varchar(length=64))
    user_id = UUID(null=True, default=None)
    created_by = UUID(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)


class AuditEntry(Table, tablename="audit_log"):
    """Append-only: the app role may only insert and select; a trigger refuses changes."""

    id = BigSerial(primary_key=True)
    tenant_id = UUID()
    occurred_at = Timestamptz(default=TimestamptzNow())
    actor_kind = Varchar(length=16)
    actor_id = UUID(null=True, default=None)
    actor_label = Varchar(length=320, default="")
    action = Varchar(length=100)
    target_kind = Varchar(length=50, default="")
    target_id = Varchar(length=100, default="")
    details = JSONB(default="{}")
    request_id = Varchar(length=64, default="")


class TenantPlugin(Table, tablename="tenant_plugin"):
    """Whether a tenant enabled a plugin, and its configuration (secrets apart, never served)."""

    tenant_id = UUID(primary_key=True)  # the key is (tenant_id, plugin_id); piccolo only needs a column
    plugin_id = Varchar(length=64)
    enabled = Boolean(default=False)
    config = JSONB(default="{}")
    secrets = JSONB(default="{}")
    updated_at = Timestamptz(default=TimestamptzNow())


KERNEL_TABLES: tuple[type[Table], ...] = (
    Federation,
    Municipality,
    AppUser,
    UserSession,
    Membership,
    ApiToken,
    AuditEntry,
    TenantPlugin,
)
