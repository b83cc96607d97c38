"""With tenant A's context no query can see or change tenant B's rows; with none, nothing is visible.

These run SQL as the app role inside ``Database.tenant``/``Database.shared``, the
queries deliberately written without any tenant filter: the database must hold.
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from tenants.access import Actor
from tenants.database import Database
from tenants.tables import ApiToken, AuditEntry, Membership
from tenants.tokens import create_token
from tests.conftest import World

pytestmark = pytest.mark.asyncio


async def _token(db: Database, tenant_id: uuid.UUID, name: str) -> uuid.UUID:
    async with db.tenant(tenant_id) as scope:
        new = await create_token(scope, name=name, scopes=["municipality:read"], expires_in_days=30,
                                 actor=Actor.system("test"))
    return new.record.id


async def test_a_select_without_tenant_filter_sees_only_the_own_tenants_rows(db: Database, world: World) -> None:
    await _token(db, world.a.id, "a-token")
    b_token = await _token(db, world.b.id, "b-token")
    async with db.tenant(world.a.id) as scope:
        rows = await scope.connection.fetch("SELECT tenant_id, id FROM api_token")
        orm_rows = await ApiToken.select(ApiToken.tenant_id)
    assert rows and {r["tenant_id"] for r in rows} == {world.a.id}
    assert {r["tenant_id"] for r in orm_rows} == {world.a.id}
    assert b_token not in {r["id"] for r in rows}


async def test_counting_all_rows_counts_only_the_own_tenants(db: Database, owner: asyncpg.Connection,
                                                             world: World) -> None:
    async with db.tenant(world.a.id) as scope:
        own = await scope.connection.fetchval("SELECT count(*) FROM membership")
        by_orm = await Membership.count()
    assert own == by_orm == 2  # the admin and the staff user of A


async def test_updating_another_tenants_row_changes_nothing(db: Database, world: World) -> None:
    b_token = await _token(db, world.b.id, "b-token")
    async with db.tenant(world.a.id) as scope:
        result = await scope.connection.execute("UPDATE api_token SET name = 'hijacked' WHERE id = $1", b_token)
        await scope.connection.execute("UPDATE api_token SET name = 'hijacked-all'")
    assert result == "UPDATE 0"
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval("SELECT name FROM api_token WHERE id = $1", b_token) == "b-token"


async def test_deleting_another_tenants_row_changes_nothing(db: Database, world: World) -> None:
    b_token = await _token(db, world.b.id, "b-token")
    async with db.tenant(world.a.id) as scope:
        result = await scope.connection.execute("DELETE FROM api_token WHERE id = $1", b_token)
    assert result == "DELETE 0"
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM api_token WHERE id = $1", b_token) == 1


async def test_inserting_a_row_with_another_tenants_id_is_refused(db: Database, world: World) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with db.tenant(world.a.id) as scope:
            await scope.connection.execute(
                "INSERT INTO audit_log (tenant_id, actor_kind, action) VALUES ($1, 'system', 'forged')", world.b.id
            )
    async with db.tenant(world.b.id) as scope:
        assert await AuditEntry.count().where(AuditEntry.action == "forged") == 0


async def test_moving_an_own_row_to_another_tenant_is_refused(db: Database, world: World) -> None:
    a_token = await _token(db, world.a.id, "a-token")
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with db.tenant(world.a.id) as scope:
            await scope.connection.execute("UPDATE api_token SET tenant_id = $1 WHERE id = $2", world.b.id, a_token)


async def test_a_join_across_tenant_tables_never_pairs_in_another_tenants_rows(db: Database, world: World) -> None:
    await _token(db, world.a.id, "a-token")
    await _token(db, world.b.id, "b-token")
    async with db.tenant(world.a.id) as scope:
        rows = await scope.connection.fetch(
            """SELECT m.tenant_id AS m_tenant, t.tenant_id AS t_tenant, a.tenant_id AS a_tenant
               FROM membership m CROSS JOIN api_token t JOIN audit_log a ON true"""
        )
    assert rows
    assert {(r["m_tenant"], r["t_tenant"], r["a_tenant"]) for r in rows} == {(world.a.id,) * 3}


async def test_a_transaction_without_a_tenant_sees_nothing_and_cannot_write(db: Database, world: World) -> None:
    await _token(db, world.a.id, "a-token")
    async with db.shared() as scope:
        for table in ("membership", "api_token", "audit_log"):
            assert await scope.connection.fetchval(f"SELECT count(*) FROM {table}") == 0
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with db.shared() as scope:
            await scope.connection.execute(
                "INSERT INTO audit_log (tenant_id, actor_kind, action) VALUES ($1, 'system', 'x')", world.a.id
            )


async def test_a_plain_connection_of_the_app_role_sees_no_tenant_rows(db: Database, world: World) -> None:
    await _token(db, world.a.id, "a-token")
    async with db.engine.pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM api_token") == 0
        assert await conn.fetchval("SELECT count(*) FROM audit_log") == 0


async def test_the_tenant_setting_does_not_outlive_its_transaction(db: Database, world: World) -> None:
    async with db.tenant(world.a.id):
        pass
    async with db.engine.pool.acquire() as conn:
        assert (await conn.fetchval("SELECT current_setting('app.tenant_id', true)")) in (None, "")
        assert await conn.fetchval("SELECT count(*) FROM membership") == 0


async def test_own_memberships_are_readable_at_sign_in_but_nothing_else(db: Database, world: World) -> None:
    async with db.shared() as scope:
        user_id = await scope.connection.fetchval("SELECT id FROM app_user WHERE email = $1", world.a.admin_email)
    async with db.shared(user_id=user_id) as scope:
        rows = await scope.connection.fetch("SELECT tenant_id, user_id FROM membership")
        tokens = await scope.connection.fetchval("SELECT count(*) FROM api_token")
        result = await scope.connection.execute("DELETE FROM membership")
    assert {(r["tenant_id"], r["user_id"]) for r in rows} == {(world.a.id, user_id)}
    assert tokens == 0
    assert result == "DELETE 0"


async def test_opening_a_tenant_transaction_inside_another_is_refused(db: Database, world: World) -> None:
    from piccolo.engine.exceptions import TransactionError

    with pytest.raises(TransactionError):
        async with db.tenant(world.a.id), db.tenant(world.b.id):
            pass
