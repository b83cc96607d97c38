"""The node-opcua interop server (another OPC UA stack than asyncua) serving the Kylbox address
space, started by its Python helper (which runs ``npm ci`` on first use) and driven by asyncua."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from asyncua import Client

from opcua_gateway.simulators.node_server import NodeInteropServer, NodeNotInstalled, node_executables

KB = "urn:samverka:sim:kylbox"


@pytest.fixture(scope="module")
async def node_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[NodeInteropServer]:
    async with NodeInteropServer(pki_dir=tmp_path_factory.mktemp("node-pki")) as server:
        yield server


async def test_the_node_opcua_server_serves_the_kylbox_compartments(node_server: NodeInteropServer) -> None:
    async with Client(node_server.url) as client:
        ns = await client.get_namespace_index(KB)
        locker = await client.nodes.objects.get_child([f"{ns}:Kylbox", f"{ns}:Lockers", f"{ns}:KB-0001"])
        names = sorted([(await n.read_browse_name()).Name for n in await locker.get_children()])
        assert names == ["Compartment01", "Compartment02", "Compartment03"]
        comp = await locker.get_child(f"{ns}:Compartment02")
        children = {(await n.read_browse_name()).Name: n for n in await comp.get_children()}
        assert set(children) >= {
            "DoorOpen",
            "Locked",
            "Occupied",
            "Temperature",
            "Setpoint",
            "TemperatureClass",
            "Size",
        }
        assert await children["TemperatureClass"].read_value() == "frozen"
        assert await children["Temperature"].read_value() == pytest.approx(-20.0, abs=0.5)


async def test_unlock_on_the_node_opcua_server_opens_the_door(node_server: NodeInteropServer) -> None:
    async with Client(node_server.url) as client:
        ns = await client.get_namespace_index(KB)
        path = ["Kylbox", "Lockers", "KB-0001", "Compartment01"]
        comp = await client.nodes.objects.get_child([f"{ns}:{name}" for name in path])
        door = await comp.get_child(f"{ns}:DoorOpen")
        assert await door.read_value() is False
        await comp.call_method(f"{ns}:Unlock")
        deadline = time.monotonic() + 1.0
        while not await door.read_value():
            assert time.monotonic() < deadline, "the door did not open within a second"
            await asyncio.sleep(0.05)
        assert await (await comp.get_child(f"{ns}:Locked")).read_value() is False


def test_the_helper_says_how_to_install_node_when_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without node or npm
    with pytest.raises(NodeNotInstalled, match=r"install Node\.js"):
        node_executables()
