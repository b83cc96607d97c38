"""Who may use the lockers: roles for people, scopes for integrator tokens."""

from backend import plugin_api as api

READ_SCOPE = "lockers:read"
OPEN_SCOPE = "lockers:open"
ALARMS_SCOPE = "lockers:alarms"
MANAGE_SCOPE = "lockers:manage"
SCOPES = frozenset({READ_SCOPE, OPEN_SCOPE, ALARMS_SCOPE, MANAGE_SCOPE})
STAFF = frozenset({api.Role.TENANT_ADMIN, api.Role.STAFF})
ADMINS = frozenset({api.Role.TENANT_ADMIN})
