"""The audit log is append-only, even for code that tries to change it."""

from __future__ import annotations

import asyncpg
import pytest

from backend.lib import PageRequest
from tenants import audit
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World


async def test_an_audit_entry_cannot_be_updated_or_deleted(db: Database, world: World) -> None:
    async with db.tenant(world.a.id) as scope:
        entry = await audit.record(scope, actor=Actor.system("test"), action="test.recorded")
    for statement in ("UPDATE audit_log SET action = 'rewritten' WHERE id = $1", "DELETE FROM audit_log WHERE id = $1"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with db.tenant(world.a.id) as scope:
                await scope.connection.execute(statement, entry.id)
    async with db.tenant(world.a.id) as scope:
        page = await audit.list_entries(scope, PageRequest(first=5), action="test.recorded")
    assert [e.id for e in page.items] == [entry.id]


async def test_even_the_owner_role_cannot_rewrite_the_audit_log(owner: asyncpg.Connection, world: World) -> None:
    async with owner.transaction():
        await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(world.a.id))
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
            await owner.execute("DELETE FROM audit_log")


async def test_pages_of_the_audit_log_follow_each_other_newest_first(db: Database, world: World) -> None:
    async with db.tenant(world.b.id) as scope:
        for n in range(5):
            await audit.record(scope, actor=Actor.system("test"), action="test.paged", details={"n": n})
        first = await audit.list_entries(scope, PageRequest(first=3), action="test.paged")
        second = await audit.list_entries(scope, PageRequest(first=3, after=first.cursors[-1]), action="test.paged")
    assert [e.details["n"] for e in first.items] == [4, 3, 2] and first.has_next
    assert [e.details["n"] for e in second.items] == [1, 0] and not second.has_next
