"""The deliveries plugin through GraphQL on a running ``samverka serve`` + ``samverka worker``:
integrators with their own tokens book, follow and cancel deliveries; typed errors that change
nothing; isolation between integrators and tenants; the live subscription; the lifecycle from
gateway events (the test plays the gateway on Redis); route planning; savings reports."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import websockets
from redis.asyncio import Redis

from opcua_gateway import contracts
from opcua_gateway.contracts import CodeEntered, CompartmentState, SizeClass, StateChanged, TemperatureClass
from tests.conftest import GraphQLClient, Server, World, login
from tests.e2e.test_lockers_api import LOCKER, SITE, data, eventually, register
from tests.integration.test_lockers_ingest import push

ENABLE = """mutation($config: JSON) { enablePlugin(pluginId: "deliveries", config: $config) {
  __typename ... on Error { code message } } }"""
TOKEN = """mutation($input: CreateApiTokenInput!) { createApiToken(input: $input) {
  __typename ... on ApiTokenCreated { token } ... on Error { code message } } }"""
CREATE = """mutation($input: CreateDeliveryInput!) { createDelivery(input: $input) {
  __typename
  ... on DeliveryCreated { dropOffCode dropOffCodeExpiresAt delivery { id reference status compartmentId siteId
      temperatureClass sizeClass windowStart recipient { kind name phone } } }
  ... on Error { code message } ... on ValidationFailedError { fields { field message } } } }"""
CANCEL = """mutation($id: ID!) { cancelDelivery(id: $id, reason: "order withdrawn") {
  __typename ... on Delivery { id status cancelledAt } ... on Error { code message } } }"""
WINDOW = """mutation($id: ID!, $start: DateTime!, $end: DateTime!) {
  updateDeliveryWindow(id: $id, windowStart: $start, windowEnd: $end) {
  __typename ... on DeliveryWindowChanged { dropOffCode delivery { windowStart compartmentId } }
  ... on Error { code message } } }"""
LIST = """query($status: DeliveryStatus) { deliveries(first: 50, status: $status) { nodes { id reference status } } }"""
ONE = """query($id: ID!) { delivery(id: $id) { id status pickupDeadline droppedOffAt
  coldChain { limitC minC maxC minutesAboveLimit broken }
  transitions { fromStatus toStatus actor }
  notifications { channel topic status } } }"""
ROUTE = """query($day: Date!, $depot: DepotInput!) { deliveryRoute(day: $day, depot: $depot) {
  visits { order siteName parcels legKm cumulativeKm } totalKm method optimal unplacedSiteIds } }"""
SAVINGS = """query($months: [Date!]!) { deliverySavings(months: $months) {
  municipality month deliveries staffHoursSaved minutesPerDelivery } }"""
FEDERATION = """query($months: [Date!]!) { federationDeliverySavings(months: $months) { municipality deliveries } }"""
SUBSCRIBE = "subscription { deliveryUpdates { kind deliveryId reference status } }"
CONFIG = {"cold_chain_allowed_minutes": 10, "minutes_saved_per_delivery": 30}


@dataclass(frozen=True)
class Setup:
    admin: GraphQLClient
    integrator: GraphQLClient
    other: GraphQLClient  # a second integrator of the same municipality
    site_id: str
    endpoint_id: str
    compartments: dict[str, str]


async def integrator(server: Server, admin: GraphQLClient, name: str) -> GraphQLClient:
    created = data(
        await admin(TOKEN, {"input": {"name": name, "scopes": ["deliveries:read", "deliveries:write"]}}),
        "createApiToken",
    )
    assert created["__typename"] == "ApiTokenCreated", created
    return GraphQLClient(server.url, created["token"])


async def setup(server: Server, email: str) -> Setup:
    r = await register(server, email, locker=f"L-{uuid.uuid4().hex[:6]}")  # 1: chilled M, 2: frozen L
    assert data(await r.admin(ENABLE, {"config": CONFIG}), "enablePlugin")["__typename"] == "PluginInfo"
    return Setup(
        r.admin,
        await integrator(server, r.admin, "ICA Hemleverans"),
        await integrator(server, r.admin, "Apoteket Bud"),
        r.site_id,
        r.endpoint_id,
        r.compartments,
    )


def booking(site_id: str, **change: Any) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(hours=1)
    return {
        "reference": f"ORD-{uuid.uuid4().hex[:8]}",
        "siteId": site_id,
        "temperatureClass": "CHILLED",
        "sizeClass": "S",
        "recipient": {"kind": "STAFF_UNIT", "name": "Hemtjänst Norr", "phone": "+46701234567"},
        "windowStart": start.isoformat(),
        "windowEnd": (start + timedelta(hours=3)).isoformat(),
        **change,
    }


async def book(client: GraphQLClient, site_id: str, **change: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(await client(CREATE, {"input": booking(site_id, **change)}), "createDelivery")
    return result


@pytest.fixture
async def redis(server: Server) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.settings.redis_url or "")
    yield client
    await client.aclose()


async def test_an_integrator_books_follows_moves_and_cancels_its_own_deliveries(server: Server, world: World) -> None:
    s = await setup(server, world.a.admin_email)
    created = await book(s.integrator, s.site_id)
    assert created["__typename"] == "DeliveryCreated", created
    delivery = created["delivery"]
    assert delivery["status"] == "RESERVED" and delivery["compartmentId"] == s.compartments["1"]  # S fits in M
    assert len(created["dropOffCode"]) == 6 and created["dropOffCode"].isdigit()
    assert delivery["recipient"] == {"kind": "STAFF_UNIT", "name": "Hemtjänst Norr", "phone": "+46701234567"}

    mine = data(await s.integrator(LIST), "deliveries")["nodes"]
    assert [d["id"] for d in mine] == [delivery["id"]]
    assert data(await s.other(LIST), "deliveries")["nodes"] == []  # another integrator sees nothing of it
    hidden = await s.other(ONE, {"id": delivery["id"]})
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"  # type: ignore[index]
    assert data(await s.other(CANCEL, {"id": delivery["id"]}), "cancelDelivery")["code"] == "NOT_FOUND"
    assert delivery["id"] in [d["id"] for d in data(await s.admin(LIST), "deliveries")["nodes"]]  # staff see all

    later = datetime.now(UTC) + timedelta(days=2)
    moved = data(
        await s.integrator(
            WINDOW, {"id": delivery["id"], "start": later.isoformat(), "end": (later + timedelta(hours=2)).isoformat()}
        ),
        "updateDeliveryWindow",
    )
    assert moved["__typename"] == "DeliveryWindowChanged" and moved["dropOffCode"] is None  # same locker, same code
    cancelled = data(await s.integrator(CANCEL, {"id": delivery["id"]}), "cancelDelivery")
    assert cancelled["status"] == "CANCELLED" and cancelled["cancelledAt"]
    again = data(await s.integrator(CANCEL, {"id": delivery["id"]}), "cancelDelivery")
    assert again["code"] == "CONFLICT"
    one = data(await s.integrator(ONE, {"id": delivery["id"]}), "delivery")
    assert [t["toStatus"] for t in one["transitions"]] == ["RESERVED", "CANCELLED"]
    assert one["transitions"][1]["actor"].startswith("ICA Hemleverans") or one["transitions"][1]["actor"]


@pytest.mark.parametrize(
    ("change", "code", "words"),
    [
        ({"siteId": str(uuid.uuid4())}, "NOT_FOUND", "Site"),
        ({"temperatureClass": "AMBIENT"}, "VALIDATION_FAILED", "no ambient"),
        ({"sizeClass": "XL"}, "VALIDATION_FAILED", "Oversize"),
        (
            {"windowStart": "2020-01-01T08:00:00+01:00", "windowEnd": "2020-01-01T10:00:00+01:00"},
            "VALIDATION_FAILED",
            "past",
        ),
        ({"recipient": {"kind": "CITIZEN", "name": "Anna"}}, "VALIDATION_FAILED", "phone number or an e-mail"),
    ],
)
async def test_bad_bookings_get_typed_errors_and_book_nothing(
    server: Server, world: World, change: dict[str, Any], code: str, words: str
) -> None:
    s = await setup(server, world.a.admin_email)
    answer = await book(s.integrator, s.site_id, **change)
    assert answer["code"] == code and words in answer["message"], answer
    assert data(await s.integrator(LIST), "deliveries")["nodes"] == []


async def test_a_full_locker_and_a_reused_reference_are_conflicts(server: Server, world: World) -> None:
    s = await setup(server, world.a.admin_email)
    first = await book(s.integrator, s.site_id, temperatureClass="FROZEN", sizeClass="L", reference="ORD-F1")
    assert first["__typename"] == "DeliveryCreated"
    full = await book(s.integrator, s.site_id, temperatureClass="FROZEN", sizeClass="L")
    assert full["code"] == "CONFLICT" and "Choose another window or site" in full["message"]
    reused = await book(s.integrator, s.site_id, reference="ORD-F1")
    assert reused["code"] == "CONFLICT" and "ORD-F1" in reused["message"]


async def test_tokens_of_other_tenants_or_without_the_scope_cannot_book(server: Server, world: World, db: Any) -> None:
    s = await setup(server, world.a.admin_email)
    b_admin = await login(server, world.b.admin_email)
    outsider = await integrator(server, b_admin, "Annan kommun")
    answer = await book(outsider, s.site_id)
    assert answer["code"] in {"PLUGIN_NOT_ENABLED", "NOT_FOUND"}, answer
    reader = GraphQLClient(
        server.url,
        data(await s.admin(TOKEN, {"input": {"name": "läsare", "scopes": ["deliveries:read"]}}), "createApiToken")[
            "token"
        ],
    )
    assert (await book(reader, s.site_id))["code"] == "PERMISSION_DENIED"


async def test_a_delivery_is_dropped_off_from_gateway_events_and_its_integrator_hears_it_live(
    server: Server, world: World, redis: Redis
) -> None:
    s = await setup(server, world.a.admin_email)
    ws_url = server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {s.integrator.token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await asyncio.sleep(0.5)
        foreign = await book(s.other, s.site_id, temperatureClass="FROZEN", sizeClass="S")  # not ours: not heard
        created = await book(s.integrator, s.site_id)
        assert foreign["__typename"] == created["__typename"] == "DeliveryCreated"
        delivery_id = created["delivery"]["id"]
        locker = (await s.admin("{ lockers { vendorLockerId } }"))["data"]["lockers"][0]["vendorLockerId"]  # type: ignore[index]
        seq = iter(range(1, 100))

        def base(compartment: str | None) -> dict[str, Any]:
            return {
                "event_id": uuid.uuid4().hex,
                "endpoint_id": s.endpoint_id,
                "locker": locker,
                "compartment": compartment,
                "seq": next(seq),
                "at": datetime.now(UTC),
            }

        def door(open_: bool, occupied: bool) -> StateChanged:
            state = CompartmentState(
                compartment="1",
                temperature_class=TemperatureClass.CHILLED,
                size_class=SizeClass.M,
                door_open=open_,
                locked=not open_,
                occupied=occupied,
                temperature_c=4.0,
            )
            return StateChanged(**base("1"), state=state, changed=("door_open", "occupied"))

        await push(redis, contracts.EVENTS_STREAM, [CodeEntered(**base(None), code=created["dropOffCode"])])

        async def unlock_sent() -> Any:
            return await redis.xlen(contracts.commands_stream(s.endpoint_id))

        assert await eventually(unlock_sent)
        await push(redis, contracts.EVENTS_STREAM, [door(True, False)])
        await push(redis, contracts.EVENTS_STREAM, [door(False, True)])

        async def notified() -> Any:
            one = data(await s.integrator(ONE, {"id": delivery_id}), "delivery")
            return one if one["status"] == "PICKUP_CODE_SENT" else None

        one = await eventually(notified)
        assert one, data(await s.integrator(ONE, {"id": delivery_id}), "delivery")
        heard = []
        while len(heard) < 4:
            message = json.loads(await asyncio.wait_for(ws.recv(), 15))
            heard.append(message["payload"]["data"]["deliveryUpdates"])
    assert {h["deliveryId"] for h in heard} == {delivery_id}  # only its own
    assert [h["kind"] for h in heard] == ["created", "code_accepted", "status", "status"]
    assert [h["status"] for h in heard][-2:] == ["DROPPED_OFF", "PICKUP_CODE_SENT"]
    assert [t["toStatus"] for t in one["transitions"]] == ["RESERVED", "DROPPED_OFF", "PICKUP_CODE_SENT"]
    assert one["coldChain"]["limitC"] == 8.0 and one["coldChain"]["broken"] is False
    assert "sms" in {n["channel"].lower() for n in one["notifications"]}

    month = date.today().replace(day=1).isoformat()
    [saved] = data(await s.admin(SAVINGS, {"months": [month]}), "deliverySavings")
    assert saved["deliveries"] >= 1 and saved["staffHoursSaved"] == round(saved["deliveries"] * 30 / 60, 2)
    federation = await login(server, world.federation_admin_email)
    rows = data(await federation(FEDERATION, {"months": [month]}), "federationDeliverySavings")
    assert any(r["deliveries"] >= 1 for r in rows)
    denied = await s.admin(FEDERATION, {"months": [month]})
    assert denied["errors"][0]["extensions"]["code"] == "PERMISSION_DENIED"  # type: ignore[index]


async def test_the_route_of_a_day_visits_each_site_once_in_the_shortest_order(server: Server, world: World) -> None:
    s = await setup(server, world.a.admin_email)
    depot = {"latitude": 58.5035, "longitude": 13.1577}  # Lidköping
    places = {"Skara": (58.3862, 13.4383), "Götene": (58.5280, 13.4939), "Vara": (58.2617, 12.9560)}
    tomorrow = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
    window = {"windowStart": tomorrow.isoformat(), "windowEnd": (tomorrow + timedelta(hours=2)).isoformat()}
    sites = {"origin": s.site_id}
    for name, (lat, lon) in places.items():
        site = data(
            await s.admin(
                SITE, {"input": {"name": f"{name} {uuid.uuid4().hex[:4]}", "latitude": lat, "longitude": lon}}
            ),
            "registerSite",
        )
        locker = data(
            await s.admin(
                LOCKER,
                {
                    "input": {
                        "siteId": site["id"],
                        "endpointId": s.endpoint_id,
                        "vendorLockerId": f"R-{uuid.uuid4().hex[:6]}",
                        "name": name,
                        "compartments": [{"key": "1", "temperatureClass": "CHILLED", "sizeClass": "M"}],
                    }
                },
            ),
            "registerLocker",
        )
        assert locker["__typename"] == "LockerRegistered", locker
        sites[name] = site["id"]
    for site_id in sites.values():
        assert (await book(s.integrator, site_id, **window))["__typename"] == "DeliveryCreated"
    await book(s.other, sites["Skara"], **window)  # another integrator's: not on this route
    plan = data(await s.integrator(ROUTE, {"day": tomorrow.date().isoformat(), "depot": depot}), "deliveryRoute")
    visits = plan["visits"]
    assert sorted(v["siteName"].split(" ")[0] for v in visits) == sorted(["Vårdcentralen", *places])
    assert [v["order"] for v in visits] == [1, 2, 3, 4] and all(v["parcels"] == 1 for v in visits)
    assert plan["method"] == "exact" and plan["optimal"] is True and plan["unplacedSiteIds"] == []
    assert visits[-1]["cumulativeKm"] < plan["totalKm"]  # and back to the depot
    bad = await s.integrator(ROUTE, {"day": tomorrow.date().isoformat(), "depot": {"latitude": 123, "longitude": 0}})
    assert bad["errors"][0]["extensions"]["code"] == "VALIDATION_FAILED"  # type: ignore[index]


pytestmark = pytest.mark.usefixtures("server")
