"""`samverka gateway discover` drafts a profile from a live server, with TODOs for a human."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import yaml

from opcua_gateway.discover import draft_profile
from tests.integration.gateway_support import FrostlogikServer, KylboxServer

ROOT = Path(__file__).resolve().parents[2]


async def test_a_kylbox_server_gives_a_draft_with_its_structure_and_todos() -> None:
    server = KylboxServer(lockers=("KB-0001", "KB-0002"), compartments=3)
    await server.start()
    try:
        text = await draft_profile(server.url, depth=6)
    finally:
        await server.stop()
    draft = yaml.safe_load(text)
    assert draft["namespace"] == "urn:samverka:sim:kylbox"
    assert draft["lockers"]["browse"] == "Objects/Kylbox/Lockers/KB-*"
    assert draft["compartments"]["browse"] == "Compartment*"
    assert draft["fields"]["door_open"]["path"] == "DoorOpen"
    assert draft["fields"]["temperature_c"] == {"path": "Temperature", "type": "float"}
    assert "Unlock" in text and "SetSetpoint" in text and "TODO" in text
    assert "Objects/Kylbox/Lockers/KB-0002/Compartment03/Temperature" in text


async def test_the_command_line_drafts_an_array_profile_for_a_frostlogik_controller(tmp_path: Path) -> None:
    server = FrostlogikServer()
    await server.start()
    out = tmp_path / "draft.yaml"
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "opcua_gateway.cli", "discover", server.url, "--out", str(out), cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=asyncio.subprocess.PIPE)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        await server.stop()
    assert process.returncode == 0, stderr.decode()
    draft = yaml.safe_load(out.read_text())
    assert draft["lockers"]["browse"] == "Objects/FL_Controller"
    assert draft["compartments"]["array"] == "DoorStates"
    assert draft["fields"]["temperature_c"]["index"] is True
    assert "ExecuteCommand" in out.read_text()
