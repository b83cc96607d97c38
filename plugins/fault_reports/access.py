"""Who may report and read faults: staff and tenant admins, or integrator tokens with a scope."""

from backend import plugin_api as api

READ_SCOPE = "fault_reports:read"
WRITE_SCOPE = "fault_reports:write"
SCOPES = frozenset({READ_SCOPE, WRITE_SCOPE})
PEOPLE = frozenset({api.Role.TENANT_ADMIN, api.Role.STAFF})
