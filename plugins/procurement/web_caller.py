"""The procurement caller of a web request: the same resolution GraphQL's resolvers use
(``federation.caller``, ``setup_access.acting``), fed with the web user's principal, so the web
pages apply exactly the rules the API applies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from backend import plugin_api as api
from backend.services import Services
from plugins.procurement import federation, setup_access
from plugins.procurement.federation import Caller
from tenants.access import Principal


@dataclass(frozen=True)
class _Info:
    """What ``federation.caller`` reads of a resolver's ``info``: the context alone."""

    context: api.Context


def _info(services: Services, principal: Principal) -> api.Info:
    # The caller functions read only info.context (principal and services), which this provides.
    return cast(api.Info, _Info(api.Context(services=services, principal=principal)))


async def web_caller(services: Services, principal: Principal) -> Caller:
    return await federation.caller(_info(services, principal))


async def acting_caller(services: Services, principal: Principal) -> Caller:
    """The caller, once its municipality (if any) has procurement enabled."""
    return await setup_access.acting(_info(services, principal))
