"""The vendor simulators of docs/design/lockers.md, tested as the gateway will meet them: real
servers on free ports with an asyncua ``Client`` as the peer (asyncua's own test style).

Simulated time runs 10-20x faster than the wall clock here (``PhysicsParams.time_scale``), so
"the door stays open for 6 s" takes 0.6 s of test time.
"""

from __future__ import annotations

import asyncio
import inspect
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from asyncua import Client, ua
from asyncua.common.node import Node
from asyncua.crypto.security_policies import SecurityPolicyBasic256Sha256

from opcua_gateway.contracts import TemperatureClass
from opcua_gateway.simulators import (
    PhysicsParams,
    Simulator,
    SimulatorSpec,
    create_simulator,
    free_port,
    run_simulators,
)
from opcua_gateway.simulators.alarms import TemperatureAlarmWatch
from opcua_gateway.simulators.cli import DEFAULT_PKI, parse_args
from opcua_gateway.simulators.layout import class_mix, default_bank
from opcua_gateway.simulators.security import CertificateFiles, ensure_certificate

FAST = PhysicsParams(time_scale=10.0)
TICK = 0.05
NORDLAS_PASSWORD = "test-secret"
KB, FL, NL = "urn:samverka:sim:kylbox", "urn:samverka:sim:frostlogik", "urn:samverka:sim:nordlas"
DOOR = "ns=2;s=Nordlas/Sites/Centrum/Cabinets/C01/Doors/{n}/{var}"
ROOT = Path(__file__).resolve().parents[2]


async def eventually(check: Callable[[], bool | Awaitable[bool]], within: float = 3.0) -> None:
    """Wait until ``check`` holds (the simulators change state on their tick)."""
    deadline = time.monotonic() + within
    while True:
        result = check()
        if await result if inspect.isawaitable(result) else result:
            return
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


@pytest.fixture(scope="module")
async def kylbox() -> AsyncIterator[Simulator]:
    async with create_simulator(SimulatorSpec("kylbox", lockers=2, compartments=4, tick_s=TICK, physics=FAST)) as sim:
        yield sim


@pytest.fixture(scope="module")
async def frostlogik() -> AsyncIterator[Simulator]:
    async with create_simulator(SimulatorSpec("frostlogik", compartments=4, seed=7, tick_s=TICK, physics=FAST)) as sim:
        yield sim


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pki")


@pytest.fixture(scope="module")
async def nordlas(pki: Path) -> AsyncIterator[Simulator]:
    spec = SimulatorSpec(
        "nordlas", compartments=4, pki_dir=pki, tick_s=TICK, physics=PhysicsParams(time_scale=20.0),
        password=NORDLAS_PASSWORD,
    )  # fmt: skip
    async with create_simulator(spec) as sim:
        yield sim


@pytest.fixture(scope="module")
def client_cert(pki: Path) -> CertificateFiles:
    return ensure_certificate(pki / "client", application_uri="urn:samverka:test:client", common_name="t", server=False)


async def secure_client(sim: Simulator, cert: CertificateFiles, user: str | None, password: str | None) -> Client:
    """A Basic256Sha256 SignAndEncrypt client that trusts the simulator's certificate file."""
    assert sim.certificate_path is not None and sim.certificate_path.is_file()
    client = Client(sim.url, timeout=3)
    client.application_uri = "urn:samverka:test:client"
    await client.set_security(
        SecurityPolicyBasic256Sha256, str(cert.certificate), str(cert.private_key),
        server_certificate=str(sim.certificate_path), mode=ua.MessageSecurityMode.SignAndEncrypt,
    )  # fmt: skip
    if user is not None:
        client.set_user(user)
        client.set_password(password or "")
    return client


@pytest.fixture
async def nordlas_client(nordlas: Simulator, client_cert: CertificateFiles) -> AsyncIterator[Client]:
    client = await secure_client(nordlas, client_cert, "gateway", NORDLAS_PASSWORD)
    async with client:
        yield client


async def kylbox_compartment(client: Client, locker: str, number: int) -> Node:
    ns = await client.get_namespace_index(KB)
    path = ["Kylbox", "Lockers", locker, f"Compartment{number:02d}"]
    return await client.nodes.objects.get_child([f"{ns}:{name}" for name in path])


async def child_value(node: Node, name: str) -> Any:
    return await (await node.get_child(f"{node.nodeid.NamespaceIndex}:{name}")).read_value()


async def frostlogik_array(client: Client, name: str) -> list[Any]:
    ns = await client.get_namespace_index(FL)
    value: list[Any] = await (
        await client.nodes.objects.get_child([f"{ns}:FL_Controller", f"{ns}:{name}"])
    ).read_value()
    return value


async def execute(client: Client, code: int, argument: str) -> int:
    ns = await client.get_namespace_index(FL)
    controller = await client.nodes.objects.get_child(f"{ns}:FL_Controller")
    result = await controller.call_method(f"{ns}:ExecuteCommand", ua.Variant(code, ua.VariantType.Int32), argument)
    return int(result)


# The vendor-neutral core, without I/O ------------------------------------------------------


def test_default_lockers_mix_chilled_frozen_and_ambient_compartments_and_repeat_for_a_seed() -> None:
    assert (
        class_mix(8) == [TemperatureClass.CHILLED] * 4 + [TemperatureClass.FROZEN] * 2 + [TemperatureClass.AMBIENT] * 2
    )
    first, again = default_bank(["A", "B"], 8, seed=3), default_bank(["A", "B"], 8, seed=3)
    assert [(c.size, c.temperature_c) for _, c in first.all_compartments()] == [
        (c.size, c.temperature_c) for _, c in again.all_compartments()
    ]
    assert len({c.size for _, c in default_bank(["A"], 12, seed=1).all_compartments()}) > 1


def test_an_open_door_lets_a_frozen_compartment_leave_its_band_and_the_alarm_waits_five_seconds() -> None:
    bank = default_bank(["A"], 4, seed=0, physics=PhysicsParams(noise_c=0.0))
    watch = TemperatureAlarmWatch(delay_s=5.0)
    bank.open_door(3, by="code:1")  # compartment 3 of 4 is frozen, at about -20 °C
    transitions = []
    for _ in range(30):  # 15 simulated seconds: warms at 0.3 °C/s, past -18 °C after about 7 s
        bank.step(0.5)
        transitions += watch.update(bank)
    assert bank.compartment(3).temperature_c > -18.0
    assert [t.active for t in transitions] == [True]
    bank.close_door(3, occupied=True)
    for _ in range(200):
        bank.step(0.5)
        transitions += watch.update(bank)
    assert [t.active for t in transitions] == [True, False]
    assert bank.compartment(3).locked and bank.compartment(3).occupied
    assert bank.audit[0].by == "code:1"


# Address spaces as designed -----------------------------------------------------------------


async def test_kylbox_has_an_object_per_compartment_with_its_variables_and_methods(kylbox: Simulator) -> None:
    async with Client(kylbox.url) as client:
        ns = await client.get_namespace_index(KB)
        assert ns == 2
        lockers = await client.nodes.objects.get_child([f"{ns}:Kylbox", f"{ns}:Lockers"])
        assert sorted([(await n.read_browse_name()).Name for n in await lockers.get_children()]) == [
            "KB-0001",
            "KB-0002",
        ]
        comp = await kylbox_compartment(client, "KB-0002", 3)
        assert isinstance(comp.nodeid.Identifier, int)
        names = {(await n.read_browse_name()).Name for n in await comp.get_children()}
        expected = {"DoorOpen", "Locked", "Occupied", "Temperature", "Setpoint", "TemperatureClass", "Size"}
        assert names == expected | {"Unlock", "SetSetpoint"}
        assert await child_value(comp, "TemperatureClass") == "frozen"
        assert await child_value(comp, "Size") in {"S", "M", "L", "XL"}
        temperature = await comp.get_child(f"{ns}:Temperature")
        assert await temperature.read_data_type_as_variant_type() == ua.VariantType.Double
        assert -21.0 < await temperature.read_value() < -19.0
        assert (await child_value(comp, "DoorOpen"), await child_value(comp, "Locked")) == (False, True)


async def test_frostlogik_has_arrays_indexed_by_compartment_and_one_command_method(frostlogik: Simulator) -> None:
    async with Client(frostlogik.url) as client:
        ns = await client.get_namespace_index(FL)
        controller = await client.nodes.objects.get_child(f"{ns}:FL_Controller")
        assert (await child_value(controller, "CabinetId")).startswith("FL-")
        assert await frostlogik_array(client, "Classes") == ["C", "C", "F", "A"]
        assert await frostlogik_array(client, "DoorStates") == [0, 0, 0, 0]
        assert await frostlogik_array(client, "LockStates") == [True] * 4
        assert len(await frostlogik_array(client, "Sizes")) == 4
        tenths = await frostlogik_array(client, "TempTenths")
        assert 30 <= tenths[0] <= 50 and -210 <= tenths[2] <= -190
        method = await controller.get_child(f"{ns}:ExecuteCommand")
        inputs = await (await method.get_child("0:InputArguments")).read_value()
        assert [arg.Name for arg in inputs] == ["code", "argument"]


async def test_nordlas_uses_string_node_ids_in_nested_folders_and_string_enums(nordlas_client: Client) -> None:
    client = nordlas_client
    ns = await client.get_namespace_index(NL)
    path = ["Nordlas", "Sites", "Centrum", "Cabinets", "C01", "Doors", "1", "State"]
    state = await client.nodes.objects.get_child([f"{ns}:{name}" for name in path])
    assert state.nodeid == ua.NodeId.from_string(DOOR.format(n=1, var="State"))
    assert await state.read_value() == "CLOSED"

    async def read(n: int, var: str) -> Any:
        return await client.get_node(DOOR.format(n=n, var=var)).read_value()

    assert [await read(1, "Zone"), await read(3, "Zone"), await read(4, "Zone")] == ["KYL", "FRYS", "RUM"]
    assert await read(1, "Bolt") == "ENGAGED" and await read(1, "Load") is False
    temp = client.get_node(DOOR.format(n=1, var="Temp"))
    assert await temp.read_data_type_as_variant_type() == ua.VariantType.Float
    alarm_type = client.get_node("ns=2;s=NordlasTemperatureAlarmType")
    assert (await alarm_type.read_browse_name()).Name == "NordlasTemperatureAlarmType"
    fields = {(await n.read_browse_name()).Name for n in await alarm_type.get_properties()}
    assert fields == {"Door", "Temperature", "Active"}


# Physics ------------------------------------------------------------------------------------


async def test_an_open_door_warms_a_chilled_compartment_and_closing_it_cools_it_again(kylbox: Simulator) -> None:
    async with Client(kylbox.url) as client:
        temperature = await (await kylbox_compartment(client, "KB-0002", 1)).get_child("2:Temperature")
        start = await temperature.read_value()
        await kylbox.open_door(1, by="code:4711", locker="KB-0002")
        await asyncio.sleep(0.6)  # 6 simulated seconds at 0.3 °C/s
        warm = await temperature.read_value()
        assert warm > start + 1.0
        await kylbox.close_door(1, occupied=True, locker="KB-0002")
        await asyncio.sleep(0.6)  # cools at 0.1 °C/s
        assert await temperature.read_value() < warm - 0.3
    assert kylbox.model.audit[-1].by == "code:4711"


# Unlocking through each vendor's mechanism --------------------------------------------------


async def test_kylbox_unlock_method_opens_the_door_and_a_subscription_sees_it(kylbox: Simulator) -> None:
    seen: list[bool] = []

    class Handler:
        def datachange_notification(self, node: Node, value: bool, data: object) -> None:
            seen.append(value)

    async with Client(kylbox.url) as client:
        comp = await kylbox_compartment(client, "KB-0001", 1)
        subscription = await client.create_subscription(20, Handler())
        await subscription.subscribe_data_change(await comp.get_child("2:DoorOpen"), queuesize=1)
        await comp.call_method("2:Unlock")
        await eventually(lambda: True in seen, within=1.0)  # the door reports open within a tick (here 0.05 s)
        assert await child_value(comp, "Locked") is False
        await kylbox.close_door(1, occupied=True, locker="KB-0001")
        assert (await child_value(comp, "Locked"), await child_value(comp, "Occupied")) == (True, True)
        kylbox.set_locked_out(1, locker="KB-0001")
        with pytest.raises(ua.UaStatusCodeError) as refused:
            await comp.call_method("2:Unlock")
        assert refused.value.code == ua.StatusCodes.BadInvalidState
        kylbox.set_locked_out(1, on=False, locker="KB-0001")
        await comp.call_method("2:SetSetpoint", 3.0)
        assert await child_value(comp, "Setpoint") == 3.0


async def test_frostlogik_execute_command_unlocks_by_array_index_and_answers_with_codes(frostlogik: Simulator) -> None:
    async with Client(frostlogik.url) as client:
        assert await execute(client, 1, "1") == 0
        await eventually(lambda: _equals(frostlogik_array(client, "DoorStates"), [0, 1, 0, 0]))
        assert (await frostlogik_array(client, "LockStates"))[1] is False
        assert await execute(client, 1, "9") == 1
        assert await execute(client, 7, "0") == 1
        frostlogik.set_locked_out(1)
        assert await execute(client, 1, "0") == 2
        frostlogik.set_locked_out(1, on=False)
        assert await execute(client, 2, "0:35") == 0
        assert (await frostlogik_array(client, "SetpointTenths"))[0] == 35
        assert await execute(client, 2, "3:40") == 1  # ambient: no cooling to set


async def test_nordlas_release_written_to_lock_command_opens_the_door(
    nordlas: Simulator, nordlas_client: Client
) -> None:
    client = nordlas_client
    command = client.get_node(DOOR.format(n=2, var="LockCommand"))
    await command.write_value(ua.Variant("RELEASE", ua.VariantType.String))
    state = client.get_node(DOOR.format(n=2, var="State"))
    await eventually(lambda: _equals(state.read_value(), "OPEN"), within=1.0)
    assert await client.get_node(DOOR.format(n=2, var="Bolt")).read_value() == "RELEASED"
    await nordlas.close_door(2, occupied=True)
    with pytest.raises(ua.UaStatusCodeError) as refused:
        await command.write_value(ua.Variant("OPEN SESAME", ua.VariantType.String))
    assert refused.value.code == ua.StatusCodes.BadInvalidArgument
    setpoint = client.get_node(DOOR.format(n=1, var="TempSet"))
    await setpoint.write_value(ua.Variant(3.5, ua.VariantType.Float))
    assert await setpoint.read_value() == 3.5


# Nordlås security ---------------------------------------------------------------------------


async def test_nordlas_refuses_insecure_and_anonymous_clients_and_wrong_passwords(
    nordlas: Simulator, client_cert: CertificateFiles
) -> None:
    with pytest.raises(ua.UaError):  # no None endpoint is offered
        await Client(nordlas.url, timeout=2).connect()
    rogue = Client(nordlas.url, timeout=2)  # forces a None channel anyway, skipping the endpoint check
    await rogue.connect_socket()
    try:
        await rogue.send_hello()
        await rogue.open_secure_channel()
        with pytest.raises(ua.UaError):
            await rogue.create_session()
        with pytest.raises(ua.uaerrors.BadUserAccessDenied):
            await rogue.get_node(DOOR.format(n=1, var="State")).read_value()
    finally:
        rogue.disconnect_socket()
    with pytest.raises(ua.uaerrors.BadIdentityTokenRejected):
        await (await secure_client(nordlas, client_cert, None, None)).connect()
    with pytest.raises(ua.uaerrors.BadUserAccessDenied):
        await (await secure_client(nordlas, client_cert, "gateway", "wrong")).connect()
    async with await secure_client(nordlas, client_cert, "gateway", NORDLAS_PASSWORD) as client:
        assert await client.get_node(DOOR.format(n=1, var="Zone")).read_value() == "KYL"


async def test_nordlas_emits_a_temperature_alarm_event_and_clears_it(
    nordlas: Simulator, nordlas_client: Client
) -> None:
    events: list[Any] = []
    via_server: list[Any] = []

    class Handler:
        def __init__(self, into: list[Any]) -> None:
            self.into = into

        def event_notification(self, event: Any) -> None:
            if event.Door == "3":  # other tests' doors may raise alarms of their own
                self.into.append(event)

    client = nordlas_client
    alarm_type = client.get_node("ns=2;s=NordlasTemperatureAlarmType")
    cabinet = client.get_node("ns=2;s=Nordlas/Sites/Centrum/Cabinets/C01")
    await (await client.create_subscription(20, Handler(events))).subscribe_events(cabinet, alarm_type)
    await (await client.create_subscription(20, Handler(via_server))).subscribe_events(client.nodes.server, alarm_type)
    await nordlas.open_door(3, by="code:1")  # the frozen door: -20 °C, warms 0.3 °C/s, 20x faster
    await eventually(lambda: len(events) >= 1, within=3.0)
    await nordlas.close_door(3, occupied=False)
    raised = events[0]
    assert (raised.Door, raised.Active) == ("3", True) and raised.Temperature > -18.0
    assert raised.SourceNode == cabinet.nodeid
    await eventually(lambda: len(events) >= 2, within=5.0)
    assert (events[1].Door, events[1].Active) == ("3", False) and events[1].Temperature <= -18.0
    await eventually(lambda: len(via_server) >= 2)  # the same events, emitted from the Server object too
    assert [event.Active for event in via_server] == [True, False]


async def _equals(value: Awaitable[Any], expected: Any) -> bool:
    return bool(await value == expected)


# Faults -------------------------------------------------------------------------------------


async def test_a_restart_drops_every_session_and_an_auto_reconnecting_client_resubscribes(kylbox: Simulator) -> None:
    seen: list[bool] = []

    class Handler:
        def datachange_notification(self, node: Node, value: bool, data: object) -> None:
            seen.append(value)

    client = Client(kylbox.url, timeout=2, watchdog_intervall=0.2, auto_reconnect=True, reconnect_max_delay=0.2)
    async with client:
        comp = await kylbox_compartment(client, "KB-0001", 2)
        session_before = client.uaclient.session.authentication_token
        subscription = await client.create_subscription(20, Handler())
        await subscription.subscribe_data_change(await comp.get_child("2:DoorOpen"), queuesize=1)
        await eventually(lambda: seen == [False])
        async with Client(kylbox.url, timeout=2) as plain:
            await kylbox.restart()
            with pytest.raises((ConnectionError, ua.UaError, TimeoutError)):
                await plain.nodes.server_state.read_value()
        async with Client(kylbox.url, timeout=2) as fresh:  # a new connection works at once
            assert await fresh.nodes.server_state.read_value() == ua.ServerState.Running
        await kylbox.open_door(2, locker="KB-0001")
        await eventually(lambda: True in seen, within=5.0)
        assert client.uaclient.session.authentication_token != session_before  # a new session
    await kylbox.close_door(2, occupied=False, locker="KB-0001")


async def test_an_offline_server_refuses_connections_until_it_comes_back(frostlogik: Simulator) -> None:
    outage = frostlogik.go_offline(0.5)
    await asyncio.sleep(0.05)
    assert not frostlogik.online
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", frostlogik.port)
    await outage
    assert frostlogik.online
    async with Client(frostlogik.url) as client:
        assert len(await frostlogik_array(client, "DoorStates")) == 4


async def test_a_bad_sensor_reports_bad_sensor_failure_on_each_vendors_temperature_node(
    kylbox: Simulator, frostlogik: Simulator, nordlas: Simulator, nordlas_client: Client
) -> None:
    bad = ua.StatusCodes.BadSensorFailure
    async with Client(kylbox.url) as kb, Client(frostlogik.url) as fl:
        kb_temp = await (await kylbox_compartment(kb, "KB-0002", 2)).get_child("2:Temperature")
        fl_temp = await fl.nodes.objects.get_child(["2:FL_Controller", "2:TempTenths"])
        nl_temp = nordlas_client.get_node(DOOR.format(n=4, var="Temp"))
        cases = [(kb_temp, kylbox, 2, "KB-0002"), (fl_temp, frostlogik, 3, None), (nl_temp, nordlas, 4, None)]
        for node, sim, compartment, locker in cases:
            sim.set_bad(compartment, locker=locker)
            await eventually(lambda node=node: _status_is(node, bad))
            with pytest.raises(ua.uaerrors.BadSensorFailure):
                await node.read_value()
            sim.set_bad(compartment, on=False, locker=locker)
            await eventually(lambda node=node: _status_is(node, ua.StatusCodes.Good))


async def test_a_stuck_sensor_stops_changing_while_the_compartment_warms(kylbox: Simulator) -> None:
    async with Client(kylbox.url) as client:
        temperature = await (await kylbox_compartment(client, "KB-0001", 3)).get_child("2:Temperature")
        kylbox.stick_sensor(3, locker="KB-0001")
        await asyncio.sleep(2 * TICK)
        stuck_at = await temperature.read_value()
        await kylbox.open_door(3, locker="KB-0001")  # frozen: warms 0.3 °C per simulated second
        readings = []
        for _ in range(5):
            await asyncio.sleep(2 * TICK)
            readings.append(await temperature.read_value())
        assert readings == [stuck_at] * 5
        assert kylbox.model.compartment(3, "KB-0001").temperature_c > stuck_at + 1.0
        kylbox.stick_sensor(3, on=False, locker="KB-0001")
        await eventually(lambda: _differs(temperature.read_value(), stuck_at))
        await kylbox.close_door(3, occupied=False, locker="KB-0001")


async def test_latency_delays_method_calls_and_writes(
    kylbox: Simulator, nordlas: Simulator, nordlas_client: Client
) -> None:
    kylbox.set_latency(0.4)
    nordlas.set_latency(0.4)
    try:
        async with Client(kylbox.url) as client:
            comp = await kylbox_compartment(client, "KB-0002", 2)
            began = time.monotonic()
            await comp.call_method("2:SetSetpoint", 5.0)
            assert time.monotonic() - began >= 0.39  # asyncio may wake a hair early
        began = time.monotonic()
        await nordlas_client.get_node(DOOR.format(n=1, var="TempSet")).write_value(
            ua.Variant(4.0, ua.VariantType.Float)
        )
        assert time.monotonic() - began >= 0.39  # asyncio may wake a hair early
    finally:
        kylbox.set_latency(0)
        nordlas.set_latency(0)


async def test_a_jammed_door_stays_shut_when_unlocked_and_shows_as_a_fault(frostlogik: Simulator) -> None:
    async with Client(frostlogik.url) as client:
        frostlogik.jam_door(3)
        await eventually(lambda: _equals(_item(frostlogik_array(client, "DoorStates"), 2), 2))
        assert await execute(client, 1, "2") == 0
        await asyncio.sleep(3 * TICK)
        assert (await frostlogik_array(client, "DoorStates"))[2] == 2
        frostlogik.jam_door(3, on=False)


# Starting simulators ------------------------------------------------------------------------


async def test_run_simulators_serves_several_vendors_in_one_loop_until_told_to_stop() -> None:
    specs = [
        SimulatorSpec("kylbox", port=free_port(), compartments=2),
        SimulatorSpec("frostlogik", port=free_port(), compartments=2),
    ]
    stop = asyncio.Event()
    runner = asyncio.create_task(run_simulators(specs, stop))
    for spec in specs:
        url = f"opc.tcp://127.0.0.1:{spec.port}"
        await eventually(lambda url=url: _answers(url), within=20.0)
    stop.set()
    await asyncio.wait_for(runner, 5)
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", specs[0].port)


def test_the_command_line_runs_one_vendor_until_sigterm_and_stops_cleanly(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "opcua_gateway.simulators", "--vendor", "nordlas", "--port", str(port),
               "--compartments", "2", "--pki", str(tmp_path)]  # fmt: skip
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert f"listening on opc.tcp://127.0.0.1:{port}" in first
        assert (tmp_path / f"nordlas-{port}" / "cert.der").is_file()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "stopped" in out


def test_the_command_line_explains_that_a_frostlogik_controller_serves_one_locker(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse_args(["--vendor", "frostlogik", "--port", "4842", "--lockers", "2"])
    assert exited.value.code == 2
    assert "exactly one locker" in capsys.readouterr().err
    spec = parse_args(["--vendor", "nordlas", "--port", "4843", "--lockers", "3", "--seed", "9"])
    assert (spec.vendor, spec.port, spec.lockers, spec.seed, spec.pki_dir) == ("nordlas", 4843, 3, 9, DEFAULT_PKI)


async def _status_is(node: Node, code: int) -> bool:
    value = await node.read_data_value(raise_on_bad_status=False)
    return value.StatusCode is not None and value.StatusCode.value == code


async def _differs(value: Awaitable[Any], other: Any) -> bool:
    return bool(await value != other)


async def _item(values: Awaitable[list[Any]], index: int) -> Any:
    return (await values)[index]


async def _answers(url: str) -> bool:
    try:
        async with Client(url, timeout=1) as client:
            return bool(await client.nodes.server_state.read_value() == ua.ServerState.Running)
    except (OSError, ua.UaError, TimeoutError):
        return False
