"""Bidding and contracting through GraphQL on a running ``samverka serve`` + worker: a joint
procurement is published (the setup mutations), two vendors register themselves, sign in and bid;
the buyer sees no bid before the deadline; after it the buyer evaluates, awards (every bidder is
e-mailed), signs after the standstill, sets service levels; members call off. Typed errors that
change nothing, and another federation sees nothing.

The deadline and the standstill are moved into the past with SQL in the federation's transaction:
the tests do not wait 30 or 10 days.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tenants.database import Database
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login, make_world
from tests.integration.test_procurement_bidding import locker, org_number

ERR = "... on Error { code message } ... on ValidationFailedError { fields { field message } }"
ENABLE = f'mutation {{ enablePlugin(pluginId: "procurement") {{ __typename {ERR} }} }}'
RECORD = f"""mutation($input: RecordNeedInput!) {{ recordNeed(input: $input) {{
  __typename ... on ProcurementNeed {{ id }} {ERR} }} }}"""
START = f"""mutation($input: StartJointProcurementInput!) {{ startJointProcurement(input: $input) {{
  __typename ... on Procurement {{ id ocid }} {ERR} }} }}"""
ADD_LOT = f"""mutation($input: AddLotInput!) {{ addLot(input: $input) {{
  __typename ... on ProcurementLot {{ id }} {ERR} }} }}"""
ADD_REQUIREMENT = f"""mutation($input: AddRequirementInput!) {{ addRequirement(input: $input) {{
  __typename ... on ProcurementRequirement {{ id }} {ERR} }} }}"""
MODEL = f"""mutation($id: ID!) {{ setEvaluationModel(id: $id, model: BEST_PRICE_QUALITY, qualityMethod: DEDUCTION) {{
  __typename {ERR} }} }}"""
PUBLISH = f"""mutation($id: ID!, $deadline: DateTime!) {{ publishProcurement(id: $id, tenderDeadline: $deadline) {{
  __typename {ERR} }} }}"""
REGISTER = f"""mutation($input: RegisterVendorInput!) {{ registerVendor(input: $input) {{
  __typename ... on ProcurementVendor {{ id name orgNumber contactEmail }} {ERR} }} }}"""
VENDOR_LIST = "query { vendorProcurements { id lots { id } requirements { id kind text } } }"
SUBMIT = f"""mutation($input: SubmitBidInput!) {{ submitBid(input: $input) {{
  __typename ... on ProcurementBid {{ id version priceSek answers {{ requirementId met comment }} }} {ERR} }} }}"""
MY_BIDS = "query($id: ID) { myBids(procurementId: $id) { id priceSek version } }"
EVALUATION = """query($id: ID!) { procurementEvaluation(id: $id) { status evaluatedAt
  results { vendor priceSek qualified rank comparedValue summarySv summaryEn explanation } } }"""
EVALUATE = f"""mutation($id: ID!) {{ evaluateProcurement(id: $id) {{
  __typename ... on ProcurementEvaluation {{ status results {{ vendor rank comparedValue qualified }} }} {ERR} }} }}"""
AWARD = f"""mutation($id: ID!) {{ awardProcurement(id: $id) {{
  __typename ... on AwardDecision {{ standstillEndsAt notifiedVendorIds awards {{ id vendor valueSek }} }}
  {ERR} }} }}"""
SIGN = f"""mutation($input: SignContractInput!) {{ signContract(input: $input) {{
  __typename ... on ProcurementContract {{ id ocid vendor valueSek status coversLockers }} {ERR} }} }}"""
LEVELS = f"""mutation($id: ID!, $levels: [ServiceLevelInput!]!) {{ setServiceLevels(contractId: $id, levels: $levels) {{
  __typename ... on ProcurementContract {{ serviceLevels {{ metric severity target unit penaltySek kind }} }}
  {ERR} }} }}"""
CALL_OFF = f"""mutation($input: PlaceCallOffInput!) {{ placeCallOff(input: $input) {{
  __typename ... on ProcurementCallOff {{ ocid lockerIds valueSek }} {ERR} }} }}"""
CONTRACTS = "query { contracts { id vendor serviceLevels { metric } callOffs { ocid municipalityId } } }"


def data(body: dict[str, Any], name: str) -> Any:
    assert "errors" not in body, body
    return body["data"][name]


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


@dataclass(frozen=True)
class Published:
    id: str
    ocid: str
    lot: str
    mandatory: str
    deduction: str


async def publish(server: Server, world: World, fed: GraphQLClient) -> Published:
    """Both municipalities' needs, a joint procurement from them, one lot, a mandatory and a
    deduction requirement, published with the shortest open tender period."""
    need_ids = []
    for email, slug in ((world.a.admin_email, world.a.slug), (world.b.admin_email, world.b.slug)):
        admin = await login(server, email, slug)
        assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
        need = {
            "category": "Leveransskåp som tjänst",
            "title": "Tempererade skåp",
            "estimatedVolume": "10",
            "estimatedValueSek": "1500000",
            "wantedStart": (date.today() + timedelta(days=90)).isoformat(),
        }
        need_ids.append(data(await admin(RECORD, {"input": need}), "recordNeed")["id"])
    started = data(
        await fed(
            START,
            {
                "input": {
                    "title": "Tempererade leveransskåp som tjänst",
                    "category": "Leveransskåp som tjänst",
                    "contractKind": "SERVICES",
                    "durationMonths": 48,
                    "needIds": need_ids,
                }
            },
        ),
        "startJointProcurement",
    )
    pid = started["id"]
    lot = data(await fed(ADD_LOT, {"input": {"procurementId": pid, "title": "Skåp och drift"}}), "addLot")["id"]
    ids = []
    for requirement in (
        {"kind": "MANDATORY", "text": "Skåpen håller 2-8 °C."},
        {"kind": "DEDUCTION", "text": "Fossilfri service", "deductionSek": "150000"},
    ):
        added = data(await fed(ADD_REQUIREMENT, {"input": {"procurementId": pid, **requirement}}), "addRequirement")
        ids.append(added["id"])
    assert data(await fed(MODEL, {"id": pid}), "setEvaluationModel")["__typename"] == "Procurement"
    deadline = (datetime.now(UTC) + timedelta(days=31)).isoformat()
    assert data(await fed(PUBLISH, {"id": pid, "deadline": deadline}), "publishProcurement")["__typename"] == (
        "ProcurementPublished"
    )
    return Published(pid, started["ocid"], lot, ids[0], ids[1])


async def register(server: Server, db: Database, world: World, name: str) -> tuple[dict[str, Any], Any]:
    async with db.shared() as scope:
        slug = await scope.connection.fetchval("SELECT slug FROM federation WHERE id = $1", world.federation_id)
    email = f"anbud-{uuid.uuid4().hex[:8]}@leverantor.example"
    vendor_input = {
        "federation": slug,
        "name": name,
        "orgNumber": org_number(),
        "contactEmail": email,
        "userName": "Anna Anbud",
        "password": PASSWORD,
    }
    body = await GraphQLClient(server.url)(REGISTER, {"input": vendor_input})  # nobody signed in
    return vendor_input, data(body, "registerVendor")


def bid(p: Published, price: int, *, fossil_free: bool = False, mandatory: bool = True) -> dict[str, Any]:
    return {
        "procurementId": p.id,
        "lotId": p.lot,
        "priceSek": str(price),
        "answers": [
            {"requirementId": p.mandatory, "met": mandatory, "comment": "Kylaggregat med larm"},
            {"requirementId": p.deduction, "met": fossil_free},
        ],
    }


async def move_into_past(
    db: Database, world: World, pid: str, *, deadline: bool = False, standstill: bool = False
) -> None:
    async with db.federation(world.federation_id) as scope:
        if deadline:
            await scope.connection.execute(
                "UPDATE procurement SET tender_deadline = now() - interval '1 second' WHERE id = $1", uuid.UUID(pid)
            )
        if standstill:
            for table, column in (("procurement_award", "procurement_id"), ("procurement", "id")):
                await scope.connection.execute(
                    f"UPDATE {table} SET standstill_ends_at = now() - interval '1 second' WHERE {column} = $1",
                    uuid.UUID(pid),
                )


async def award_notices(db: Database, world: World, pid: str) -> list[str]:
    """The award e-mails in the outbox of whichever member municipality sent them."""
    found: list[str] = []
    for municipality in (world.a.id, world.b.id):
        async with db.tenant(municipality) as scope:
            rows = await scope.connection.fetch(
                "SELECT recipient FROM notification WHERE subject_id = $1 AND topic = 'procurement.award'",
                uuid.UUID(pid),
            )
        found += [r["recipient"] for r in rows]
    return found


async def test_vendors_bid_sealed_the_buyer_evaluates_awards_signs_and_members_call_off(
    server: Server, db: Database, world: World
) -> None:
    fed = await login(server, world.federation_admin_email)
    p = await publish(server, world, fed)

    kylbox_input, kylbox_vendor = await register(server, db, world, "Kylbox Service AB")
    assert kylbox_vendor["__typename"] == "ProcurementVendor", kylbox_vendor
    frost_input, frost_vendor = await register(server, db, world, "Frostlogik AB")
    again = data(
        await GraphQLClient(server.url)(REGISTER, {"input": {**frost_input, "contactEmail": "x@y.se"}}),
        "registerVendor",
    )
    assert again["code"] == "CONFLICT" and frost_input["orgNumber"] in again["message"]
    bad = data(
        await GraphQLClient(server.url)(
            REGISTER, {"input": {**frost_input, "orgNumber": "556036-0794", "password": "x"}}
        ),
        "registerVendor",
    )
    assert bad["code"] == "VALIDATION_FAILED" and {f["field"] for f in bad["fields"]} == {
        "input.orgNumber",
        "input.password",
    }
    kylbox = await login(server, kylbox_input["contactEmail"])
    frost = await login(server, frost_input["contactEmail"])
    seen = data(await kylbox(VENDOR_LIST), "vendorProcurements")
    assert [x["id"] for x in seen] == [p.id]

    missing = data(await kylbox(SUBMIT, {"input": bid(p, 1_000_000, mandatory=False)}), "submitBid")
    assert missing["code"] == "VALIDATION_FAILED" and "Skåpen håller 2-8 °C." in missing["fields"][0]["message"]
    first = data(await kylbox(SUBMIT, {"input": bid(p, 1_000_000, fossil_free=True)}), "submitBid")
    assert first["__typename"] == "ProcurementBid" and first["version"] == 1, first
    replaced = data(await kylbox(SUBMIT, {"input": bid(p, 900_000, fossil_free=True)}), "submitBid")
    assert (replaced["id"], replaced["version"], replaced["priceSek"]) == (first["id"], 2, "900000.00")
    assert data(await frost(SUBMIT, {"input": bid(p, 800_000)}), "submitBid")["version"] == 1
    assert [b["priceSek"] for b in data(await frost(MY_BIDS, {"id": p.id}), "myBids")] == ["800000.00"]
    refused = data(await fed(SUBMIT, {"input": bid(p, 1)}), "submitBid")
    assert refused["code"] == "PERMISSION_DENIED"

    # Sealed: the buyer sees no bid and cannot evaluate before the deadline.
    sealed = await fed(EVALUATION, {"id": p.id})
    assert error_code(sealed) == "CONFLICT" and "sealed until" in sealed["errors"][0]["message"]
    early = data(await fed(EVALUATE, {"id": p.id}), "evaluateProcurement")
    assert early["code"] == "CONFLICT"

    await move_into_past(db, world, p.id, deadline=True)
    late = data(await frost(SUBMIT, {"input": bid(p, 700_000)}), "submitBid")
    assert late["code"] == "CONFLICT" and "The tender deadline passed at" in late["message"]
    evaluated = data(await fed(EVALUATE, {"id": p.id}), "evaluateProcurement")
    # Kylbox: 900 000 - 150 000 = 750 000 beats Frostlogik's 800 000 without the deduction.
    assert [(r["vendor"], r["rank"], r["comparedValue"]) for r in evaluated["results"]] == [
        ("Kylbox Service AB", 1, "750000.0000"),
        ("Frostlogik AB", 2, "800000.0000"),
    ]
    read = data(await fed(EVALUATION, {"id": p.id}), "procurementEvaluation")
    assert read["status"] == "EVALUATED" and read["evaluatedAt"]
    assert read["results"][0]["summaryEn"].startswith("Qualified. Rank 1 of 2")
    assert read["results"][0]["explanation"]["deductions"][0]["text"] == "Fossilfri service"

    decision = data(await fed(AWARD, {"id": p.id}), "awardProcurement")
    assert decision["__typename"] == "AwardDecision", decision
    assert [(a["vendor"], a["valueSek"]) for a in decision["awards"]] == [("Kylbox Service AB", "900000.00")]
    assert sorted(decision["notifiedVendorIds"]) == sorted([kylbox_vendor["id"], frost_vendor["id"]])
    assert sorted(await award_notices(db, world, p.id)) == sorted(
        [kylbox_input["contactEmail"], frost_input["contactEmail"]]
    )
    award_id = decision["awards"][0]["id"]
    starts = date.today()
    sign_input = {
        "awardId": award_id,
        "startsOn": starts.isoformat(),
        "endsOn": f"{starts.year + 2}-01-31",
        "coversLockers": True,
    }
    too_early = data(await fed(SIGN, {"input": sign_input}), "signContract")
    assert too_early["code"] == "CONFLICT" and "avtalsspärr" in too_early["message"]
    await move_into_past(db, world, p.id, standstill=True)
    too_long = data(await fed(SIGN, {"input": {**sign_input, "endsOn": f"{starts.year + 5}-01-01"}}), "signContract")
    assert too_long["code"] == "VALIDATION_FAILED" and "48 months" in too_long["message"]
    contract = data(await fed(SIGN, {"input": sign_input}), "signContract")
    assert (contract["vendor"], contract["status"], contract["ocid"]) == ("Kylbox Service AB", "active", p.ocid)

    levels = [
        {"metric": "AVAILABILITY", "target": "99.5", "unit": "PERCENT", "penaltySek": "10000"},
        {"metric": "FAULT_FIX", "severity": "CRITICAL", "target": "4", "unit": "HOURS"},
    ]
    set_levels = data(await fed(LEVELS, {"id": contract["id"], "levels": levels}), "setServiceLevels")
    assert [(x["metric"], x["kind"]) for x in set_levels["serviceLevels"]] == [
        ("AVAILABILITY", "SLA"),
        ("FAULT_FIX", "KPI"),
    ]
    wrong = data(
        await fed(LEVELS, {"id": contract["id"], "levels": [{**levels[0], "target": "101"}]}), "setServiceLevels"
    )
    assert wrong["code"] == "VALIDATION_FAILED" and wrong["fields"][0]["field"] == "levels[0].target"

    own, foreign = await locker(db, world.a.id), await locker(db, world.b.id)
    a_admin = await login(server, world.a.admin_email, world.a.slug)
    call_off = {"contractId": contract["id"], "quantity": "4", "valueSek": "120000", "description": "Fyra skåp"}
    placed = data(await a_admin(CALL_OFF, {"input": {**call_off, "lockerIds": [str(own)]}}), "placeCallOff")
    assert placed["ocid"] == f"{p.ocid}-calloff-1" and placed["lockerIds"] == [str(own)]
    foreign_call = data(await a_admin(CALL_OFF, {"input": {**call_off, "lockerIds": [str(foreign)]}}), "placeCallOff")
    assert foreign_call["code"] == "NOT_FOUND"

    b_staff = await login(server, world.b.staff_email, world.b.slug)  # members read the contracts
    listed = data(await b_staff(CONTRACTS), "contracts")
    assert [(c["vendor"], [x["ocid"] for x in c["callOffs"]]) for c in listed] == [
        ("Kylbox Service AB", [placed["ocid"]])
    ]
    assert [c["id"] for c in data(await kylbox(CONTRACTS), "contracts")] == [contract["id"]]
    assert data(await frost(CONTRACTS), "contracts") == []

    other = await make_world(db)
    intruder = await login(server, other.federation_admin_email)
    assert error_code(await intruder(EVALUATION, {"id": p.id})) == "NOT_FOUND"
    assert data(await intruder(CONTRACTS), "contracts") == []
    assert data(await intruder(AWARD, {"id": p.id}), "awardProcurement")["code"] == "NOT_FOUND"


async def test_registering_and_bidding_need_the_right_caller(server: Server, world: World) -> None:
    anonymous = GraphQLClient(server.url)
    assert error_code(await anonymous(MY_BIDS, {"id": None})) == "UNAUTHENTICATED"
    staff = await login(server, world.a.staff_email, world.a.slug)
    assert error_code(await staff(MY_BIDS, {"id": None})) == "PERMISSION_DENIED"
    unknown = data(
        await anonymous(
            REGISTER,
            {
                "input": {
                    "federation": "no-such-federation",
                    "name": "X AB",
                    "orgNumber": org_number(),
                    "contactEmail": "x@y.se",
                    "userName": "X",
                    "password": PASSWORD,
                }
            },
        ),
        "registerVendor",
    )
    assert unknown["code"] == "NOT_FOUND"
