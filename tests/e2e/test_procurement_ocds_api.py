"""Open data and cost allocation through GraphQL on a running ``samverka serve``: a complete
procurement (rows as in the integration test) exported as OCDS and validated; vendors see only
what is published; federation admins set a cost key (bad ones are typed errors) and see every
member's line, a municipality only its own; another federation sees nothing."""

from __future__ import annotations

import json
import uuid
from typing import Any

from backend.lib import utcnow
from plugins.procurement.ocds_validate import PackageKind, problems
from tenants import accounts
from tenants.database import Database
from tests.conftest import PASSWORD, Server, World, login, make_world
from tests.integration.test_procurement_ocds import complete, tendering

ERR = "... on Error { code message } ... on ValidationFailedError { fields { field message } }"
OCDS = "query($id: ID!, $kind: OcdsPackageKind!) { procurementOcds(id: $id, kind: $kind) }"
SET_KEY = f"""mutation($contract: ID!, $from: Date!, $method: CostKeyMethod!, $parameters: CostKeyParametersInput,
  $annual: Decimal!) {{ setCostKey(contractId: $contract, validFrom: $from, method: $method, parameters: $parameters,
  annualCostSek: $annual) {{ __typename ... on CostKey {{ id method parameters annualCostSek }} {ERR} }} }}"""
FIELDS = "totalCostSek lines { municipality costSek sharePercent deliveries staffHoursSaved } segments { days }"
ALLOCATION = f"""query($contract: ID!) {{ costAllocation(contractId: $contract, from: "2027-01-01", to: "2027-12-31")
  {{ {FIELDS} }} }}"""
OWN = f"""query($contract: ID!) {{ ownCostAllocation(contractId: $contract, from: "2027-01-01", to: "2027-12-31")
  {{ {FIELDS} }} }}"""
ENABLE = f'mutation {{ enablePlugin(pluginId: "procurement") {{ __typename {ERR} }} }}'


def data(body: dict[str, Any], name: str) -> Any:
    assert "errors" not in body, body
    return body["data"][name]


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def vendor_login(server: Server, db: Database, world: World, vendor: uuid.UUID | None = None) -> Any:
    """A user of a vendor organisation of the federation (a new one unless given), signed in."""
    email, vid = f"anbud-{uuid.uuid4().hex[:8]}@kylbox.example", vendor or uuid.uuid4()
    async with db.shared() as scope:
        user = await accounts.create_user(
            scope, email=email, name="Kylbox anbud", password=PASSWORD, federation_id=world.federation_id
        )
    async with db.federation(world.federation_id) as scope:
        if vendor is None:
            await scope.connection.execute(
                """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
                   VALUES ($1, $2, 'Kylbox Anbud AB', $3, $4)""",
                world.federation_id,
                vid,
                f"55{uuid.uuid4().int % 10**4:04d}-{uuid.uuid4().int % 10**4:04d}",
                email,
            )
        await scope.connection.execute(
            "INSERT INTO procurement_vendor_member (federation_id, vendor_id, user_id) VALUES ($1, $2, $3)",
            world.federation_id,
            vid,
            user.id,
        )
    return await login(server, email)


async def test_ocds_and_cost_allocation_through_graphql(server: Server, db: Database, world: World) -> None:
    b = await complete(db, world, utcnow())
    pid, contract = str(b.procurement), str(b.contract)
    fed = await login(server, world.federation_admin_email)

    records = data(await fed(OCDS, {"id": pid, "kind": "RECORD_PACKAGE"}), "procurementOcds")
    assert problems(records, PackageKind.RECORD_PACKAGE) == []
    assert [r["ocid"] for r in records["records"]] == [b.ocid, *b.call_offs]
    releases = data(await fed(OCDS, {"id": pid, "kind": "RELEASE_PACKAGE"}), "procurementOcds")
    assert problems(releases, PackageKind.RELEASE_PACKAGE) == []
    assert releases["uri"].startswith(server.url)

    staff_a = await login(server, world.a.staff_email, tenant=world.a.slug)  # a member's people: the members' view
    assert data(await staff_a(OCDS, {"id": pid, "kind": "RELEASE_PACKAGE"}), "procurementOcds") == releases
    vendor = await vendor_login(server, db, world)  # awarded, so the public view shows the bids too
    public = data(await vendor(OCDS, {"id": pid, "kind": "RELEASE_PACKAGE"}), "procurementOcds")
    assert problems(public, PackageKind.RELEASE_PACKAGE) == [] and any("bids" in r for r in public["releases"])
    async with db.federation(b.federation) as scope:
        await scope.connection.execute("UPDATE procurement SET published_at = NULL WHERE id = $1", b.procurement)
    assert error_code(await vendor(OCDS, {"id": pid, "kind": "RELEASE_PACKAGE"})) == "NOT_FOUND"
    stranger = await login(server, (await make_world(db)).federation_admin_email)
    assert error_code(await stranger(OCDS, {"id": pid, "kind": "RELEASE_PACKAGE"})) == "NOT_FOUND"

    shares = [
        {"municipalityId": str(world.a.id), "percent": "70"},
        {"municipalityId": str(world.b.id), "percent": "30"},
    ]
    key = {"contract": contract, "from": "2027-01-01", "method": "FIXED", "annual": "365000"}
    bad = data(await fed(SET_KEY, {**key, "parameters": {"shares": shares[:1]}}), "setCostKey")
    assert bad["__typename"] == "ValidationFailedError" and bad["fields"][0]["field"] == "parameters.shares"
    admin_a = await login(server, world.a.admin_email, tenant=world.a.slug)
    refused = data(await admin_a(SET_KEY, {**key, "parameters": {"shares": shares}}), "setCostKey")
    assert refused["__typename"] == "PermissionDeniedError"
    made = data(await fed(SET_KEY, {**key, "parameters": {"shares": shares}}), "setCostKey")
    assert made["__typename"] == "CostKey" and made["method"] == "FIXED"
    assert made["parameters"] == {"shares": {str(world.a.id): 70, str(world.b.id): 30}}
    again = data(await fed(SET_KEY, {**key, "parameters": {"shares": shares}}), "setCostKey")
    assert again["__typename"] == "ConflictError"

    everyone = data(await fed(ALLOCATION, {"contract": contract}), "costAllocation")
    assert everyone["totalCostSek"] == "365000.00"
    assert [line["costSek"] for line in everyone["lines"]] == ["255500.00", "109500.00"]
    assert error_code(await admin_a(ALLOCATION, {"contract": contract})) == "PERMISSION_DENIED"

    assert error_code(await admin_a(OWN, {"contract": contract})) == "PLUGIN_NOT_ENABLED"
    assert data(await admin_a(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    own = data(await admin_a(OWN, {"contract": contract}), "ownCostAllocation")
    assert [(line["costSek"], line["sharePercent"]) for line in own["lines"]] == [("255500.00", "70.00")]


async def test_a_bidder_does_not_see_even_its_own_bid_in_open_data_before_the_deadline(
    server: Server, db: Database, world: World
) -> None:
    t = await tendering(db, world, utcnow())  # Kylbox has bid 1 400 000 and 900 000; the deadline is tomorrow
    bidder = await vendor_login(server, db, world, vendor=t.vendors[0])
    package = data(await bidder(OCDS, {"id": str(t.procurement), "kind": "RECORD_PACKAGE"}), "procurementOcds")
    assert problems(package, PackageKind.RECORD_PACKAGE) == []
    compiled = package["records"][0]["compiledRelease"]
    assert "bids" not in compiled and "tenderers" not in compiled["tender"]
    assert "1400000" not in json.dumps(package) and "Kylbox" not in json.dumps(package)
