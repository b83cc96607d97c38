"""The lockers plugin end to end: GraphQL on a running ``samverka serve``, with ``samverka worker``
ingesting what the test pushes onto the gateway's Redis streams (the test plays the gateway)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from redis.asyncio import Redis

from opcua_gateway import contracts
from opcua_gateway.contracts import Connectivity, UnlockCompartment
from tests.conftest import GraphQLClient, Server, World, login
from tests.integration.test_lockers_ingest import health, opened, push, state, telemetry

ENABLE = """mutation($config: JSON) { enablePlugin(pluginId: "lockers", config: $config) {
  __typename ... on Error { code message } } }"""
SITE = """mutation($input: RegisterSiteInput!) { registerSite(input: $input) {
  __typename ... on Site { id name latitude } ... on Error { code message }
  ... on ValidationFailedError { fields { field message } } } }"""
ENDPOINT = """mutation($input: RegisterEndpointInput!) { registerEndpoint(input: $input) {
  __typename ... on LockerEndpoint { id name vendor } ... on Error { code message }
  ... on ValidationFailedError { fields { field message } } } }"""
LOCKER = """mutation($input: RegisterLockerInput!) { registerLocker(input: $input) {
  __typename ... on LockerRegistered { locker { id name } compartments { id key temperatureClass } }
  ... on Error { code message } ... on ValidationFailedError { fields { field message } } } }"""
COMPARTMENTS = """query($id: ID!) { compartments(lockerId: $id) { id key status doorOpen locked temperatureC
  temperatureAt health { connectivity } openAlarms { id kind severity active open acknowledgedBy } } }"""
LOCKERS = """query($site: ID) { lockers(siteId: $site) { id name openAlarmCount health { connectivity lastSeen } } }"""
HISTORY = """query($id: ID!, $since: DateTime!, $until: DateTime!) {
  temperatureHistory(compartmentId: $id, since: $since, until: $until) { at temperatureC } }"""
ACK = """mutation($id: ID!) { acknowledgeAlarm(alarmId: $id) {
  __typename ... on LockerAlarm { id acknowledgedAt acknowledgedBy open } ... on Error { code message } } }"""
OPEN = """mutation($id: ID!) { openCompartment(compartmentId: $id) {
  __typename ... on CompartmentOpened { requestId confirmedAt compartment { key } }
  ... on CommandFailed { requestId reason message } ... on Error { code message } } }"""
AUDIT = """query($action: String) { auditLog(first: 50, action: $action) { nodes { action actorLabel details } } }"""
SUBSCRIBE = "subscription($id: ID) { lockerEvents(lockerId: $id) { kind compartmentKey lockerId data } }"
CONFIG = {"door_ajar_limit_s": 60, "temperature_excursion_limit_s": 60, "open_timeout_s": 5}


def data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


def codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


@dataclass(frozen=True)
class Registered:
    admin: GraphQLClient
    site_id: str
    endpoint_id: str
    locker_id: str
    compartments: dict[str, str]


async def register(
    server: Server, email: str, config: dict[str, Any] | None = None, *, locker: str = "L1"
) -> Registered:
    admin = await login(server, email)
    assert data(await admin(ENABLE, {"config": config or CONFIG}), "enablePlugin")["__typename"] == "PluginInfo"
    site = data(
        await admin(
            SITE, {"input": {"name": "Vårdcentralen", "address": "Storgatan 1", "latitude": 58.38, "longitude": 13.85}}
        ),
        "registerSite",
    )
    endpoint = data(
        await admin(ENDPOINT, {"input": {"name": "kylbox-1", "vendor": "kylbox", "url": "opc.tcp://127.0.0.1:4841"}}),
        "registerEndpoint",
    )
    locker = data(
        await admin(
            LOCKER,
            {
                "input": {
                    "siteId": site["id"],
                    "endpointId": endpoint["id"],
                    "vendorLockerId": locker,
                    "name": "Skåp 1",
                    "compartments": [
                        {"key": "1", "temperatureClass": "CHILLED", "sizeClass": "M"},
                        {"key": "2", "temperatureClass": "FROZEN", "sizeClass": "L"},
                    ],
                }
            },
        ),
        "registerLocker",
    )
    assert locker["__typename"] == "LockerRegistered", locker
    return Registered(
        admin, site["id"], endpoint["id"], locker["locker"]["id"], {c["key"]: c["id"] for c in locker["compartments"]}
    )


@pytest.fixture
async def redis(server: Server) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.settings.redis_url or "")
    yield client
    await client.aclose()


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 20) -> Any:
    """Poll until ``check`` returns something truthy (the worker ingests asynchronously)."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def compartments(admin: GraphQLClient, locker_id: str) -> dict[str, Any]:
    return {c["key"]: c for c in data(await admin(COMPARTMENTS, {"id": locker_id}), "compartments")}


async def test_an_admin_registers_a_locker_sees_state_alarms_and_history_and_acknowledges_an_alarm(
    server: Server, world: World, redis: Redis
) -> None:
    r = await register(server, world.a.admin_email)
    assert r.endpoint_id == f"{world.a.id.hex}.kylbox-1"
    now = datetime.now(UTC)
    await push(
        redis,
        contracts.EVENTS_STREAM,
        [
            health(r.endpoint_id, 1, Connectivity.ONLINE),
            state(r.endpoint_id, 1, door_open=False, temperature_c=5.0, at=now - timedelta(minutes=5)),
            *[telemetry(r.endpoint_id, 2 + i, 6.0 + i, at=now - timedelta(minutes=4 - i)) for i in range(4)],  # to 9 °C
        ],
    )

    async def warm() -> Any:
        c = (await compartments(r.admin, r.locker_id))["1"]
        return c if c["temperatureC"] == 9.0 and c["openAlarms"] else None

    c1 = await eventually(warm)
    assert c1, await compartments(r.admin, r.locker_id)
    assert (c1["status"], c1["doorOpen"], c1["locked"], c1["health"]["connectivity"]) == ("FREE", False, True, "ONLINE")
    [alarm] = c1["openAlarms"]
    assert (alarm["kind"], alarm["severity"], alarm["active"]) == ("TEMPERATURE_HIGH", "CRITICAL", True)
    [locker] = data(await r.admin(LOCKERS, {"site": r.site_id}), "lockers")
    assert locker["openAlarmCount"] == 1 and locker["health"]["connectivity"] == "ONLINE"
    history = data(
        await r.admin(
            HISTORY,
            {"id": r.compartments["1"], "since": (now - timedelta(hours=1)).isoformat(), "until": now.isoformat()},
        ),
        "temperatureHistory",
    )
    assert [h["temperatureC"] for h in history] == [6.0, 7.0, 8.0, 9.0]

    acked = data(await r.admin(ACK, {"id": alarm["id"]}), "acknowledgeAlarm")
    assert acked["acknowledgedAt"] and acked["open"] is True  # acknowledged, but still active
    await push(redis, contracts.EVENTS_STREAM, [telemetry(r.endpoint_id, 10, 4.0)])

    async def cooled() -> Any:
        return not (await compartments(r.admin, r.locker_id))["1"]["openAlarms"]

    assert await eventually(cooled)  # cleared and acknowledged: no longer open
    actions = {n["action"] for n in data(await r.admin(AUDIT, {"action": None}), "auditLog")["nodes"]}
    assert {
        "lockers.site_registered",
        "lockers.endpoint_registered",
        "lockers.locker_registered",
        "lockers.alarm_acknowledged",
    } <= actions


async def test_bad_registration_input_is_refused_field_by_field_and_nothing_is_saved(
    server: Server, world: World
) -> None:
    r = await register(server, world.a.admin_email)
    site = data(await r.admin(SITE, {"input": {"name": " ", "latitude": 100, "longitude": 13}}), "registerSite")
    assert site["__typename"] == "ValidationFailedError"
    assert {f["field"] for f in site["fields"]} == {"name", "latitude"}
    endpoint = data(
        await r.admin(ENDPOINT, {"input": {"name": "Kyl Box", "vendor": "kylbox", "url": "http://x"}}),
        "registerEndpoint",
    )
    assert {f["field"] for f in endpoint["fields"]} == {"name", "url"}
    locker = data(
        await r.admin(
            LOCKER,
            {
                "input": {
                    "siteId": str(uuid.uuid4()),
                    "endpointId": f"{world.b.id.hex}.kylbox-1",
                    "vendorLockerId": "L2",
                    "name": "",
                    "compartments": [
                        {"key": "1", "temperatureClass": "CHILLED", "sizeClass": "M"},
                        {"key": "1", "temperatureClass": "FROZEN", "sizeClass": "S"},
                    ],
                }
            },
        ),
        "registerLocker",
    )
    assert {f["field"] for f in locker["fields"]} == {"name", "siteId", "endpointId", "compartments[1].key"}
    assert [s["name"] for s in data(await r.admin("{ sites { name } }"), "sites")] == ["Vårdcentralen"]
    assert len(data(await r.admin(LOCKERS, {"site": None}), "lockers")) == 1


async def _play_gateway(redis: Redis, endpoint_id: str, outcome: str = "confirmed") -> UnlockCompartment:
    """Take the command off the endpoint's stream, open the door, and report back."""
    stream = contracts.commands_stream(endpoint_id)
    [[_, [(_, fields)]]] = await redis.xread({stream: "0"}, count=1, block=15_000)
    command = contracts.decode_command(fields[b"m"])
    assert isinstance(command, UnlockCompartment)
    if outcome == "confirmed":
        await push(
            redis,
            contracts.EVENTS_STREAM,
            [
                opened(
                    endpoint_id,
                    50,
                    by=f"command:{command.requested_by}",
                    request_id=command.request_id,
                    compartment=command.compartment,
                )
            ],
        )
    await push(
        redis,
        contracts.RESULTS_STREAM,
        [
            contracts.CommandResult(
                request_id=command.request_id,
                endpoint_id=endpoint_id,
                outcome=outcome,  # type: ignore[arg-type]
                detail="" if outcome == "confirmed" else "locked out",
                at=datetime.now(UTC),
            )
        ],
    )
    return command


async def test_open_compartment_returns_once_the_gateway_confirms_and_the_opening_is_audited(
    server: Server, world: World, redis: Redis
) -> None:
    r = await register(server, world.a.admin_email)
    staff = await login(server, world.a.staff_email)
    gateway = asyncio.create_task(_play_gateway(redis, r.endpoint_id))
    answer = data(await staff(OPEN, {"id": r.compartments["2"]}), "openCompartment")
    command = await gateway
    assert answer["__typename"] == "CompartmentOpened", answer
    assert answer["requestId"] == command.request_id and answer["compartment"]["key"] == "2"
    assert (command.locker, command.compartment, command.timeout_s) == ("L1", "2", 5.0)

    async def audited() -> Any:
        return [n for n in data(await r.admin(AUDIT, {"action": "lockers.opened"}), "auditLog")["nodes"]]

    [entry] = await eventually(audited)
    assert entry["actorLabel"] == command.requested_by and entry["details"]["request_id"] == command.request_id
    requested = data(await r.admin(AUDIT, {"action": "lockers.open_requested"}), "auditLog")["nodes"]
    assert len(requested) == 1


async def test_open_compartment_reports_a_refusal_and_a_timeout_as_command_failed(
    server: Server, world: World, redis: Redis
) -> None:
    r = await register(server, world.a.admin_email, {**CONFIG, "open_timeout_s": 1})
    gateway = asyncio.create_task(_play_gateway(redis, r.endpoint_id, outcome="rejected"))
    refused = data(await r.admin(OPEN, {"id": r.compartments["1"]}), "openCompartment")
    await gateway
    assert (refused["__typename"], refused["reason"], refused["message"]) == ("CommandFailed", "REJECTED", "locked out")
    stream = contracts.commands_stream(r.endpoint_id)
    await redis.delete(stream)
    began = time.monotonic()
    silent = data(await r.admin(OPEN, {"id": r.compartments["1"]}), "openCompartment")
    assert (silent["__typename"], silent["reason"]) == ("CommandFailed", "TIMEOUT")
    assert time.monotonic() - began < 6
    assert await redis.xlen(stream) == 0  # withdrawn: a gateway coming back later never runs it
    timed_out = data(await r.admin(AUDIT, {"action": "lockers.open_timed_out"}), "auditLog")["nodes"]
    assert len(timed_out) == 1


async def test_the_lockers_api_answers_plugin_not_enabled_where_it_is_not_enabled(server: Server, world: World) -> None:
    a = await register(server, world.a.admin_email)
    admin_b = await login(server, world.b.admin_email)
    assert codes(await admin_b("{ sites { id } }")) == ["PLUGIN_NOT_ENABLED"]
    answer = data(await admin_b(OPEN, {"id": a.compartments["1"]}), "openCompartment")
    assert answer["__typename"] == "PluginNotEnabledError"


async def test_another_municipality_cannot_see_or_open_a_lockers_compartments(server: Server, world: World) -> None:
    a = await register(server, world.a.admin_email)
    b = await register(server, world.b.admin_email)
    assert codes(await b.admin(COMPARTMENTS, {"id": a.locker_id})) == ["NOT_FOUND"]
    assert data(await b.admin(OPEN, {"id": a.compartments["1"]}), "openCompartment")["code"] == "NOT_FOUND"
    assert [x["id"] for x in data(await b.admin(LOCKERS, {"site": None}), "lockers")] == [b.locker_id]


async def test_roles_and_token_scopes_decide_who_may_read_open_and_register(server: Server, world: World) -> None:
    r = await register(server, world.a.admin_email)
    staff = await login(server, world.a.staff_email)
    assert data(await staff(SITE, {"input": {"name": "Annat"}}), "registerSite")["code"] == "PERMISSION_DENIED"
    assert len(data(await staff("{ sites { id } }"), "sites")) == 1
    created = data(
        await r.admin("""mutation { createApiToken(input: {name: "Skåpsvy", scopes: ["lockers:read"]}) {
        __typename ... on ApiTokenCreated { token } } }"""),
        "createApiToken",
    )
    reader = GraphQLClient(server.url, created["token"])
    assert len(data(await reader("{ sites { id } }"), "sites")) == 1
    assert data(await reader(OPEN, {"id": r.compartments["1"]}), "openCompartment")["code"] == "PERMISSION_DENIED"


async def test_a_locker_event_subscription_hears_what_the_gateway_reports(
    server: Server, world: World, redis: Redis
) -> None:
    r = await register(server, world.a.admin_email)
    ws_url = server.url.replace("http", "ws") + "/graphql"
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {r.admin.token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {
                        "query": SUBSCRIBE,
                        "variables": {"id": r.locker_id},
                    },
                }
            )
        )
        await asyncio.sleep(0.5)  # let the server subscribe to the channel
        await push(redis, contracts.EVENTS_STREAM, [state(r.endpoint_id, 1, door_open=True)])
        heard = json.loads(await asyncio.wait_for(ws.recv(), 15))
    event = heard["payload"]["data"]["lockerEvents"]
    assert (event["kind"], event["compartmentKey"], event["lockerId"]) == ("state", "1", r.locker_id)
    assert event["data"]["state"]["door_open"] is True


pytestmark = pytest.mark.usefixtures("server")
