"""Live audit entries over WebSocket (graphql-transport-ws): authenticated once, scoped to one tenant."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from backend.live import channel
from tenants import tokens
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import GraphQLClient, Server, World, login, make_world

AUDIT_ADDED = "subscription { auditLogAdded { id action targetKind targetId actorLabel details } }"
CREATE_TOKEN = """mutation($input: CreateApiTokenInput!) {
  createApiToken(input: $input) { __typename ... on ApiTokenCreated { apiToken { id name } } }
}"""
QUIET_S = 1.0


def ws_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


async def receive(ws: ClientConnection, within: float = 5.0) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


@asynccontextmanager
async def connected(server: Server, payload: object) -> AsyncIterator[ClientConnection]:
    """An acknowledged graphql-transport-ws connection, initialised with ``payload``."""
    async with connect(ws_url(server), subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = await receive(ws)
        assert ack["type"] == "connection_ack", ack
        yield ws


async def refused_with(server: Server, payload: object) -> int | None:
    """The close code the server answers ``connection_init`` with (``None`` if it acknowledged)."""
    async with connect(ws_url(server), subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        try:
            message = await receive(ws)
        except ConnectionClosed:
            return ws.close_code
        assert message["type"] != "connection_ack", "the server acknowledged a connection it should refuse"
        return None


@pytest.fixture(scope="module")
async def world(db: Database) -> World:
    """One federation for this module: each test opens and closes its own connections, in turn."""
    return await make_world(db)


async def listeners(redis: Redis, tenant_id: uuid.UUID) -> int:
    name = channel(tenant_id, "audit")
    return int(dict(await redis.pubsub_numsub(name)).get(name.encode(), 0))


@pytest.fixture
async def redis(server: Server) -> AsyncIterator[Redis]:
    assert server.settings.redis_url
    client = Redis.from_url(server.settings.redis_url)
    yield client
    await client.aclose()


async def subscribe(ws: ClientConnection, redis: Redis, tenant_id: uuid.UUID, sub_id: str = "1") -> None:
    """Start ``auditLogAdded`` and wait until the server listens on the tenant's channel."""
    before = await listeners(redis, tenant_id)
    await ws.send(json.dumps({"id": sub_id, "type": "subscribe", "payload": {"query": AUDIT_ADDED}}))
    deadline = time.monotonic() + 5
    while await listeners(redis, tenant_id) <= before:
        assert time.monotonic() < deadline, "the subscription never started listening"
        await asyncio.sleep(0.02)


async def create_token(admin: GraphQLClient, name: str) -> str:
    body = await admin(CREATE_TOKEN, {"input": {"name": name, "scopes": ["audit:read"]}})
    created = body["data"]["createApiToken"]  # type: ignore[index]
    assert created["__typename"] == "ApiTokenCreated", body
    return str(created["apiToken"]["id"])


# The worker logs sign-ins asynchronously; those entries may arrive at any moment and are not
# what these tests are about.
BACKGROUND = "user.signed_in"


async def next_entry(ws: ClientConnection, sub_id: str = "1") -> dict[str, Any]:
    while True:
        message = await receive(ws)
        assert message["type"] == "next" and message["id"] == sub_id, message
        assert "errors" not in message["payload"], message
        entry: dict[str, Any] = message["payload"]["data"]["auditLogAdded"]
        if entry["action"] != BACKGROUND:
            return entry


async def assert_silent(ws: ClientConnection, seconds: float = QUIET_S, *, own_user: str | None = None) -> None:
    """Nothing arrives within ``seconds`` but ``own_user``'s own sign-in entries."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            return
        entry = json.loads(message).get("payload", {}).get("data", {}).get("auditLogAdded") or {}
        if not (entry.get("action") == BACKGROUND and entry.get("actorLabel") == own_user):
            raise AssertionError(f"expected nothing, received {message!r}")


async def test_a_subscriber_receives_the_audit_entry_of_a_mutation_in_its_municipality(
    server: Server, world: World, redis: Redis
) -> None:
    admin = await login(server, world.a.admin_email)
    async with connected(server, {"authorization": f"Bearer {admin.token}", "tenant": world.a.slug}) as ws:
        await subscribe(ws, redis, world.a.id)
        token_id = await create_token(admin, "live integration")
        entry = await next_entry(ws)
    assert entry["action"] == "token.created"
    assert entry["targetKind"] == "api_token" and entry["targetId"] == token_id
    assert entry["actorLabel"] == world.a.admin_email
    assert entry["details"]["name"] == "live integration"


async def test_an_api_token_with_the_audit_scope_may_subscribe(
    server: Server, world: World, db: Database, redis: Redis
) -> None:
    async with db.tenant(world.a.id) as scope:
        new = await tokens.create_token(scope, name="watcher", scopes=["audit:read"], expires_in_days=1,
                                        actor=Actor.system("test"))
    admin = await login(server, world.a.admin_email)
    async with connected(server, {"authorization": f"Bearer {new.token}"}) as ws:
        await subscribe(ws, redis, world.a.id)
        token_id = await create_token(admin, "seen by a token")
        entry = await next_entry(ws)
    assert (entry["action"], entry["targetId"]) == ("token.created", token_id)


async def test_a_subscriber_in_another_municipality_receives_nothing_of_it(
    server: Server, world: World, redis: Redis
) -> None:
    admin_a = await login(server, world.a.admin_email)
    admin_b = await login(server, world.b.admin_email)
    async with (
        connected(server, {"authorization": f"Bearer {admin_a.token}", "tenant": world.a.slug}) as ws_a,
        connected(server, {"authorization": f"Bearer {admin_b.token}", "tenant": world.b.slug}) as ws_b,
    ):
        await subscribe(ws_a, redis, world.a.id)
        await subscribe(ws_b, redis, world.b.id)
        # B's subscriber demonstrably receives B's own entries ...
        b_token = await create_token(admin_b, "b's own")
        assert (await next_entry(ws_b))["targetId"] == b_token
        await assert_silent(ws_a, 0.3, own_user=world.a.admin_email)
        # ... and nothing of A's, though A's subscriber got it.
        a_token = await create_token(admin_a, "a's secret")
        assert (await next_entry(ws_a))["targetId"] == a_token
        await assert_silent(ws_b, own_user=world.b.admin_email)


async def test_connection_init_without_authorization_is_refused_with_4403(server: Server, world: World) -> None:
    assert await refused_with(server, {}) == 4403
    assert await refused_with(server, {"tenant": world.a.slug}) == 4403


async def test_connection_init_with_a_bad_token_is_refused_with_4403(
    server: Server, world: World, db: Database
) -> None:
    async with db.tenant(world.a.id) as scope:
        new = await tokens.create_token(scope, name="a only", scopes=["audit:read"], expires_in_days=1,
                                        actor=Actor.system("test"))
    admin_a = await login(server, world.a.admin_email)
    for payload in (
        {"authorization": "Bearer garbage"},
        {"authorization": f"Bearer svk_{world.a.id.hex}_unknown-secret"},
        {"authorization": "Bearer svs_unknown-session"},
        {"authorization": f"Basic {admin_a.token}"},
        {"authorization": f"Bearer {new.token}", "tenant": world.b.slug},
        {"authorization": f"Bearer {admin_a.token}", "tenant": world.b.slug},
        {"authorization": f"Bearer {admin_a.token}", "tenant": "no-such-municipality"},
    ):
        assert await refused_with(server, payload) == 4403, payload


async def test_connection_init_with_parameters_of_the_wrong_type_is_refused(server: Server, world: World) -> None:
    admin_a = await login(server, world.a.admin_email)
    for payload in (
        {"authorization": 12345},
        {"authorization": ["Bearer", admin_a.token]},
        {"authorization": f"Bearer {admin_a.token}", "tenant": 7},
        {"authorization": f"Bearer {admin_a.token}", "tenant": {"slug": world.a.slug}},
        {"authorization": f"Bearer {admin_a.token}", "tenant": "a\x00b"},
    ):
        assert await refused_with(server, payload) == 4403, payload
    assert await refused_with(server, "not an object") == 4400


async def assert_refused_on_subscribe(ws: ClientConnection, permission: str) -> None:
    await ws.send(json.dumps({"id": "s1", "type": "subscribe", "payload": {"query": AUDIT_ADDED}}))
    message = await receive(ws)
    assert message["type"] == "next" and message["id"] == "s1", message
    assert message["payload"]["data"] is None
    errors = message["payload"]["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["PERMISSION_DENIED"], errors
    assert permission in errors[0]["message"]
    assert await receive(ws) == {"id": "s1", "type": "complete"}


async def test_a_token_without_the_audit_scope_gets_an_error_on_subscribe_and_hears_nothing(
    server: Server, world: World, db: Database, redis: Redis
) -> None:
    async with db.tenant(world.a.id) as scope:
        new = await tokens.create_token(scope, name="reader", scopes=["municipality:read"], expires_in_days=1,
                                        actor=Actor.system("test"))
    admin = await login(server, world.a.admin_email)
    async with connected(server, {"authorization": f"Bearer {new.token}"}) as ws:
        before = await listeners(redis, world.a.id)
        await assert_refused_on_subscribe(ws, "audit:read")
        assert await listeners(redis, world.a.id) <= before
        await create_token(admin, "not for the reader")
        await assert_silent(ws, 0.5)


async def test_a_staff_user_gets_an_error_on_subscribe(server: Server, world: World) -> None:
    staff = await login(server, world.a.staff_email)
    async with connected(server, {"authorization": f"Bearer {staff.token}"}) as ws:
        await assert_refused_on_subscribe(ws, "audit:read")


async def test_a_revoked_token_stops_hearing_its_live_subscription_at_once(
    server: Server, world: World, redis: Redis
) -> None:
    admin = await login(server, world.a.admin_email)
    body = await admin("""mutation { createApiToken(input: {name: "watcher", scopes: ["audit:read"]}) {
      ... on ApiTokenCreated { token apiToken { id } } } }""")
    created = body["data"]["createApiToken"]  # type: ignore[index]
    async with connected(server, {"authorization": f"Bearer {created['token']}"}) as ws:
        await subscribe(ws, redis, world.a.id)
        revoked = await admin("mutation($id: ID!) { revokeApiToken(id: $id) { __typename } }",
                              {"id": created["apiToken"]["id"]})
        assert revoked["data"]["revokeApiToken"]["__typename"] == "ApiToken"  # type: ignore[index]
        await create_token(admin, "after the revocation")
        heard = []
        try:
            while True:
                message = await receive(ws, QUIET_S)
                if message["type"] == "next" and message["payload"].get("data"):
                    action = message["payload"]["data"]["auditLogAdded"]["action"]
                    if action != BACKGROUND:  # the admin's own sign-in, written by a job before the revocation
                        heard.append(action)
        except (TimeoutError, ConnectionClosed):
            pass
    assert heard == [], f"a revoked token still heard {heard}"
