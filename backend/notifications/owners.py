"""Who an integrator is, for what it owns (its webhook endpoint, the deliveries it created)."""

from __future__ import annotations

from uuid import UUID

from backend.lib import PermissionDenied
from tenants.access import Principal, Role, require_tenant


def integrator_id(principal: Principal) -> UUID:
    """The integrator behind this request, the same whichever way it signs in.

    An API token issued to a user counts as that user, so the user's tokens and the user signed
    in with the integrator role share one identity; a token issued to no one is its own
    integrator. Anyone else is refused.
    """
    tenant_id = require_tenant(principal)
    if principal.actor.kind == "token" and principal.actor.id is not None:
        return principal.token_user_id or principal.actor.id
    if principal.user_id is not None and Role.INTEGRATOR in principal.roles_in(tenant_id):
        return principal.user_id
    raise PermissionDenied("This is for integrators: use an API token, or a user with the integrator role.")
