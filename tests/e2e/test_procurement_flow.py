"""The whole procurement of "tempererade leveransskåp som tjänst" through GraphQL on a running
``samverka serve`` + ``samverka worker``, as three Göliska IT municipalities and two vendors live it:

needs -> a joint procurement (lot, a mandatory and a deduction requirement) -> published -> two
vendors register, sign in and bid -> evaluated and awarded after the deadline -> the contract signed
after the standstill, with service levels -> each municipality calls off for its own lockers -> one
month followed up from the lockers' own data -> OCDS open data that validates -> a review.

Two things a test cannot wait for are moved with SQL in the federation's transaction: the tender
deadline (at least 30 days after publishing) and the standstill (10 days after the award). The
lockers' month is the gateway's events with explicit times in October 2026, pushed onto the
gateway's Redis stream, which the running worker ingests as it would from a real gateway.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis

from opcua_gateway import contracts
from opcua_gateway.contracts import AlarmKind, Connectivity, LockerEvent
from plugins.procurement.ocds_validate import PackageKind, problems
from tenants.database import Database
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login
from tests.e2e.test_lockers_api import codes, eventually, register
from tests.e2e.test_lockers_api import redis as redis  # a fixture
from tests.integration.test_procurement_bidding import org_number
from tests.integration.test_procurement_followup import Gateway, Locker

ERR = "... on Error { code message } ... on ValidationFailedError { fields { field message } }"
CREATE_MUNICIPALITY = f"""mutation($input: CreateMunicipalityInput!) {{ createMunicipality(input: $input) {{
  __typename ... on Municipality {{ id slug }} {ERR} }} }}"""
CREATE_USER = f"""mutation($input: CreateUserInput!) {{ createUser(input: $input) {{ __typename {ERR} }} }}"""
ENABLE = f'mutation {{ enablePlugin(pluginId: "procurement") {{ __typename {ERR} }} }}'
RECORD = f"""mutation($input: RecordNeedInput!) {{ recordNeed(input: $input) {{
  __typename ... on ProcurementNeed {{ id }} {ERR} }} }}"""
NEEDS = "query($c: String) { federationNeeds(category: $c) { municipalities totalValueSek needs { need { id } } } }"
START = f"""mutation($input: StartJointProcurementInput!) {{ startJointProcurement(input: $input) {{
  __typename ... on Procurement {{ id ocid participants {{ municipality }} }} {ERR} }} }}"""
ADD_LOT = f"""mutation($input: AddLotInput!) {{ addLot(input: $input) {{
  __typename ... on ProcurementLot {{ id }} {ERR} }} }}"""
ADD_REQUIREMENT = f"""mutation($input: AddRequirementInput!) {{ addRequirement(input: $input) {{
  __typename ... on ProcurementRequirement {{ id }} {ERR} }} }}"""
MODEL = f"""mutation($id: ID!) {{ setEvaluationModel(id: $id, model: BEST_PRICE_QUALITY, qualityMethod: DEDUCTION) {{
  __typename {ERR} }} }}"""
PUBLISH = f"""mutation($id: ID!, $deadline: DateTime!) {{ publishProcurement(id: $id, tenderDeadline: $deadline) {{
  __typename ... on ProcurementPublished {{ procurement {{ status procedure }} }} {ERR} }} }}"""
REGISTER_VENDOR = f"""mutation($input: RegisterVendorInput!) {{ registerVendor(input: $input) {{
  __typename ... on ProcurementVendor {{ id name }} {ERR} }} }}"""
OPEN = "query { vendorProcurements { id lots { id } requirements { id kind } } }"
SUBMIT = f"""mutation($input: SubmitBidInput!) {{ submitBid(input: $input) {{
  __typename ... on ProcurementBid {{ id version }} {ERR} }} }}"""
EVALUATE = f"""mutation($id: ID!) {{ evaluateProcurement(id: $id) {{
  __typename ... on ProcurementEvaluation {{ results {{ vendor rank comparedValue qualified }} }} {ERR} }} }}"""
AWARD = f"""mutation($id: ID!) {{ awardProcurement(id: $id) {{
  __typename ... on AwardDecision {{ awards {{ id vendor valueSek }} }} {ERR} }} }}"""
SIGN = f"""mutation($input: SignContractInput!) {{ signContract(input: $input) {{
  __typename ... on ProcurementContract {{ id vendorId vendor status }} {ERR} }} }}"""
LEVELS = f"""mutation($id: ID!, $levels: [ServiceLevelInput!]!) {{ setServiceLevels(contractId: $id, levels: $levels) {{
  __typename ... on ProcurementContract {{ serviceLevels {{ metric target }} }} {ERR} }} }}"""
CALL_OFF = f"""mutation($input: PlaceCallOffInput!) {{ placeCallOff(input: $input) {{
  __typename ... on ProcurementCallOff {{ ocid lockerIds }} {ERR} }} }}"""
FOLLOW_UP_FIELDS = """contractId breaches penaltySek months { month breaches penaltySek municipalities {
  municipalityId breaches penaltySek lines { metric measured target breached penaltySek details summarySv } } }"""
COMPUTE = f"""mutation($id: ID!, $month: Date!) {{ computeFollowUp(contractId: $id, month: $month) {{
  __typename ... on ContractFollowUp {{ {FOLLOW_UP_FIELDS} }} {ERR} }} }}"""
FOLLOW_UP = (
    f"query($id: ID!, $month: Date) {{ contractFollowUp(contractId: $id, month: $month) {{ {FOLLOW_UP_FIELDS} }} }}"
)
OWN_FOLLOW_UP = f"query($month: Date!) {{ callOffFollowUp(month: $month) {{ {FOLLOW_UP_FIELDS} }} }}"
OCDS = "query($id: ID!, $kind: OcdsPackageKind!) { procurementOcds(id: $id, kind: $kind) }"
REVIEW = f"""mutation($vendor: ID!, $contract: ID, $rating: Int!, $text: String!) {{
  reviewVendor(vendorId: $vendor, contractId: $contract, rating: $rating, text: $text) {{
  __typename ... on VendorReview {{ id rating author }} {ERR} }} }}"""
REVIEWS = (
    "query($id: ID!) { vendorReviews(vendorId: $id) { count averageRating reviews { municipality rating author } } }"
)

CATEGORY = "Tempererade leveransskåp som tjänst"
OCTOBER = "2026-10-01"


def data(body: dict[str, Any], name: str) -> Any:
    assert "errors" not in body, body
    return body["data"][name]


def ok(result: dict[str, Any], typename: str) -> dict[str, Any]:
    assert result["__typename"] == typename, result
    return result


async def third_municipality(server: Server, fed: GraphQLClient) -> tuple[str, str]:
    """Skara joins the federation: the federation admin adds it and its first admin."""
    tag = uuid.uuid4().hex[:8]
    created = ok(
        data(
            await fed(CREATE_MUNICIPALITY, {"input": {"name": f"Skara {tag}", "code": "1495", "slug": f"c-{tag}"}}),
            "createMunicipality",
        ),
        "Municipality",
    )
    email = f"admin-c-{tag}@test.example"
    in_c = GraphQLClient(server.url, fed.token, created["slug"])
    user = {"email": email, "name": "Admin Skara", "role": "TENANT_ADMIN", "password": PASSWORD}
    ok(data(await in_c(CREATE_USER, {"input": user}), "createUser"), "User")
    return created["slug"], email


async def vendor(server: Server, federation_slug: str, name: str) -> tuple[GraphQLClient, str]:
    """A vendor registers itself (nobody signed in) and signs in."""
    email = f"anbud-{uuid.uuid4().hex[:8]}@leverantor.example"
    registered = {
        "federation": federation_slug,
        "name": name,
        "orgNumber": org_number(),
        "contactEmail": email,
        "userName": "Anna Anbud",
        "password": PASSWORD,
    }
    created = ok(
        data(await GraphQLClient(server.url)(REGISTER_VENDOR, {"input": registered}), "registerVendor"),
        "ProcurementVendor",
    )
    return await login(server, email), created["id"]


async def move_into_past(db: Database, world: World, pid: str, *columns: str) -> None:
    """The tender deadline or the standstill, moved to a second ago (a test cannot wait 30 or 10 days)."""
    async with db.federation(world.federation_id) as scope:
        for column in columns:
            if column == "standstill_ends_at":
                await scope.connection.execute(
                    "UPDATE procurement_award SET standstill_ends_at = now() - interval '1 second' "
                    "WHERE procurement_id = $1",
                    uuid.UUID(pid),
                )
            await scope.connection.execute(
                f"UPDATE procurement SET {column} = now() - interval '1 second' WHERE id = $1", uuid.UUID(pid)
            )


def october(gw: Gateway, a: Locker, b: Locker, c: Locker) -> list[LockerEvent]:
    """October 2026 (745 hours in Sweden). Each locker has a chilled and a frozen compartment.

    A: offline 14 h 54 min = 14.9 h = 2 % of the month -> availability 98 %, below the 99 % target.
    B: a temperature alarm for 14.9 h on one of 2 compartments -> 1 % -> temperature compliance 99 %.
    C: a temperature alarm for 44.7 h on one of 2 compartments -> 3 % -> 97 %, below the 98 % target.
    Every locker reported online in September: the state carried into October.
    """
    online, offline, high = Connectivity.ONLINE, Connectivity.OFFLINE, AlarmKind.TEMPERATURE_HIGH
    return [
        *(gw.health(x, "2026-09-20T06:00:00", online) for x in (a, b, c)),
        gw.health(a, "2026-10-10T10:00:00", offline),
        gw.health(a, "2026-10-11T00:54:00", online),
        *gw.alarm(b, "1", "2026-10-05T08:00:00", "2026-10-05T22:54:00", high),
        *gw.alarm(c, "1", "2026-10-20T00:00:00", "2026-10-21T20:42:00", high),
    ]


def lines(follow_up: dict[str, Any]) -> dict[tuple[str, str], tuple[str | None, bool, str]]:
    (month,) = follow_up["months"]
    return {
        (m["municipalityId"], x["metric"]): (x["measured"], x["breached"], x["penaltySek"])
        for m in month["municipalities"]
        for x in m["lines"]
    }


async def test_three_municipalities_procure_lockers_as_a_service_and_follow_the_vendor_up(
    server: Server, db: Database, world: World, redis: Redis
) -> None:
    began = time.monotonic()
    fed = await login(server, world.federation_admin_email)
    c_slug, c_email = await third_municipality(server, fed)
    admins = {
        "a": await login(server, world.a.admin_email, world.a.slug),
        "b": await login(server, world.b.admin_email, world.b.slug),
        "c": await login(server, c_email, c_slug),
    }

    # 1. Each municipality records its need.
    for admin in admins.values():
        ok(data(await admin(ENABLE), "enablePlugin"), "PluginInfo")
        need = {
            "category": CATEGORY,
            "title": "Kyl- och frysskåp för hemleveranser",
            "estimatedVolume": "4",
            "estimatedValueSek": "900000",
            "wantedStart": "2027-01-01",
        }
        ok(data(await admin(RECORD, {"input": need}), "recordNeed"), "ProcurementNeed")
    (group,) = data(await fed(NEEDS, {"c": CATEGORY}), "federationNeeds")
    assert group["municipalities"] == 3

    # 2. The federation admin starts the joint procurement and publishes it.
    started = ok(
        data(
            await fed(
                START,
                {
                    "input": {
                        "title": CATEGORY,
                        "category": CATEGORY,
                        "contractKind": "SERVICES",
                        "durationMonths": 48,
                        "needIds": [n["need"]["id"] for n in group["needs"]],
                    }
                },
            ),
            "startJointProcurement",
        ),
        "Procurement",
    )
    pid = started["id"]
    assert len(started["participants"]) == 3
    lot = ok(
        data(await fed(ADD_LOT, {"input": {"procurementId": pid, "title": "Skåp, drift och service"}}), "addLot"),
        "ProcurementLot",
    )["id"]
    for requirement in (
        {"kind": "MANDATORY", "text": "Kylfack håller 2-8 °C och frysfack -18 °C eller kallare, med larm."},
        {"kind": "DEDUCTION", "text": "Service med fossilfria fordon", "deductionSek": "200000"},
    ):
        added = data(await fed(ADD_REQUIREMENT, {"input": {"procurementId": pid, **requirement}}), "addRequirement")
        ok(added, "ProcurementRequirement")
    ok(data(await fed(MODEL, {"id": pid}), "setEvaluationModel"), "Procurement")
    deadline = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    published = ok(
        data(await fed(PUBLISH, {"id": pid, "deadline": deadline}), "publishProcurement"), "ProcurementPublished"
    )
    assert published["procurement"]["procedure"] == "OPEN"  # 2.7 MSEK over the EU threshold

    # 3. Two vendor integrators register, sign in and bid.
    async with db.shared() as scope:
        federation_slug = await scope.connection.fetchval(
            "SELECT slug FROM federation WHERE id = $1", world.federation_id
        )
    kylbox, kylbox_id = await vendor(server, federation_slug, "Kylbox Service AB")
    frost, _ = await vendor(server, federation_slug, "Frostlogik AB")
    (seen,) = data(await kylbox(OPEN), "vendorProcurements")
    requirement = {r["kind"]: r["id"] for r in seen["requirements"]}

    def bid(price: int, fossil_free: bool) -> dict[str, Any]:
        answers = [
            {"requirementId": requirement["MANDATORY"], "met": True, "comment": "Larm via OPC UA"},
            {"requirementId": requirement["DEDUCTION"], "met": fossil_free},
        ]
        return {"input": {"procurementId": pid, "lotId": lot, "priceSek": str(price), "answers": answers}}

    ok(data(await kylbox(SUBMIT, bid(2_400_000, True)), "submitBid"), "ProcurementBid")
    ok(data(await frost(SUBMIT, bid(2_300_000, False)), "submitBid"), "ProcurementBid")

    # 4. After the deadline the buyer evaluates and awards: 2.4 M - 0.2 M beats 2.3 M.
    await move_into_past(db, world, pid, "tender_deadline")
    evaluated = ok(data(await fed(EVALUATE, {"id": pid}), "evaluateProcurement"), "ProcurementEvaluation")
    assert [(r["vendor"], r["rank"]) for r in evaluated["results"]] == [("Kylbox Service AB", 1), ("Frostlogik AB", 2)]
    award = ok(data(await fed(AWARD, {"id": pid}), "awardProcurement"), "AwardDecision")["awards"][0]
    assert award["vendor"] == "Kylbox Service AB"

    # 5. After the standstill: the contract, from 1 October 2026, with its service levels.
    await move_into_past(db, world, pid, "standstill_ends_at")
    sign = {"awardId": award["id"], "startsOn": OCTOBER, "endsOn": "2030-09-30", "coversLockers": True}
    contract = ok(data(await fed(SIGN, {"input": sign}), "signContract"), "ProcurementContract")
    assert contract["vendorId"] == kylbox_id
    levels = [
        {"metric": "AVAILABILITY", "target": "99", "unit": "PERCENT", "penaltySek": "10000"},
        {"metric": "TEMPERATURE_COMPLIANCE", "target": "98", "unit": "PERCENT", "penaltySek": "5000"},
    ]
    ok(data(await fed(LEVELS, {"id": contract["id"], "levels": levels}), "setServiceLevels"), "ProcurementContract")

    # 6. Each municipality registers its lockers and calls off for them.
    lockers: dict[str, Locker] = {}
    ids: dict[str, str] = {}
    for key, email, slug in (
        ("a", world.a.admin_email, world.a.slug),
        ("b", world.b.admin_email, world.b.slug),
        ("c", c_email, c_slug),
    ):
        registered = await register(server, email, locker=f"L-{key}")
        lockers[key] = Locker(registered.endpoint_id, f"L-{key}", uuid.UUID(registered.locker_id))
        order = {
            "contractId": contract["id"],
            "quantity": "1",
            "valueSek": "600000",
            "description": "Ett skåp",
            "lockerIds": [registered.locker_id],
        }
        placed = ok(data(await admins[key](CALL_OFF, {"input": order}), "placeCallOff"), "ProcurementCallOff")
        assert placed["lockerIds"] == [registered.locker_id]
        ids[key] = await municipality_id(db, slug)

    # 7. October from the lockers, through the gateway's stream and the running worker.
    gw = Gateway(redis, contracts.EVENTS_STREAM)
    events = october(gw, lockers["a"], lockers["b"], lockers["c"])
    await gw.send(events)
    assert await eventually(lambda: stored_events(db, ids, len(events)), seconds=30)

    # 8. The month followed up: A's availability and C's temperatures cost their penalties.
    follow_up = ok(
        data(await fed(COMPUTE, {"id": contract["id"], "month": OCTOBER}), "computeFollowUp"), "ContractFollowUp"
    )
    assert lines(follow_up) == {
        (ids["a"], "AVAILABILITY"): ("98.0000", True, "10000.00"),
        (ids["a"], "TEMPERATURE_COMPLIANCE"): ("100.0000", False, "0.00"),
        (ids["b"], "AVAILABILITY"): ("100.0000", False, "0.00"),
        (ids["b"], "TEMPERATURE_COMPLIANCE"): ("99.0000", False, "0.00"),
        (ids["c"], "AVAILABILITY"): ("100.0000", False, "0.00"),
        (ids["c"], "TEMPERATURE_COMPLIANCE"): ("97.0000", True, "5000.00"),
    }
    assert (follow_up["breaches"], follow_up["penaltySek"]) == (2, "15000.00")
    said = {m["municipalityId"]: m["lines"][0]["summarySv"] for m in follow_up["months"][0]["municipalities"]}
    assert said[ids["a"]] == "Tillgänglighet 98 % (mål minst 99 %): ej uppfylld, vite 10 000,00 kr."
    # Only the buyer computes, a whole month; a member that does not lead, or a bidder that lost, reads no one else's.
    refused = data(await admins["b"](COMPUTE, {"id": contract["id"], "month": OCTOBER}), "computeFollowUp")
    assert refused["code"] == "PERMISSION_DENIED"
    halfway = data(await fed(COMPUTE, {"id": contract["id"], "month": "2026-10-15"}), "computeFollowUp")
    assert halfway["code"] == "VALIDATION_FAILED" and halfway["fields"][0]["field"] == "month"
    assert codes(await frost(FOLLOW_UP, {"id": contract["id"], "month": OCTOBER})) == ["PERMISSION_DENIED"]
    # A member sees its own lines (in the federation's roots and in its own); the vendor sees its contract's.
    own = data(await admins["b"](FOLLOW_UP, {"id": contract["id"], "month": OCTOBER}), "contractFollowUp")
    assert {k[0] for k in lines(own)} == {ids["b"]}
    (mine,) = data(await admins["c"](OWN_FOLLOW_UP, {"month": OCTOBER}), "callOffFollowUp")
    assert {k[0] for k in lines(mine)} == {ids["c"]} and mine["penaltySek"] == "5000.00"
    vendor_view = data(await kylbox(FOLLOW_UP, {"id": contract["id"], "month": None}), "contractFollowUp")
    assert vendor_view["penaltySek"] == "15000.00"

    # 9. Open data: the release package and the record package validate against OCDS 1.1.5.
    for kind, package_kind in (
        ("RELEASE_PACKAGE", PackageKind.RELEASE_PACKAGE),
        ("RECORD_PACKAGE", PackageKind.RECORD_PACKAGE),
    ):
        package = data(await fed(OCDS, {"id": pid, "kind": kind}), "procurementOcds")
        assert problems(package, package_kind) == []
    records = data(await fed(OCDS, {"id": pid, "kind": "RECORD_PACKAGE"}), "procurementOcds")["records"]
    assert len(records) == 4  # the procurement and the three call-offs, each its own ocid

    # 10. Shared experience: C reviews the vendor; the federation reads it; the vendor, without the author.
    review = {
        "vendor": kylbox_id,
        "contract": contract["id"],
        "rating": 3,
        "text": "Skåpen fungerar, men ett kylfack var varmt i nästan två dygn i oktober.",
    }
    ok(data(await admins["c"](REVIEW, review), "reviewVendor"), "VendorReview")
    read = data(await admins["a"](REVIEWS, {"id": kylbox_id}), "vendorReviews")
    assert (read["count"], read["averageRating"], read["reviews"][0]["author"]) == (1, "3.00", c_email)
    assert data(await kylbox(REVIEWS, {"id": kylbox_id}), "vendorReviews")["reviews"][0]["author"] is None
    print(f"\nthe whole procurement took {time.monotonic() - began:.1f} s")


async def municipality_id(db: Database, slug: str) -> str:
    async with db.shared() as scope:
        return str(await scope.connection.fetchval("SELECT id FROM municipality WHERE slug = $1", slug))


async def stored_events(db: Database, municipalities: dict[str, str], expected: int) -> bool:
    total = 0
    for m in municipalities.values():
        async with db.tenant(uuid.UUID(m)) as scope:
            total += await scope.connection.fetchval("SELECT count(*) FROM lockers_event")
    return total == expected
