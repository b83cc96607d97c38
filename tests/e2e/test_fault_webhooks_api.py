"""Vendors manage their own webhook endpoint through the federation roots on a running server: the
secret once, a bad URL refused with nothing changed, rotation and deletion audited in the
federation's log; nobody else (staff, another federation's vendor) sees or touches it."""

from __future__ import annotations

from typing import Any

from tenants.database import Database
from tests.conftest import Server, World, login, make_world
from tests.e2e.test_fault_reports_vendor import data
from tests.e2e.test_procurement_setup_api import vendor

ENDPOINT = "query { vendorWebhookEndpoint { id url rotatedAt } }"
ERR = "... on Error { code message } ... on ValidationFailedError { fields { field message } }"
SET = f"""mutation($url: String!) {{ setVendorWebhookEndpoint(url: $url) {{
  __typename ... on WebhookEndpointSet {{ secret endpoint {{ id url }} }} {ERR} }} }}"""
ROTATE = f"""mutation {{ rotateVendorWebhookSecret {{
  __typename ... on WebhookSecretRotated {{ secret endpoint {{ id }} }} {ERR} }} }}"""
DELETE = f"mutation {{ deleteVendorWebhookEndpoint {{ __typename ... on WebhookEndpointDeleted {{ id }} {ERR} }} }}"


async def audit_actions(db: Database, world: World) -> list[str]:
    async with db.federation(world.federation_id) as scope:
        rows = await scope.connection.fetch(
            "SELECT action FROM federation_audit_log WHERE target_kind = 'federation_webhook_endpoint' ORDER BY id"
        )
    return [r["action"] for r in rows]


async def test_a_vendor_sets_rotates_and_deletes_its_endpoint_and_no_one_else_sees_it(
    server: Server, db: Database, world: World
) -> None:
    acme = await vendor(server, db, world, "Acme Skåpservice")
    assert data(await acme(ENDPOINT), "vendorWebhookEndpoint") is None
    made = data(await acme(SET, {"url": "http://127.0.0.1:9/acme"}), "setVendorWebhookEndpoint")
    assert made["__typename"] == "WebhookEndpointSet" and made["secret"].startswith("whsec_")
    moved = data(await acme(SET, {"url": "http://127.0.0.1:9/acme/v2"}), "setVendorWebhookEndpoint")
    assert moved["secret"] is None and moved["endpoint"]["id"] == made["endpoint"]["id"]  # the secret stays

    bad: dict[str, Any] = data(await acme(SET, {"url": "ftp://hooks.example.com/x"}), "setVendorWebhookEndpoint")
    assert bad["__typename"] == "ValidationFailedError" and [f["field"] for f in bad["fields"]] == ["url"]
    assert data(await acme(ENDPOINT), "vendorWebhookEndpoint")["url"] == "http://127.0.0.1:9/acme/v2"
    assert await audit_actions(db, world) == ["webhook.endpoint_set", "webhook.endpoint_set"]  # not the refusal

    staff = await login(server, world.a.staff_email)
    denied = data(await staff(SET, {"url": "http://127.0.0.1:9/staff"}), "setVendorWebhookEndpoint")
    assert denied["__typename"] == "PermissionDeniedError"
    other = await make_world(db)
    stranger = await vendor(server, db, other, "Främmande AB")
    assert data(await stranger(ENDPOINT), "vendorWebhookEndpoint") is None
    assert data(await stranger(ROTATE), "rotateVendorWebhookSecret")["__typename"] == "NotFoundError"

    rotated = data(await acme(ROTATE), "rotateVendorWebhookSecret")
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != made["secret"]
    assert data(await acme(DELETE), "deleteVendorWebhookEndpoint")["id"] == made["endpoint"]["id"]
    assert data(await acme(ENDPOINT), "vendorWebhookEndpoint") is None
    assert data(await acme(DELETE), "deleteVendorWebhookEndpoint")["__typename"] == "NotFoundError"
    assert await audit_actions(db, world) == [
        "webhook.endpoint_set",
        "webhook.endpoint_set",
        "webhook.secret_rotated",
        "webhook.endpoint_deleted",
    ]
