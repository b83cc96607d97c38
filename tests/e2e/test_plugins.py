"""Municipalities enable, configure and disable plugins through GraphQL; a plugin that is not
enabled answers PLUGIN_NOT_ENABLED. Exercised with the third-party example plugin (notice board)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest
import websockets
from redis.asyncio import Redis

from backend.jobs.broker import make_broker
from backend.jobs.queue import JobQueue
from backend.live import channel
from tests.conftest import GraphQLClient, Server, World, login

PLUGINS = """{ plugins { id version enabled config secretsSet dependsOn name { sv en }
  configSchema { name type required secret default } } }"""
ENABLE = """mutation($id: String!, $config: JSON) { enablePlugin(pluginId: $id, config: $config) {
  __typename ... on PluginInfo { id enabled config secretsSet }
  ... on Error { code message } ... on ValidationFailedError { fields { field message } } } }"""
DISABLE = """mutation($id: String!) { disablePlugin(pluginId: $id) {
  __typename ... on PluginInfo { enabled } ... on Error { code message } } }"""
CONFIGURE = """mutation($id: String!, $config: JSON!) { configurePlugin(pluginId: $id, config: $config) {
  __typename ... on PluginInfo { config secretsSet }
  ... on Error { code message } ... on ValidationFailedError { fields { field message } } } }"""
POST = """mutation($text: String!) { postNotice(text: $text) {
  __typename ... on Notice { id text authorLabel } ... on Error { code message } } }"""
NOTICES = "{ notices { text } }"
AUDIT = "query($action: String) { auditLog(first: 50, action: $action) { nodes { action details } } }"
CONFIG = {"signature": "Hemtjänsten Vara", "max_length": 200, "webhook_secret": "s3cret-value"}


def data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def plugin(admin: GraphQLClient, plugin_id: str) -> dict[str, Any]:
    return next(p for p in data(await admin(PLUGINS), "plugins") if p["id"] == plugin_id)


async def audit_actions(admin: GraphQLClient, action: str) -> list[dict[str, Any]]:
    return list(data(await admin(AUDIT, {"action": action}), "auditLog")["nodes"])


async def test_installed_plugins_are_listed_with_their_configuration_schema_and_secrets_marked(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    notices = await plugin(admin, "notices")
    assert notices["enabled"] is False and notices["name"] == {"sv": "Anslagstavla", "en": "Notice board"}
    schema = {f["name"]: f for f in notices["configSchema"]}
    assert schema["signature"]["required"] and not schema["signature"]["secret"]
    assert schema["webhook_secret"]["secret"] and schema["max_length"]["default"] == 500
    assert (await plugin(admin, "notices_digest"))["dependsOn"] == ["notices"]


async def test_a_plugin_that_is_not_enabled_answers_plugin_not_enabled_everywhere(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    assert codes(await admin(NOTICES)) == ["PLUGIN_NOT_ENABLED"]
    posted = data(await admin(POST, {"text": "Hej"}), "postNotice")
    assert posted["__typename"] == "PluginNotEnabledError" and posted["code"] == "PLUGIN_NOT_ENABLED"
    assert "enablePlugin" in posted["message"]
    ws_url = server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init",
                                  "payload": {"authorization": f"Bearer {admin.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": "subscription { noticePosted { text } }"}}))
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "PLUGIN_NOT_ENABLED"


async def test_invalid_configuration_is_refused_field_by_field_and_nothing_is_saved(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    bad = {"max_length": "lots", "colour": "red"}
    refused = data(await admin(ENABLE, {"id": "notices", "config": bad}), "enablePlugin")
    assert refused["__typename"] == "ValidationFailedError"
    assert {f["field"] for f in refused["fields"]} == {"config.signature", "config.max_length", "config.colour"}
    assert (await plugin(admin, "notices"))["enabled"] is False
    assert await audit_actions(admin, "plugin.enabled") == []
    assert codes(await admin(NOTICES)) == ["PLUGIN_NOT_ENABLED"]


async def test_enabling_with_a_secret_stores_it_write_only_and_the_plugin_works_in_that_municipality_only(
    server: Server, world: World
) -> None:
    admin_a = await login(server, world.a.admin_email)
    enabled = data(await admin_a(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")
    assert enabled == {"__typename": "PluginInfo", "id": "notices", "enabled": True,
                       "config": {"signature": "Hemtjänsten Vara", "max_length": 200},
                       "secretsSet": ["webhook_secret"]}
    assert "s3cret-value" not in json.dumps(await admin_a(PLUGINS))
    entries = await audit_actions(admin_a, "plugin.enabled")
    assert len(entries) == 1 and "s3cret-value" not in json.dumps(entries)

    posted = data(await admin_a(POST, {"text": "Nyckeln hänger i hallen."}), "postNotice")
    assert posted["__typename"] == "Notice" and posted["text"].endswith("— Hemtjänsten Vara")
    assert [n["text"] for n in data(await admin_a(NOTICES), "notices")] == [posted["text"]]
    too_long = data(await admin_a(POST, {"text": "x" * 201}), "postNotice")
    assert too_long["code"] == "VALIDATION_FAILED"

    admin_b = await login(server, world.b.admin_email)
    assert codes(await admin_b(NOTICES)) == ["PLUGIN_NOT_ENABLED"]


async def test_a_dependency_must_be_enabled_first_and_cannot_be_disabled_under_its_dependent(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    early = data(await admin(ENABLE, {"id": "notices_digest"}), "enablePlugin")
    assert early["__typename"] == "ValidationFailedError" and "Enable notices first" in early["message"]
    assert data(await admin(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")["enabled"]
    assert data(await admin(ENABLE, {"id": "notices_digest"}), "enablePlugin")["enabled"]
    assert data(await admin("{ noticeDigest }"), "noticeDigest") == "0 anslag"
    blocked = data(await admin(DISABLE, {"id": "notices"}), "disablePlugin")
    assert blocked["__typename"] == "ConflictError" and "notices_digest" in blocked["message"]


async def test_disabling_keeps_the_data_and_settings_and_enabling_again_restores_them(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    data(await admin(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")
    text = data(await admin(POST, {"text": "Möte kl 14"}), "postNotice")["text"]
    assert data(await admin(DISABLE, {"id": "notices"}), "disablePlugin")["enabled"] is False
    assert codes(await admin(NOTICES)) == ["PLUGIN_NOT_ENABLED"]
    again = data(await admin(ENABLE, {"id": "notices"}), "enablePlugin")
    assert again["config"] == {"signature": "Hemtjänsten Vara", "max_length": 200}
    assert again["secretsSet"] == ["webhook_secret"]
    assert [n["text"] for n in data(await admin(NOTICES), "notices")] == [text]
    assert [e["action"] for e in await audit_actions(admin, "plugin.disabled")] == ["plugin.disabled"]


async def test_configuring_keeps_a_secret_left_out_clears_one_given_as_null_and_refuses_bad_fields(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    data(await admin(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")
    kept = data(await admin(CONFIGURE, {"id": "notices", "config": {"signature": "Ny"}}), "configurePlugin")
    assert kept == {"__typename": "PluginInfo", "config": {"signature": "Ny"}, "secretsSet": ["webhook_secret"]}
    cleared = data(await admin(CONFIGURE, {"id": "notices", "config": {"signature": "Ny", "webhook_secret": None}}),
                   "configurePlugin")
    assert cleared["secretsSet"] == []
    bad = data(await admin(CONFIGURE, {"id": "notices", "config": {"signature": "", "max_length": 5}}),
               "configurePlugin")
    assert {f["field"] for f in bad["fields"]} == {"config.signature", "config.max_length"}
    assert (await plugin(admin, "notices"))["config"] == {"signature": "Ny"}


async def test_only_admins_manage_plugins_and_a_federation_admin_may_do_it_for_any_member(
    server: Server, world: World
) -> None:
    staff = await login(server, world.a.staff_email)
    assert codes(await staff(PLUGINS)) == ["PERMISSION_DENIED"]
    assert data(await staff(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")["code"] == \
        "PERMISSION_DENIED"
    federation_admin = await login(server, world.federation_admin_email, tenant=world.b.slug)
    assert data(await federation_admin(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")["enabled"]
    admin_b = await login(server, world.b.admin_email)
    assert data(await admin_b(NOTICES), "notices") == []
    unknown = data(await admin_b(ENABLE, {"id": "no_such_plugin"}), "enablePlugin")
    assert unknown["code"] == "NOT_FOUND"


async def test_an_integrator_token_with_the_plugins_scope_posts_notices(server: Server, world: World) -> None:
    admin = await login(server, world.a.admin_email)
    data(await admin(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")
    created = data(await admin("""mutation { createApiToken(input: {name: "Intranät", scopes: ["notices:write"]}) {
        __typename ... on ApiTokenCreated { token } } }"""), "createApiToken")
    integrator = GraphQLClient(server.url, created["token"])
    assert data(await integrator(POST, {"text": "Från intranätet"}), "postNotice")["__typename"] == "Notice"
    assert codes(await integrator(NOTICES)) == ["PERMISSION_DENIED"]  # it was not given notices:read


async def _wait_for_actions(admin: GraphQLClient, action: str, count: int, seconds: float = 20) -> list[Any]:
    deadline = time.monotonic() + seconds
    while True:
        found = await audit_actions(admin, action)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.2)


async def test_the_plugins_job_runs_for_tenants_that_enabled_it_and_skips_the_others(
    server: Server, world: World
) -> None:
    admin_a = await login(server, world.a.admin_email)
    data(await admin_a(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")
    data(await admin_a(POST, {"text": "Räknas"}), "postNotice")  # enqueues notices.tally for A
    tallies = await _wait_for_actions(admin_a, "notices.tallied", 1)
    assert [t["details"]["count"] for t in tallies] == [1]

    assert server.settings.redis_url
    broker = make_broker(server.settings.redis_url)
    await JobQueue(broker).enqueue("notices.tally", str(world.b.id))
    await asyncio.to_thread(broker.join, "default", timeout=20_000)
    admin_b = await login(server, world.b.admin_email)
    assert await audit_actions(admin_b, "notices.tallied") == []


async def test_a_live_notice_subscription_hears_posts_and_stops_when_the_plugin_is_disabled(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    data(await admin(ENABLE, {"id": "notices", "config": CONFIG}), "enablePlugin")
    ws_url = server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {admin.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe",
                                  "payload": {"query": "subscription { noticePosted { text } }"}}))
        await asyncio.sleep(0.5)  # let the server subscribe to the channel
        data(await admin(POST, {"text": "Live"}), "postNotice")
        heard = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert heard["payload"]["data"]["noticePosted"]["text"].startswith("Live")
        # Disabled while it listens: an event still published (say, by a web process that raced the
        # disabling) is refused, not delivered.
        data(await admin(DISABLE, {"id": "notices"}), "disablePlugin")
        redis = Redis.from_url(server.settings.redis_url or "")
        try:
            late = {"id": str(uuid.uuid4()), "text": "late", "author_label": "x",
                    "created_at": "2026-11-26T00:00:00+00:00"}
            await redis.publish(channel(world.a.id, "notices"), json.dumps(late))
        finally:
            await redis.aclose()
        refused = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert refused["type"] == "next" and refused["payload"]["errors"][0]["extensions"]["code"] == "PLUGIN_NOT_ENABLED"
    assert "data" not in refused["payload"] or refused["payload"]["data"] is None


async def test_a_plugins_web_page_is_mounted_under_its_id_for_municipalities_that_enabled_it(
    server: Server, world: World
) -> None:
    admin_a, admin_b = await login(server, world.a.admin_email), await login(server, world.b.admin_email)
    enabled = await admin_a(ENABLE, {"id": "notices", "config": CONFIG})
    assert enabled["data"]["enablePlugin"]["__typename"] == "PluginInfo", enabled  # type: ignore[index]
    page = f"{server.url}/web/plugins/notices/"
    async with httpx.AsyncClient() as client:
        stranger = await client.get(page)
        a = await client.get(page, cookies={"samverka_session": admin_a.token or "", "samverka_tenant": world.a.slug})
        b = await client.get(page, cookies={"samverka_session": admin_b.token or "", "samverka_tenant": world.b.slug})
    assert stranger.status_code == 303 and stranger.headers["location"].startswith("/login")
    assert a.status_code == 200 and "Anslagstavla" in a.text
    assert b.status_code == 404  # B has not enabled the notice board: its page is not there


async def test_the_plugins_table_is_tenant_owned_and_covered_by_the_rls_check(owner: Any) -> None:
    policy = await owner.fetchval(
        "SELECT count(*) FROM pg_policies WHERE tablename = 'notices_notice' AND policyname = 'tenant_isolation'"
    )
    forced = await owner.fetchval("SELECT relforcerowsecurity FROM pg_class WHERE oid = 'notices_notice'::regclass")
    assert policy == 1 and forced


pytestmark = pytest.mark.usefixtures("server")
