"""The medication log's anchored head, on real PostgreSQL: what the chain alone cannot see.
Deleting the newest entries (the owner disables the log's trigger) leaves a shorter chain that
holds in itself, and verify now reports it truncated; a chain rewritten from an entry on does not
match its anchors; and a reviewer's head from an earlier export is still found, or its loss
reported, even when both the log and its anchors were cut back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from backend.lib import utcnow
from plugins.medicine_cabinets import chain, log
from tenants.database import Database, Scope
from tests.conftest import World
from tests.integration.test_lockers_ingest import redis as redis  # a fixture
from tests.integration.test_medicine_cabinets import Home
from tests.integration.test_medicine_cabinets import chained as chained  # a fixture: three refusals logged


@pytest.fixture
async def as_owner(world: World, owner: asyncpg.Connection) -> AsyncIterator[Scope]:
    """The owner's transaction in municipality A, rolled back afterwards so no other test sees the damage."""
    tx = owner.transaction()
    await tx.start()
    await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(world.a.id))  # RLS is forced on the owner
    try:
        yield Scope(tenant_id=world.a.id, connection=owner)
    finally:
        await tx.rollback()


UNGUARD_LOG = "ALTER TABLE medicine_cabinets_log DISABLE TRIGGER medicine_cabinets_log_append_only"
UNGUARD_ANCHORS = "ALTER TABLE medicine_cabinets_log_anchor DISABLE TRIGGER medicine_cabinets_log_anchor_append_only"


async def rows(scope: Scope) -> list[dict[str, Any]]:
    return await log.entries(scope)


async def test_deleting_the_newest_entry_is_reported_as_a_truncated_chain(chained: Home, as_owner: Scope) -> None:
    await as_owner.connection.execute(
        "ALTER TABLE medicine_cabinets_log DISABLE TRIGGER medicine_cabinets_log_append_only"
    )
    assert await as_owner.connection.execute("DELETE FROM medicine_cabinets_log WHERE seq = 3") == "DELETE 1"
    assert chain.verify(as_owner.tenant, await rows(as_owner)).intact  # the chain alone holds
    verdict = await log.verify(as_owner)
    assert (verdict.intact, verdict.truncated, verdict.broken_seq, verdict.checked) == (False, True, 3, 2)
    assert "deleted from the end" in verdict.reason


async def test_a_chain_rewritten_from_an_entry_on_does_not_match_its_anchors(chained: Home, as_owner: Scope) -> None:
    await as_owner.connection.execute(
        "ALTER TABLE medicine_cabinets_log DISABLE TRIGGER medicine_cabinets_log_append_only"
    )
    entries = await rows(as_owner)
    prev = entries[0]["hash"]
    for e in entries[1:]:  # entry 2 changed, and every hash after it recomputed
        e = {**e, "detail": "nurse_only"} if e["seq"] == 2 else e
        e["hash"] = chain.entry_hash(as_owner.tenant, e, prev)
        await as_owner.connection.execute(
            "UPDATE medicine_cabinets_log SET detail = $2, prev_hash = $3, hash = $4 WHERE seq = $1",
            e["seq"], e["detail"], prev, e["hash"],
        )  # fmt: skip
        prev = e["hash"]
    assert chain.verify(as_owner.tenant, await rows(as_owner)).intact
    verdict = await log.verify(as_owner)
    assert (verdict.intact, verdict.broken_seq, verdict.reason) == (False, 2, "entry 2 does not match its anchor")


async def test_a_reviewers_head_from_an_earlier_export_is_found_or_its_loss_reported(
    db: Database, world: World, chained: Home, owner: asyncpg.Connection
) -> None:
    async with db.tenant(world.a.id) as scope:
        exported = log.export(world.a.id, await log.entries(scope), await log.verify(scope))
        head = chain.Head(exported["head"]["seq"], exported["head"]["hash"])
        await log.append(scope, kind="refused", at=utcnow(), detail="not_assigned")
        assert (await log.verify(scope, head)).intact
        forged = await log.verify(scope, chain.Head(head.seq, "f" * 64))
        assert (forged.intact, forged.broken_seq, forged.reason) == (
            False,
            3,
            "entry 3 does not match the expected head",
        )
    tx = owner.transaction()
    await tx.start()
    try:  # both tables cut back to entry 2: only the reviewer's head still knows entry 3
        await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(world.a.id))
        await owner.execute(UNGUARD_LOG)
        await owner.execute(UNGUARD_ANCHORS)
        await owner.execute("DELETE FROM medicine_cabinets_log WHERE seq > 2")
        await owner.execute("DELETE FROM medicine_cabinets_log_anchor WHERE seq > 2")
        scope = Scope(tenant_id=world.a.id, connection=owner)
        assert (await log.verify(scope)).intact
        verdict = await log.verify(scope, head)
    finally:
        await tx.rollback()
    assert (verdict.intact, verdict.truncated, verdict.broken_seq) == (False, True, 3)


async def test_the_app_role_can_neither_change_nor_delete_an_anchor(db: Database, world: World, chained: Home) -> None:
    for sql in ("UPDATE medicine_cabinets_log_anchor SET hash = $1", "DELETE FROM medicine_cabinets_log_anchor"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with db.tenant(world.a.id) as scope:
                await scope.connection.execute(sql, *(["0" * 64] if "UPDATE" in sql else []))
    async with db.tenant(world.a.id) as scope:
        assert [r["seq"] for r in await scope.connection.fetch(log.ANCHORS, world.a.id)] == [1, 2, 3]
