"""The import rules of docs (ARCHITECTURE.md) hold, and the schema file is current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_package_import_rules_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_committed_graphql_schema_is_current() -> None:
    from backend.graphql.schema import SCHEMA_FILE, export_sdl

    assert SCHEMA_FILE.exists(), "run `samverka schema export` and commit schema.graphql"
    assert SCHEMA_FILE.read_text() == export_sdl(), "schema.graphql is stale: run `samverka schema export`"
