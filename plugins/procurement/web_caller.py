"""The procurement caller of a web request: the same resolution GraphQL's resolvers use
(``federation.caller_of``, ``setup_access.acting_of``), fed with the web user's principal, so the
web pages apply exactly the rules the API applies."""

from __future__ import annotations

from backend.services import Services
from plugins.procurement import federation, setup_access
from plugins.procurement.federation import Caller
from tenants.access import Principal


async def web_caller(services: Services, principal: Principal) -> Caller:
    return await federation.caller_of(services.db, principal)


async def acting_caller(services: Services, principal: Principal) -> Caller:
    """The caller, once its municipality (if any) has procurement enabled."""
    return await setup_access.acting_of(services.db, principal)
