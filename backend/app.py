"""The litestar app factory: GraphQL at /graphql, health at /healthz, the web UI at / (static files at /static)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import Headers, State
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import Scope
from redis.asyncio import Redis
from strawberry.exceptions import ConnectionRejectionError
from strawberry.litestar import make_graphql_controller

from backend.auth import TENANT_HEADER, authenticate, bearer
from backend.database import open_database
from backend.graphql.context import Context
from backend.graphql.schema import build_schema
from backend.jobs.broker import make_broker
from backend.jobs.queue import JobQueue
from backend.lib import DomainError
from backend.live import audit_publisher
from backend.services import Services
from backend.settings import Settings
from backend.web.errors import app_http_error
from backend.web.wiring import csrf_config, security_headers, static_router, template_config, web_lifespan, web_router
from plugins.registry import PluginRegistry


def graphql_error_body(exc: DomainError) -> dict[str, Any]:
    return {"data": None, "errors": [{"message": exc.message, "extensions": {"code": exc.code.value}}]}


def domain_error_response(_: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    """Failures before GraphQL runs (bad or expired tokens, wrong tenant) in GraphQL's error shape."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else {}
    if retry := getattr(exc, "retry_after_s", None):
        headers["Retry-After"] = str(retry)
    return Response(graphql_error_body(exc), status_code=exc.http_status, headers=headers)


async def context_getter(state: State, scope: Scope) -> Context:
    services: Services = state.services
    context = Context(services=services)
    if scope["type"] == ScopeType.HTTP:
        headers = Headers.from_scope(scope)
        context.bearer_token = bearer(headers.get("authorization"))
        client = scope.get("client")
        context.principal = await authenticate(
            services, headers.get("authorization"), headers.get(TENANT_HEADER), client[0] if client else None
        )
    return context


def graphql_controller(settings: Settings, registry: PluginRegistry) -> type:
    base = make_graphql_controller(
        build_schema(registry),
        path="/graphql",
        context_getter=context_getter,
        graphql_ide="graphiql" if settings.development else None,
        allow_queries_via_get=settings.development,
        keep_alive=True,
        keep_alive_interval=15,
    )

    class GraphQLController(base):  # type: ignore[valid-type,misc]  # strawberry builds the base class at run time
        async def on_ws_connect(self, context: Context) -> dict[str, object]:
            """Subscriptions authenticate in ``connection_init``: {authorization, tenant}."""
            params = context.connection_params or {}
            authorization, tenant = params.get("authorization"), params.get("tenant")
            if not all(v is None or (isinstance(v, str) and "\x00" not in v) for v in (authorization, tenant)):
                raise ConnectionRejectionError(
                    {"code": "BAD_REQUEST", "message": "'authorization' and 'tenant' are strings."}
                )
            try:
                context.principal = await authenticate(context.services, authorization, tenant)
            except DomainError as exc:
                raise ConnectionRejectionError({"code": exc.code.value, "message": exc.message}) from None
            if context.principal.actor.kind == "anonymous":
                raise ConnectionRejectionError({"code": "UNAUTHENTICATED", "message": "Send 'authorization'."})
            return {"principal": context.principal.actor.label}

    return GraphQLController


@get("/healthz")
async def healthz(state: State) -> dict[str, str]:
    services: Services = state.services
    async with services.db.shared() as scope:
        await scope.connection.fetchval("SELECT 1")
    await services.redis.ping()
    return {"status": "ok"}


def services_lifespan(settings: Settings, registry: PluginRegistry) -> Any:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        assert settings.redis_url, "SAMVERKA_REDIS_URL is required"
        db = open_database(settings, registry)
        await db.start(max_size=settings.pool_max_size)
        redis = Redis.from_url(settings.redis_url)
        db.on_audit(audit_publisher(redis))
        app.state.services = Services(settings, db, redis, JobQueue(make_broker(settings.redis_url)), registry)
        try:
            yield
        finally:
            await redis.aclose()
            await db.close()

    return lifespan


def create_app(settings: Settings, registry: PluginRegistry | None = None) -> Litestar:
    registry = registry if registry is not None else PluginRegistry.discover(settings.plugins)
    csrf = csrf_config(settings)
    return Litestar(
        route_handlers=[graphql_controller(settings, registry), healthz, web_router(registry), static_router()],
        lifespan=[services_lifespan(settings, registry), web_lifespan(csrf)],
        exception_handlers={DomainError: domain_error_response, HTTPException: app_http_error},
        template_config=template_config(registry),
        csrf_config=csrf,
        before_send=[security_headers],
        debug=False,
    )
