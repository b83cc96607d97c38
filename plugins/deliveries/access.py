"""Who may use deliveries: integrators through tokens with scopes, people through roles."""

from backend import plugin_api as api

READ_SCOPE = "deliveries:read"
WRITE_SCOPE = "deliveries:write"
SCOPES = frozenset({READ_SCOPE, WRITE_SCOPE})
PEOPLE = frozenset({api.Role.TENANT_ADMIN, api.Role.STAFF})
WRITERS = frozenset({api.Role.TENANT_ADMIN, api.Role.INTEGRATOR})
