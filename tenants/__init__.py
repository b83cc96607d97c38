"""Federations, municipalities (tenants), accounts and the tenant-scoped database access."""

from tenants.access import Actor, Permission, Principal, Role
from tenants.database import Database, Scope

__all__ = ["Actor", "Database", "Permission", "Principal", "Role", "Scope"]
