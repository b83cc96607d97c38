"""Procurement's data is isolated per federation and its bids are sealed by PostgreSQL itself:
nobody, the buyer included, reads a bid before the tender deadline; a vendor reads and replaces
only its own, and only before the deadline. Checked with raw SQL as the app role, so no
resolver or service is involved."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg
import pytest

from tenants.database import Database
from tests.conftest import World, make_world

KERNEL_SHARED = {"municipality", "app_user"}  # kernel tables led by federation_id, read at sign-in
# Tables with a tenant_id are tenant-owned (they may also note a federation_id, e.g. for routing):
# tests/integration/test_rls_coverage.py holds them to the tenant policy.


async def procurement(db: Database, federation: uuid.UUID, deadline_in: timedelta) -> tuple[uuid.UUID, uuid.UUID]:
    pid, lot = uuid.uuid4(), uuid.uuid4()
    async with db.federation(federation) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement (federation_id, id, ocid, title, category, contract_kind, estimated_value_sek,
                                        procedure, duration_months, status, published_at, tender_deadline)
               VALUES ($1, $2, $3, 'Tempererade leveransskåp som tjänst', 'lockers', 'services', 3000000, 'open',
                       48, 'published', now(), now() + $4::interval)""",
            federation,
            pid,
            f"ocds-test-{pid}",
            deadline_in,
        )
        await scope.connection.execute(
            "INSERT INTO procurement_lot (federation_id, id, procurement_id, number, title) VALUES ($1,$2,$3,1,'Skåp')",
            federation,
            lot,
            pid,
        )
    return pid, lot


async def vendor(db: Database, federation: uuid.UUID, name: str) -> uuid.UUID:
    vid = uuid.uuid4()
    async with db.federation(federation) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
               VALUES ($1, $2, $3, $4, 'anbud@example.se')""",
            federation,
            vid,
            name,
            f"55{uuid.uuid4().int % 10**4:04d}-{uuid.uuid4().int % 10**4:04d}",
        )
    return vid


async def bid(
    db: Database, federation: uuid.UUID, as_vendor: uuid.UUID, pid: uuid.UUID, lot: uuid.UUID, price: int
) -> None:
    async with db.federation(federation, vendor_id=as_vendor) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_bid (federation_id, id, procurement_id, lot_id, vendor_id, deadline, price_sek)
               VALUES ($1, $2, $3, $4, $5, now(), $6)""",  # the trigger sets the real deadline
            federation,
            uuid.uuid4(),
            pid,
            lot,
            as_vendor,
            price,
        )


async def visible(db: Database, federation: uuid.UUID, as_vendor: uuid.UUID | None, pid: uuid.UUID) -> list[int]:
    async with db.federation(federation, vendor_id=as_vendor) as scope:
        rows = await scope.connection.fetch(
            "SELECT price_sek FROM procurement_bid WHERE procurement_id = $1 ORDER BY price_sek", pid
        )
    return [int(r["price_sek"]) for r in rows]


async def test_bids_are_sealed_until_the_deadline_by_the_database(db: Database, world: World) -> None:
    fed = world.federation_id
    pid, lot = await procurement(db, fed, timedelta(days=30))
    a, b = await vendor(db, fed, "Kylbox Service AB"), await vendor(db, fed, "Frostlogik Drift AB")
    await bid(db, fed, a, pid, lot, 1_000_000)
    await bid(db, fed, b, pid, lot, 900_000)
    assert await visible(db, fed, None, pid) == []  # the buyer: nothing before the deadline
    assert await visible(db, fed, a, pid) == [1_000_000]  # a vendor: only its own
    assert await visible(db, fed, b, pid) == [900_000]
    async with db.federation(fed) as scope:  # not even a count leaks
        assert (
            await scope.connection.fetchval("SELECT count(*) FROM procurement_bid WHERE procurement_id = $1", pid) == 0
        )
    with pytest.raises(asyncpg.InsufficientPrivilegeError):  # nor can one vendor bid in another's name
        await _bid_as(db, fed, a, b, pid, lot)

    async with db.federation(fed) as scope:  # the deadline passes (moved to the past for the test)
        await scope.connection.execute(
            "UPDATE procurement SET tender_deadline = now() - interval '1 second' WHERE id = $1", pid
        )
    assert await visible(db, fed, None, pid) == [900_000, 1_000_000]  # now everyone of the federation
    async with db.federation(fed, vendor_id=a) as scope:  # and no vendor can change its bid any more
        changed = await scope.connection.execute(
            "UPDATE procurement_bid SET price_sek = 1 WHERE procurement_id = $1 AND vendor_id = $2", pid, a
        )
    assert changed == "UPDATE 0"
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await bid(db, fed, a, pid, lot, 5)  # a late bid


async def _bid_as(
    db: Database, fed: uuid.UUID, acting: uuid.UUID, named: uuid.UUID, pid: uuid.UUID, lot: uuid.UUID
) -> None:
    async with db.federation(fed, vendor_id=acting) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_bid (federation_id, id, procurement_id, lot_id, vendor_id, deadline, price_sek)
               VALUES ($1, $2, $3, $4, $5, now(), 1)""",
            fed,
            uuid.uuid4(),
            pid,
            lot,
            named,
        )


async def test_a_vendor_replaces_its_own_bid_before_the_deadline(db: Database, world: World) -> None:
    fed = world.federation_id
    pid, lot = await procurement(db, fed, timedelta(days=1))
    a = await vendor(db, fed, "Nordlås Service AB")
    await bid(db, fed, a, pid, lot, 500_000)
    async with db.federation(fed, vendor_id=a) as scope:
        changed = await scope.connection.execute(
            "UPDATE procurement_bid SET price_sek = 450000, version = version + 1 WHERE procurement_id = $1", pid
        )
    assert changed == "UPDATE 1" and await visible(db, fed, a, pid) == [450_000]


async def test_another_federation_sees_nothing_of_a_procurement(db: Database, world: World) -> None:
    pid, _ = await procurement(db, world.federation_id, timedelta(seconds=-1))  # even a closed one
    other = await make_world(db)
    async with db.federation(other.federation_id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM procurement WHERE id = $1", pid) == 0
        assert await scope.connection.fetchval("SELECT count(*) FROM procurement_bid") == 0
    async with db.tenant(world.a.id) as scope:  # nor does a municipality's own transaction
        assert await scope.connection.fetchval("SELECT count(*) FROM procurement WHERE id = $1", pid) == 0


async def test_every_federation_level_table_is_isolated_by_the_database(owner: asyncpg.Connection) -> None:
    tables = [
        r["table_name"]
        for r in await owner.fetch(
            """SELECT c.table_name FROM information_schema.columns c
           JOIN information_schema.tables t USING (table_schema, table_name)
           WHERE c.table_schema = 'public' AND c.column_name = 'federation_id' AND t.table_type = 'BASE TABLE'
             AND NOT EXISTS (SELECT 1 FROM information_schema.columns o WHERE o.table_schema = 'public'
                             AND o.table_name = c.table_name AND o.column_name = 'tenant_id')"""
        )
        if r["table_name"] not in KERNEL_SHARED
    ]
    assert "procurement_bid" in tables and "procurement" in tables
    unguarded = []
    for table in tables:
        row = await owner.fetchrow(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass", table
        )
        policies = await owner.fetch("SELECT qual FROM pg_policies WHERE tablename = $1", table)
        if not (
            row["relrowsecurity"]
            and row["relforcerowsecurity"]
            and policies
            and all("app.federation_id" in (p["qual"] or "app.federation_id") for p in policies)
        ):
            unguarded.append(table)
    assert unguarded == []
