"""The core starts, migrates, seeds and serves with zero plugins (SAMVERKA_PLUGINS=none)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import asyncpg

from backend.seed import DEMO_PASSWORD
from plugins.registry import PluginRegistry
from tests.conftest import LOGIN, GraphQLClient, free_port
from tests.e2e.test_up import _wait_for


def _start(data_dir: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMVERKA_")}
    return subprocess.Popen([sys.executable, "-m", "backend.cli", "--data-dir", str(data_dir), "up", "--port",
                             str(port)], env={**env, "SAMVERKA_PLUGINS": "none"}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


async def _tables(data_dir: Path) -> set[str]:
    """Every table in the running embedded cluster's Samverka database, read as its owner role."""
    pid_file = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    port, socket_dir = int(pid_file[3]), pid_file[4]
    conn = await asyncpg.connect(host=socket_dir, port=port, user="samverka_owner", database="samverka")
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        applied = await conn.fetch("SELECT DISTINCT app_name FROM migration")
    finally:
        await conn.close()
    return {r["tablename"] for r in rows} | {f"migration:{r['app_name']}" for r in applied}


async def test_the_core_starts_and_serves_with_zero_plugins(tmp_path: Path) -> None:
    assert "notices" in PluginRegistry.discover(), "the example plugin must be installed for this test to mean much"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = _start(tmp_path, port)
    try:
        _wait_for(f"{url}/healthz", process)
        login = await GraphQLClient(url)(LOGIN, {"email": "admin@lidkoping.example", "password": DEMO_PASSWORD})
        graphql = GraphQLClient(url, login["data"]["login"]["token"])  # type: ignore[index]

        me = await graphql("{ me { municipality { name } } }")
        assert me == {"data": {"me": {"municipality": {"name": "Lidköping"}}}}
        assert await graphql("{ plugins { id } }") == {"data": {"plugins": []}}

        unknown = await graphql("{ notices { id } }")
        assert "data" not in unknown or unknown["data"] is None
        [error] = unknown["errors"]  # type: ignore[misc]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "Cannot query field 'notices'" in error["message"]

        tables = await _tables(tmp_path)
        assert {"tenant_plugin", "migration:tenants"} <= tables, tables  # the core's own tables are there
        assert not {t for t in tables if "notices" in t}, f"a plugin's tables or migrations exist: {tables}"
        assert process.poll() is None, "a child (web or worker) died, so `up` is stopping"
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "Demo federation seeded" in output and "Samverka stopped." in output
    assert "Traceback" not in output, output
