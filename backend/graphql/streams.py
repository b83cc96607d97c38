"""Live streams for subscriptions that re-check the caller before every event.

A subscription is authenticated in ``connection_init``, but a token can be revoked,
a session signed out or a role taken away while it listens: each event is only
delivered after the caller's credentials and rights are checked again.
"""

from collections.abc import AsyncIterator, Callable

from backend.auth import authenticate
from backend.graphql.context import Context
from backend.live import listen
from tenants.access import Principal


async def current_principal(context: Context) -> Principal:
    """The caller as the credentials given in ``connection_init`` say now (raises when they no longer hold)."""
    if context.websocket is None or context.connection_params is None:
        return context.principal
    params = context.connection_params
    principal = await authenticate(context.services, params.get("authorization"), params.get("tenant"))
    context.principal = principal
    return principal


async def authorized_stream(
    context: Context, channel_name: str, check: Callable[[Principal], object]
) -> AsyncIterator[bytes]:
    """Payloads published on ``channel_name``, each delivered only if ``check(principal)`` still passes."""
    async for payload in listen(context.services.redis, channel_name):
        check(await current_principal(context))
        yield payload
