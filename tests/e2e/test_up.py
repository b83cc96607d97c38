"""`samverka up` on a fresh data directory: servers, migrations, demo data, web + worker, the
simulated lockers and Götene's medicine cabinet working through GraphQL, clean stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from backend.seed import DEMO_PASSWORD
from tests.conftest import LOGIN, free_port, free_port_run


def _wait_for(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("samverka up did not serve /healthz within 120 s")


def _start(data_dir: Path, port: int, opcua_port: int = 0) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKA_")}
    command = [sys.executable, "-m", "backend.cli", "--data-dir", str(data_dir), "up", "--port", str(port),
               "--opcua-port", str(opcua_port or free_port_run(4))]  # the demo simulators: base + 0..3
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


LOCKERS = "{ lockers { name health { connectivity } compartments { key temperatureC } } }"


def _live_lockers(port: int, token: str, slug: str) -> list[dict[str, object]]:
    """The municipality's lockers once each is online and every compartment reports a temperature
    (waits up to 90 s; the health and the readings arrive as separate events)."""
    deadline = time.monotonic() + 90
    while True:
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=10, json={"query": LOCKERS},
                          headers={"Authorization": f"Bearer {token}", "X-Samverka-Tenant": slug}).json()
        lockers = (body.get("data") or {}).get("lockers") or []
        live = lockers and all(
            lk["health"]["connectivity"] == "ONLINE" and all(c["temperatureC"] is not None for c in lk["compartments"])
            for lk in lockers
        )
        if live or time.monotonic() > deadline:
            return list(lockers)
        time.sleep(1)


DELIVERIES = "{ deliveries(first: 5) { nodes { reference status } } }"


def _demo_deliveries(port: int, token: str) -> list[dict[str, object]]:
    """The demo integrator's deliveries in the caller's municipality once there is one (waits up to 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        body = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=10, json={"query": DELIVERIES},
                          headers={"Authorization": f"Bearer {token}"}).json()
        nodes = ((body.get("data") or {}).get("deliveries") or {}).get("nodes") or []
        if nodes or time.monotonic() > deadline:
            return list(nodes)
        time.sleep(1)


MINE = "{ myCabinetsToday { careRecipientReference online compartments { id key nurseOnly } } }"
OPEN = """mutation($id: ID!) { openCabinetCompartment(compartmentId: $id) { __typename
  ... on CabinetRefused { reason } ... on CabinetFailed { detail } ... on Error { code message } } }"""


def _as(port: int, email: str) -> Callable[..., dict[str, Any]]:
    """GraphQL as the demo account ``email``: (query, variables) -> data."""
    url = f"http://127.0.0.1:{port}/graphql"
    login = httpx.post(url, timeout=10, json={"query": LOGIN, "variables": {"email": email, "password": DEMO_PASSWORD}})
    headers = {"Authorization": f"Bearer {login.json()['data']['login']['token']}"}

    def ask(query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = httpx.post(url, timeout=30, headers=headers, json={"query": query, "variables": variables or {}}).json()
        assert not body.get("errors"), body
        return dict(body["data"])

    return ask


def _cabinet_opens_for_the_assigned_staff_and_nurse_only_for_the_nurse(port: int) -> None:
    """Götene's demo cabinet: today's visit for the staff member, once online (waits up to 90 s)."""
    staff, nurse = _as(port, "personal@gotene.example"), _as(port, "sjukskoterska@gotene.example")
    deadline = time.monotonic() + 90
    while not (mine := staff(MINE)["myCabinetsToday"]) or not mine[0]["online"]:
        assert time.monotonic() < deadline, f"the demo cabinet is not online today: {mine}"
        time.sleep(1)
    [cabinet] = mine
    assert cabinet["careRecipientReference"] == "GOT-0001", cabinet
    [restricted] = [c["id"] for c in cabinet["compartments"] if c["nurseOnly"]]
    normal = next(c["id"] for c in cabinet["compartments"] if not c["nurseOnly"])
    assert staff(OPEN, {"id": normal})["openCabinetCompartment"]["__typename"] == "CabinetOpened"
    refused = staff(OPEN, {"id": restricted})["openCabinetCompartment"]
    assert (refused["__typename"], refused.get("reason")) == ("CabinetRefused", "nurse_only"), refused
    opened = nurse(OPEN, {"id": restricted})["openCabinetCompartment"]
    assert opened["__typename"] == "CabinetOpened", opened


def _stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def test_up_seeds_the_demo_federation_serves_it_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    process = _start(tmp_path, port)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", process)
        login = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=10, json={
            "query": LOGIN, "variables": {"email": "admin@lidkoping.example", "password": DEMO_PASSWORD}})
        token = login.json()["data"]["login"]["token"]
        me = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=10, headers={"Authorization": f"Bearer {token}"},
                        json={"query": "{ me { municipality { name code } } }"})
        assert me.json()["data"]["me"]["municipality"] == {"name": "Lidköping", "code": "1494"}

        federation = httpx.post(f"http://127.0.0.1:{port}/graphql", timeout=10, json={
            "query": LOGIN, "variables": {"email": "admin@goliska-it.example", "password": DEMO_PASSWORD}})
        admin_token = federation.json()["data"]["login"]["token"]
        for slug, lockers in (("lidkoping", 2), ("skara", 1), ("vara", 2)):  # Kylbox, Frostlogik, Nordlås
            found = _live_lockers(port, admin_token, slug)
            assert len(found) == lockers, (slug, found)
            assert all(lk["health"]["connectivity"] == "ONLINE" for lk in found), found  # type: ignore[index]
            temperatures = [c["temperatureC"] for lk in found for c in lk["compartments"]]  # type: ignore[attr-defined]
            assert temperatures and all(t is not None for t in temperatures), (slug, found)
        assert _demo_deliveries(port, token), "the demo integrator booked nothing in Lidköping within 60 s"
        _cabinet_opens_for_the_assigned_staff_and_nurse_only_for_the_nurse(port)
    finally:
        output = _stop(process)
    for name in ("Essunga", "Grästorp", "Götene", "Lidköping", "Skara", "Vara"):
        assert name in output
    assert "demo: Demohandeln books deliveries in Lidköping, Skara, Vara" in output, output
    assert "demo: Demohandeln stopped" in output, output
    assert "admin@goliska-it.example" in output and "Samverka stopped." in output
    assert "demo: medicine cabinet in the home of GOT-0001" in output, output
    assert "/web/plugins/medicine_cabinets/today" in output and "/web/plugins/fault_reports/report" in output
    assert not (tmp_path / "postgres" / "postmaster.pid").exists(), "PostgreSQL left running"

    again = _start(tmp_path, port)
    try:
        _wait_for(f"http://127.0.0.1:{port}/healthz", again)
    finally:
        second = _stop(again)
    assert "Demo federation seeded" not in second, "the demo data is seeded on the first start only"
