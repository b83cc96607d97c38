"""Setting up a joint procurement through GraphQL on a running ``samverka serve``: three
municipalities record needs, the federation admin sees them side by side, starts a joint
procurement from them, adds lots, requirements and documents and publishes it; a vendor sees it
(without the participants) and asks, and every vendor reads the answer. Every bad input is a
typed error, and another federation sees nothing."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tenants import accounts, provisioning
from tenants.access import Actor, Role
from tenants.database import Database
from tests.conftest import PASSWORD, GraphQLClient, Server, World, login, make_world

ERR = "... on Error { code message } ... on ValidationFailedError { fields { field message } }"
ENABLE = f"""mutation {{ enablePlugin(pluginId: "procurement") {{ __typename {ERR} }} }}"""
RECORD = f"""mutation($input: RecordNeedInput!) {{ recordNeed(input: $input) {{
  __typename ... on ProcurementNeed {{ id status category estimatedValueSek }} {ERR} }} }}"""
WITHDRAW_NEED = (
    f"""mutation($id: ID!) {{ withdrawNeed(id: $id) {{ __typename ... on ProcurementNeed {{ status }} {ERR} }} }}"""
)
NEEDS = "query { procurementNeeds { id status procurementId } }"
FEDERATION_NEEDS = """query($category: String) { federationNeeds(category: $category) {
  category municipalities totalValueSek volumes { unit total } needs { municipality need { id title } } } }"""
PROCUREMENT_FIELDS = """id ocid status procedure estimatedValueSek buyer leadMunicipalityId tenderDeadline
  participants { municipality sharePercent estimatedVolume withdrawnAt }
  lots { id number title } requirements { kind text weight deductionSek lotId }
  documents { title documentType url sha256 } questions { question answer askedByYou }"""
START = f"""mutation($input: StartJointProcurementInput!) {{ startJointProcurement(input: $input) {{
  __typename ... on Procurement {{ {PROCUREMENT_FIELDS} }} {ERR} }} }}"""
ADD_LOT = f"""mutation($input: AddLotInput!) {{ addLot(input: $input) {{
  __typename ... on ProcurementLot {{ id number }} {ERR} }} }}"""
ADD_REQUIREMENT = f"""mutation($input: AddRequirementInput!) {{ addRequirement(input: $input) {{
  __typename ... on ProcurementRequirement {{ id kind }} {ERR} }} }}"""
ADD_DOCUMENT = f"""mutation($input: AddProcurementDocumentInput!) {{ addProcurementDocument(input: $input) {{
  __typename ... on ProcurementDocument {{ id sha256 }} {ERR} }} }}"""
MODEL = f"""mutation($id: ID!, $model: EvaluationModel!, $method: QualityMethod!, $weight: Decimal) {{
  setEvaluationModel(id: $id, model: $model, qualityMethod: $method, priceWeight: $weight) {{
  __typename ... on Procurement {{ id }} {ERR} }} }}"""
PUBLISH = f"""mutation($id: ID!, $deadline: DateTime!, $doc: String) {{
  publishProcurement(id: $id, tenderDeadline: $deadline, documentation: $doc) {{
  __typename ... on ProcurementPublished {{ procurement {{ status procedure }}
    classification {{ procedure explanation thresholds {{ sek threshold {{ kind }} }} minTenderDaysElectronic }} }}
  {ERR} }} }}"""
JOIN = f"""mutation($id: ID!, $volume: Decimal!) {{ joinProcurement(id: $id, estimatedVolume: $volume) {{
  __typename ... on Procurement {{ id }} {ERR} }} }}"""
WITHDRAW = f"""mutation($id: ID!) {{ withdrawFromProcurement(id: $id) {{
  __typename ... on Procurement {{ participants {{ municipality withdrawnAt }} }} {ERR} }} }}"""
LIST = "query($participating: Boolean!) { procurements(participating: $participating) { id status } }"
ONE = f"query($id: ID!) {{ procurement(id: $id) {{ {PROCUREMENT_FIELDS} }} }}"
VENDOR_LIST = """query { vendorProcurements { id title buyer status procedure lots { number } documents { sha256 }
  requirements { kind } questions { question answer askedByYou } } }"""
ASK = f"""mutation($id: ID!, $q: String!) {{ askQuestion(procurementId: $id, question: $q) {{
  __typename ... on ProcurementQuestion {{ id askedByYou }} {ERR} }} }}"""
ANSWER = f"""mutation($id: ID!, $a: String!) {{ answerQuestion(questionId: $id, answer: $a) {{
  __typename ... on ProcurementQuestion {{ answer }} {ERR} }} }}"""
CLASSIFY = """query($v: Decimal!) { procurementClassification(valueSek: $v, contractKind: SERVICES) {
  procedure documentationRequired thresholds { sek exchangeRate { sek } threshold { kind currency } } } }"""
SET_RATE = f"""mutation($input: SetExchangeRateInput!) {{ setExchangeRate(input: $input) {{
  __typename ... on ProcurementExchangeRate {{ sek validFrom }} {ERR} }} }}"""
SYSTEM = Actor.system("test")


@dataclass(frozen=True)
class Members:
    federation: GraphQLClient
    admins: dict[str, GraphQLClient]  # a, b, c
    staff: GraphQLClient


def data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


def error_code(body: dict[str, Any]) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def third_municipality(db: Database, world: World) -> tuple[str, str]:
    tag = uuid.uuid4().hex[:8]
    m = await provisioning.create_municipality(
        db, federation_id=world.federation_id, name=f"Kommun C {tag}", code="1497", slug=f"c-{tag}", actor=SYSTEM
    )
    email = f"admin-c-{tag}@test.example"
    async with db.tenant(m.id) as scope:
        user = await accounts.create_user(
            scope, email=email, name="admin c", password=PASSWORD, federation_id=world.federation_id
        )
        await accounts.grant_membership(scope, user_id=user.id, role=Role.TENANT_ADMIN, actor=SYSTEM)
    return m.slug, email


async def members(server: Server, db: Database, world: World) -> Members:
    c_slug, c_email = await third_municipality(db, world)
    admins = {
        "a": await login(server, world.a.admin_email, world.a.slug),
        "b": await login(server, world.b.admin_email, world.b.slug),
        "c": await login(server, c_email, c_slug),
    }
    for client in admins.values():
        assert data(await client(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    return Members(
        await login(server, world.federation_admin_email),
        admins,
        await login(server, world.a.staff_email, world.a.slug),
    )


async def vendor(server: Server, db: Database, world: World, name: str) -> GraphQLClient:
    """A vendor organisation and its user, made directly (registering vendors is another part)."""
    email = f"{name.lower().replace(' ', '-')}-{uuid.uuid4().hex[:6]}@leverantor.example"
    async with db.shared() as scope:
        user = await accounts.create_user(
            scope, email=email, name=name, password=PASSWORD, federation_id=world.federation_id
        )
    vid = uuid.uuid4()
    async with db.federation(world.federation_id) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
               VALUES ($1, $2, $3, $4, $5)""",
            world.federation_id,
            vid,
            name,
            f"55{random.randrange(10**4):04d}-{random.randrange(10**4):04d}",
            email,
        )
        await scope.connection.execute(
            "INSERT INTO procurement_vendor_member (federation_id, vendor_id, user_id) VALUES ($1, $2, $3)",
            world.federation_id,
            vid,
            user.id,
        )
    return await login(server, email)


def need_input(value: int, **change: Any) -> dict[str, Any]:
    return {
        "category": "Leveransskåp som tjänst",
        "title": "Tempererade skåp vid vårdcentralen",
        "description": "Hemtjänstens matleveranser.",
        "estimatedVolume": "10",
        "volumeUnit": "skåp",
        "estimatedValueSek": str(value),
        "wantedStart": (date.today() + timedelta(days=120)).isoformat(),
        **change,
    }


def deadline(days: float) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def test_a_joint_procurement_from_three_members_needs_is_set_up_published_and_seen_by_vendors(
    server: Server, db: Database, world: World
) -> None:
    m = await members(server, db, world)
    need_ids = []
    for who, value in (("a", 1_200_000), ("b", 800_000), ("c", 500_000)):
        created = data(await m.admins[who](RECORD, {"input": need_input(value)}), "recordNeed")
        assert created["status"] == "OPEN", created
        need_ids.append(created["id"])
    groups = data(await m.federation(FEDERATION_NEEDS, {"category": "leveransskåp som tjänst"}), "federationNeeds")
    assert len(groups) == 1 and groups[0]["municipalities"] == 3
    assert groups[0]["totalValueSek"] == "2500000.00" and groups[0]["volumes"] == [{"unit": "skåp", "total": "30.00"}]

    started = data(
        await m.federation(
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
    assert started["__typename"] == "Procurement", started
    pid = started["id"]
    assert started["status"] == "PLANNING" and started["procedure"] == "OPEN"  # 2.5 MSEK > 216 000 EUR
    assert sorted(p["sharePercent"] for p in started["participants"]) == ["20.00", "32.00", "48.00"]
    assert [n["status"] for n in data(await m.admins["b"](NEEDS), "procurementNeeds")] == ["IN_PROCUREMENT"]

    lot = data(await m.federation(ADD_LOT, {"input": {"procurementId": pid, "title": "Skåp och drift"}}), "addLot")
    assert lot["number"] == 1
    model = {"id": pid, "model": "BEST_PRICE_QUALITY", "method": "WEIGHTED", "weight": "70"}
    assert data(await m.federation(MODEL, model), "setEvaluationModel")["__typename"] == "Procurement"
    for requirement in (
        {"kind": "MANDATORY", "text": "Skåpen håller 2-8 °C."},
        {"kind": "WEIGHTED", "text": "Tillgänglighet över 99,5 %.", "weight": "30", "lotId": lot["id"]},
    ):
        added = data(
            await m.federation(ADD_REQUIREMENT, {"input": {"procurementId": pid, **requirement}}), "addRequirement"
        )
        assert added["__typename"] == "ProcurementRequirement", added
    doc = data(
        await m.federation(
            ADD_DOCUMENT,
            {"input": {"procurementId": pid, "title": "Förfrågningsunderlag", "body": "Krav och villkor."}},
        ),
        "addProcurementDocument",
    )
    assert len(doc["sha256"]) == 64

    too_soon = data(await m.federation(PUBLISH, {"id": pid, "deadline": deadline(20)}), "publishProcurement")
    assert too_soon["code"] == "VALIDATION_FAILED" and too_soon["fields"][0]["field"] == "tenderDeadline"
    published = data(await m.federation(PUBLISH, {"id": pid, "deadline": deadline(31)}), "publishProcurement")
    assert published["procurement"] == {"status": "PUBLISHED", "procedure": "OPEN"}, published
    assert published["classification"]["minTenderDaysElectronic"] == 30
    assert "eu_services" in published["classification"]["explanation"]

    kylbox, frost = await vendor(server, db, world, "Kylbox Service AB"), await vendor(server, db, world, "Frost AB")
    seen = data(await kylbox(VENDOR_LIST), "vendorProcurements")
    assert [p["id"] for p in seen] == [pid] and seen[0]["buyer"] == (await world_name(db, world))
    assert seen[0]["lots"] == [{"number": 1}] and {r["kind"] for r in seen[0]["requirements"]} == {
        "MANDATORY",
        "WEIGHTED",
    }
    vendor_view = await kylbox("query { vendorProcurements { participants { municipality } } }")
    assert vendor_view["errors"]  # vendors have no such field: participants stay internal

    asked = data(await kylbox(ASK, {"id": pid, "q": "Ingår elförsörjningen?"}), "askQuestion")
    assert asked["askedByYou"] is True
    assert data(await frost(VENDOR_LIST), "vendorProcurements")[0]["questions"] == []  # not answered yet
    answered = data(
        await m.federation(ANSWER, {"id": asked["id"], "a": "Nej, kommunen står för el."}), "answerQuestion"
    )
    assert answered["answer"].startswith("Nej")
    assert data(await frost(VENDOR_LIST), "vendorProcurements")[0]["questions"] == [
        {"question": "Ingår elförsörjningen?", "answer": "Nej, kommunen står för el.", "askedByYou": False}
    ]
    mine = data(await m.admins["c"](LIST, {"participating": True}), "procurements")
    assert [p["id"] for p in mine] == [pid]
    assert data(await m.staff(ONE, {"id": pid}), "procurement")["questions"][0]["askedByYou"] is False


async def world_name(db: Database, world: World) -> str:
    async with db.shared() as scope:
        return str(await scope.connection.fetchval("SELECT name FROM federation WHERE id = $1", world.federation_id))


async def planned(m: Members, *values: int) -> tuple[str, list[str]]:
    need_ids = [
        data(await m.admins[who](RECORD, {"input": need_input(v)}), "recordNeed")["id"]
        for who, v in zip("abc", values, strict=False)
    ]
    start = {
        "title": "Leveransskåp",
        "category": "Leveransskåp som tjänst",
        "contractKind": "SERVICES",
        "durationMonths": 24,
        "needIds": need_ids,
    }
    started = data(await m.federation(START, {"input": start}), "startJointProcurement")
    assert started["__typename"] == "Procurement", started
    return started["id"], need_ids


async def test_each_bad_input_is_a_typed_error_that_changes_nothing(server: Server, db: Database, world: World) -> None:
    m = await members(server, db, world)
    a = m.admins["a"]
    bad_need = data(await a(RECORD, {"input": need_input(1000, estimatedValueSek="-1")}), "recordNeed")
    assert bad_need["code"] == "VALIDATION_FAILED" and bad_need["fields"][0]["field"] == "estimatedValueSek"
    assert data(await m.staff(RECORD, {"input": need_input(1000)}), "recordNeed")["code"] == "PERMISSION_DENIED"
    assert data(await a(NEEDS), "procurementNeeds") == []

    pid, need_ids = await planned(m, 300_000, 200_000)
    withdrawn = data(await a(WITHDRAW_NEED, {"id": need_ids[0]}), "withdrawNeed")
    assert withdrawn["code"] == "CONFLICT" and "withdrawFromProcurement" in withdrawn["message"]
    start = {"title": "X", "category": "Leveransskåp som tjänst", "contractKind": "SERVICES", "durationMonths": 12}
    for client, change, code in (
        (a, {"needIds": [need_ids[0]]}, "PERMISSION_DENIED"),  # a municipality admin does not start one
        (m.federation, {"needIds": [str(uuid.uuid4())]}, "NOT_FOUND"),
        (m.federation, {"needIds": ["not-an-id"]}, "NOT_FOUND"),
        (m.federation, {"needIds": [need_ids[0]]}, "CONFLICT"),  # already in a procurement
        (m.federation, {"needIds": [], "durationMonths": 49}, "VALIDATION_FAILED"),
    ):
        result = data(await client(START, {"input": {**start, **change}}), "startJointProcurement")
        assert result["code"] == code, (change, result)

    for change, field in (
        ({"kind": "WEIGHTED", "text": "Kvalitet"}, "weight"),
        ({"kind": "DEDUCTION", "text": "Kvalitet", "deductionSek": "0"}, "deductionSek"),
        ({"kind": "MANDATORY", "text": " "}, "text"),
    ):
        result = data(
            await m.federation(ADD_REQUIREMENT, {"input": {"procurementId": pid, **change}}), "addRequirement"
        )
        assert (result["code"], result["fields"][0]["field"]) == ("VALIDATION_FAILED", field)
    no_sha = {"procurementId": pid, "title": "FFU", "url": "https://kommun.example.se/ffu.pdf"}
    result = data(await m.federation(ADD_DOCUMENT, {"input": no_sha}), "addProcurementDocument")
    assert result["fields"][0]["field"] == "sha256"
    assert (
        data(await m.admins["b"](ADD_LOT, {"input": {"procurementId": pid, "title": "L"}}), "addLot")["code"]
        == "PERMISSION_DENIED"
    )  # only the lead (here the federation) manages
    no_lots = data(await m.federation(PUBLISH, {"id": pid, "deadline": deadline(15), "doc": "x"}), "publishProcurement")
    assert (no_lots["code"], no_lots["fields"][0]["field"]) == ("VALIDATION_FAILED", "lots")
    data(await m.federation(ADD_LOT, {"input": {"procurementId": pid, "title": "Skåp"}}), "addLot")
    undocumented = data(await m.federation(PUBLISH, {"id": pid, "deadline": deadline(15)}), "publishProcurement")
    assert undocumented["fields"][0]["field"] == "documentation"  # 500 000 SEK: a documented direct procurement
    weighted = {"id": pid, "model": "BEST_PRICE_QUALITY", "method": "WEIGHTED", "weight": None}
    assert data(await m.federation(MODEL, weighted), "setEvaluationModel")["fields"][0]["field"] == "priceWeight"
    weighted["weight"] = "80"
    data(await m.federation(MODEL, weighted), "setEvaluationModel")
    unbalanced = data(
        await m.federation(PUBLISH, {"id": pid, "deadline": deadline(15), "doc": "Skäl."}), "publishProcurement"
    )
    assert unbalanced["fields"][0]["field"] == "priceWeight" and "not 100" in unbalanced["message"]
    one = data(await m.federation(ONE, {"id": pid}), "procurement")
    assert one["status"] == "PLANNING" and one["tenderDeadline"] is None and len(one["lots"]) == 1

    joined = data(await m.admins["c"](JOIN, {"id": pid, "volume": "5"}), "joinProcurement")
    assert joined["__typename"] == "Procurement", joined
    left = data(await m.admins["c"](WITHDRAW, {"id": pid}), "withdrawFromProcurement")
    assert [p["withdrawnAt"] is not None for p in left["participants"]] == [False, False, True]
    again = data(await m.admins["c"](WITHDRAW, {"id": pid}), "withdrawFromProcurement")
    assert again["code"] == "CONFLICT"


async def test_vendors_and_other_federations_see_nothing_they_should_not(
    server: Server, db: Database, world: World
) -> None:
    m = await members(server, db, world)
    pid, _ = await planned(m, 300_000)
    v = await vendor(server, db, world, "Nordlås AB")
    assert data(await v(VENDOR_LIST), "vendorProcurements") == []  # a draft is not published
    assert error_code(await v(ONE, {"id": pid})) == "PERMISSION_DENIED"
    assert data(await v(ASK, {"id": pid, "q": "?"}), "askQuestion")["code"] == "NOT_FOUND"
    assert error_code(await m.admins["a"](VENDOR_LIST)) == "PERMISSION_DENIED"
    assert error_code(await GraphQLClient(server.url)(LIST, {"participating": False})) == "UNAUTHENTICATED"

    other = await make_world(db)
    stranger = await login(server, other.a.admin_email, other.a.slug)
    data(await stranger(ENABLE), "enablePlugin")
    assert data(await stranger(LIST, {"participating": False}), "procurements") == []
    assert error_code(await stranger(ONE, {"id": pid})) == "NOT_FOUND"
    assert data(await stranger(JOIN, {"id": pid, "volume": "5"}), "joinProcurement")["code"] == "NOT_FOUND"
    other_admin = await login(server, other.federation_admin_email)
    assert data(await other_admin(FEDERATION_NEEDS, {"category": None}), "federationNeeds") == []
    lot = data(await other_admin(ADD_LOT, {"input": {"procurementId": pid, "title": "L"}}), "addLot")
    assert lot["code"] == "NOT_FOUND"
    not_enabled = await login(server, other.b.admin_email, other.b.slug)
    assert error_code(await not_enabled(LIST, {"participating": False})) == "PLUGIN_NOT_ENABLED"
    assert error_code(await m.admins["a"](FEDERATION_NEEDS, {"category": None})) == "PERMISSION_DENIED"


async def test_the_classification_and_a_new_exchange_rate_through_graphql(
    server: Server, db: Database, world: World
) -> None:
    m = await members(server, db, world)
    c = data(await m.admins["a"](CLASSIFY, {"v": "2376000"}), "procurementClassification")
    assert c["procedure"] == "OPEN" and c["thresholds"][0]["exchangeRate"]["sek"] == "11.000000"
    day = date(2090 + random.randrange(900), 7, 1).isoformat()
    rate = {"validFrom": day, "sek": "11.25", "source": "Kommissionens meddelande"}
    assert data(await m.admins["a"](SET_RATE, {"input": rate}), "setExchangeRate")["code"] == "PERMISSION_DENIED"
    assert data(await m.federation(SET_RATE, {"input": rate}), "setExchangeRate") == {
        "__typename": "ProcurementExchangeRate",
        "sek": "11.250000",
        "validFrom": day,
    }
    assert data(await m.federation(SET_RATE, {"input": rate}), "setExchangeRate")["code"] == "CONFLICT"
    past = {**rate, "validFrom": "2026-01-01"}
    assert data(await m.federation(SET_RATE, {"input": past}), "setExchangeRate")["fields"][0]["field"] == "validFrom"
