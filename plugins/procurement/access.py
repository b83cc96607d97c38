"""Who may do what in procurement: municipality roles and token scopes for a municipality's own
work (needs, participation, call-offs, follow-up), federation admins for joint procurements the
federation leads, and vendor organisations (users who are members of one) for bids."""

from backend import plugin_api as api

READ_SCOPE = "procurement:read"
WRITE_SCOPE = "procurement:write"
SCOPES = frozenset({READ_SCOPE, WRITE_SCOPE})
ADMINS = frozenset({api.Role.TENANT_ADMIN})
PEOPLE = frozenset({api.Role.TENANT_ADMIN, api.Role.STAFF})
