"""Integrators manage their webhook endpoint through GraphQL; admins read the delivery log."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from backend.notifications import notify
from tenants import accounts, tokens
from tenants.access import Actor, Role
from tenants.database import Database
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login, make_world

ENDPOINT = "{ webhookEndpoint { id url createdAt rotatedAt } }"
SET = """mutation($url: String!) { setWebhookEndpoint(url: $url) {
  __typename
  ... on WebhookEndpointSet { secret endpoint { id url rotatedAt } }
  ... on Error { code message }
  ... on ValidationFailedError { fields { field message } }
} }"""
ROTATE = """mutation { rotateWebhookSecret {
  __typename ... on WebhookSecretRotated { secret endpoint { id rotatedAt } } ... on Error { code message } } }"""
DELETE = """mutation { deleteWebhookEndpoint {
  __typename ... on WebhookEndpointDeleted { id } ... on Error { code message } } }"""
AUDIT = """{ auditLog(first: 50) { nodes { action actorKind targetId details } } }"""
LOG = """query($id: ID!) { notifications(subjectKind: "test_case", subjectId: $id) {
  nodes { id channel recipient subject topic status attemptCount attempts { attempt outcome } } } }"""
CREATE_TOKEN = """mutation($name: String!) { createApiToken(input: {name: $name, scopes: ["municipality:read"]}) {
  ... on ApiTokenCreated { token } ... on Error { code message } } }"""


@pytest.fixture(scope="module")
async def world(db: Database) -> World:
    """One federation for the module; each test makes its own integrators."""
    return await make_world(db)


async def integrator(server: Server, admin_email: str) -> GraphQLClient:
    """A fresh integrator token, granted by the municipality's admin through the API."""
    admin = await login(server, admin_email)
    body = await admin(CREATE_TOKEN, {"name": f"integration {uuid.uuid4().hex[:6]}"})
    return GraphQLClient(server.url, body["data"]["createApiToken"]["token"])  # type: ignore[index]


def data(body: dict[str, Any], name: str) -> Any:
    assert "errors" not in body, body
    return body["data"][name]


async def test_an_integrator_sets_rotates_reads_and_deletes_its_endpoint_and_sees_each_secret_once(
    server: Server, world: World
) -> None:
    client = await integrator(server, world.a.admin_email)
    assert data(await client(ENDPOINT), "webhookEndpoint") is None

    made = data(await client(SET, {"url": "https://hooks.example.com/samverka"}), "setWebhookEndpoint")
    assert made["__typename"] == "WebhookEndpointSet" and made["secret"].startswith("whsec_")
    endpoint_id = made["endpoint"]["id"]

    moved = data(await client(SET, {"url": "https://hooks.example.com/v2"}), "setWebhookEndpoint")
    assert moved["endpoint"]["id"] == endpoint_id and moved["secret"] is None  # a new URL keeps the secret

    rotated = data(await client(ROTATE), "rotateWebhookSecret")
    assert rotated["__typename"] == "WebhookSecretRotated" and rotated["endpoint"]["rotatedAt"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]

    read = await client.post(ENDPOINT)
    assert read.json()["data"]["webhookEndpoint"]["url"] == "https://hooks.example.com/v2"
    assert made["secret"] not in read.text and rotated["secret"] not in read.text

    admin = await login(server, world.a.admin_email)
    audit = await admin.post(AUDIT)
    actions = [e["action"] for e in audit.json()["data"]["auditLog"]["nodes"] if e["targetId"] == endpoint_id]
    assert actions == ["webhook.secret_rotated", "webhook.endpoint_set", "webhook.endpoint_set"]
    assert made["secret"] not in audit.text and rotated["secret"] not in audit.text

    assert data(await client(DELETE), "deleteWebhookEndpoint") == {"__typename": "WebhookEndpointDeleted",
                                                                   "id": endpoint_id}
    assert data(await client(ENDPOINT), "webhookEndpoint") is None
    assert data(await client(ROTATE), "rotateWebhookSecret")["code"] == "NOT_FOUND"
    again = data(await client(SET, {"url": "https://hooks.example.com/back"}), "setWebhookEndpoint")
    assert again["secret"] and again["secret"] not in (made["secret"], rotated["secret"])


BAD_URLS = ["ftp://hooks.example.com/x", "no url", "https://user:pw@hooks.example.com/x", "https://" + "a" * 2001]


@pytest.mark.parametrize("url", BAD_URLS)
async def test_a_bad_url_gives_a_typed_error_and_changes_nothing(server: Server, world: World, url: str) -> None:
    client = await integrator(server, world.a.admin_email)
    data(await client(SET, {"url": "https://hooks.example.com/kept"}), "setWebhookEndpoint")
    refused = data(await client(SET, {"url": url}), "setWebhookEndpoint")
    assert refused["__typename"] == "ValidationFailedError" and refused["code"] == "VALIDATION_FAILED"
    assert [f["field"] for f in refused["fields"]] == ["url"]
    assert data(await client(ENDPOINT), "webhookEndpoint")["url"] == "https://hooks.example.com/kept"


async def test_another_municipalitys_integrator_neither_sees_nor_changes_the_endpoint(
    server: Server, world: World
) -> None:
    a = await integrator(server, world.a.admin_email)
    data(await a(SET, {"url": "https://hooks.example.com/a-only"}), "setWebhookEndpoint")
    b = await integrator(server, world.b.admin_email)
    assert data(await b(ENDPOINT), "webhookEndpoint") is None
    assert data(await b(ROTATE), "rotateWebhookSecret")["code"] == "NOT_FOUND"
    b.tenant = world.a.slug  # B's token asking to act in A
    response = await b.post(ENDPOINT)
    assert response.status_code == 403 and response.json()["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"
    assert data(await a(ENDPOINT), "webhookEndpoint")["url"] == "https://hooks.example.com/a-only"


async def test_a_user_with_the_integrator_role_and_a_token_issued_to_that_user_share_one_endpoint(
    server: Server, world: World, db: Database
) -> None:
    email = f"integrator-{uuid.uuid4().hex[:6]}@test.example"
    async with db.tenant(world.a.id) as scope:
        user = await accounts.create_user(scope, email=email, name="Integratör", password=PASSWORD,
                                          federation_id=world.federation_id)
        await accounts.grant_membership(scope, user_id=user.id, role=Role.INTEGRATOR, actor=Actor.system("test"))
        issued = await tokens.create_token(scope, name="user's token", scopes=["municipality:read"],
                                           expires_in_days=1, user_id=user.id, actor=Actor.system("test"))
    person = await login(server, email)
    made = data(await person(SET, {"url": "https://hooks.example.com/shared"}), "setWebhookEndpoint")
    token = GraphQLClient(server.url, issued.token)
    assert data(await token(ENDPOINT), "webhookEndpoint")["id"] == made["endpoint"]["id"]


async def test_people_without_the_integrator_role_are_refused(server: Server, world: World) -> None:
    staff = await login(server, world.a.staff_email)
    refused = data(await staff(SET, {"url": "https://hooks.example.com/staff"}), "setWebhookEndpoint")
    assert (refused["__typename"], refused["code"]) == ("PermissionDeniedError", "PERMISSION_DENIED")


async def test_only_the_municipalitys_admins_read_the_delivery_log(
    server: Server, world: World, db: Database
) -> None:
    about = uuid.uuid4()
    async with db.tenant(world.a.id) as scope:
        nid = await notify(scope, channel="sms", to="+46701234567", subject="Kod", body="Din kod är 1234.",
                           topic="tests.pickup_code", subject_kind="test_case", subject_id=about)
    admin_a = await login(server, world.a.admin_email)
    [entry] = data(await admin_a(LOG, {"id": str(about)}), "notifications")["nodes"]
    assert (entry["id"], entry["channel"], entry["recipient"], entry["topic"]) == (
        str(nid), "SMS", "+46701234567", "tests.pickup_code")
    assert entry["status"] in ("PENDING", "SENT")  # the server's worker may have swept it by now

    admin_b = await login(server, world.b.admin_email)
    assert data(await admin_b(LOG, {"id": str(about)}), "notifications")["nodes"] == []
    for caller in (await login(server, world.a.staff_email), await integrator(server, world.a.admin_email)):
        body = await caller(LOG, {"id": str(about)})
        assert body["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"  # type: ignore[index]
