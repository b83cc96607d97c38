"""The administrative commands work against the configured servers."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from backend.lib import Unauthenticated
from backend.settings import Settings
from tenants.database import Database
from tenants.tokens import resolve_token


def samverka(settings: Settings, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.child_environment()}
    result = subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env, capture_output=True, text=True,
                            timeout=120)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


async def test_tenants_are_created_and_listed_from_the_command_line(settings: Settings) -> None:
    slug = f"kommun-{uuid.uuid4().hex[:6]}"
    fed = f"fed-{uuid.uuid4().hex[:6]}"
    created = samverka(settings, "tenants", "create", "Vara", "--code", "1470", "--slug", slug,
                       "--federation", fed, "--federation-name", "Testförbundet")
    assert f"Created Vara ({slug})" in created.stdout
    assert slug in samverka(settings, "tenants", "list").stdout


async def test_a_bad_municipality_code_is_refused_with_what_to_do(settings: Settings) -> None:
    result = samverka(settings, "tenants", "create", "Skara", "--code", "12", "--federation", "nowhere",
                      "--federation-name", "X", ok=False)
    assert result.returncode != 0
    assert "VALIDATION_FAILED" in result.stderr and "four digits" in result.stderr


async def test_a_token_made_on_the_command_line_works_until_it_is_revoked(settings: Settings, db: Database) -> None:
    slug = f"kommun-{uuid.uuid4().hex[:6]}"
    samverka(settings, "tenants", "create", "Götene", "--code", "1471", "--slug", slug,
             "--federation", f"fed-{slug}", "--federation-name", "Testförbundet")
    created = samverka(settings, "tokens", "create", "--tenant", slug, "--name", "E-handel",
                       "--scope", "municipality:read", "--days", "30")
    token = created.stdout.strip().splitlines()[-1]
    record = await resolve_token(db, token)
    assert record.name == "E-handel" and record.scopes == ("municipality:read",)
    samverka(settings, "tokens", "revoke", str(record.id), "--tenant", slug)
    with pytest.raises(Unauthenticated, match="revoked"):
        await resolve_token(db, token)


async def test_a_token_for_an_unknown_municipality_is_refused_on_the_command_line(settings: Settings) -> None:
    result = samverka(settings, "tokens", "create", "--tenant", "no-such-kommun", "--name", "x", ok=False)
    assert "NOT_FOUND" in result.stderr
