"""Routing faults to the vendor whose active contract's call-off names the locker, and the
response and fix times measured against that contract's service levels by severity."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from backend.lib import utcnow
from plugins.fault_reports import routing, service_levels, workflow
from plugins.fault_reports.domain import Status
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_fault_reports import installed, report
from tests.integration.test_fault_workflow import VENDOR, faults
from tests.integration.test_lockers_ingest import Installed


async def contract(
    db: Database,
    world: World,
    where: Installed,
    *,
    status: str = "active",
    lockers: list[uuid.UUID] | None = None,
    vendor_id: uuid.UUID | None = None,
) -> tuple[uuid.UUID, uuid.UUID]:
    """A contract of a vendor with fault levels (critical 2/8 h, normal 8/24 h) and a call-off of
    municipality A naming the locker; returns (contract, vendor)."""
    contract_id, vendor_id = uuid.uuid4(), vendor_id or uuid.uuid4()
    async with db.federation(world.federation_id) as scope:
        c = scope.connection
        await c.execute(
            """INSERT INTO procurement_contract (federation_id, id, procurement_id, lot_id, award_id, vendor_id, title,
                 value_sek, signed_at, starts_on, ends_on, framework, covers_lockers, status)
               VALUES ($1, $2, $3, $4, $5, $6, 'Skåpservice', 100000, now(), $7, $8, true, true, $9)""",
            world.federation_id,
            contract_id,
            uuid.uuid4(),
            uuid.uuid4(),
            uuid.uuid4(),
            vendor_id,
            date.today() - timedelta(days=30),
            date.today() + timedelta(days=300),
            status,
        )
        for metric, severity, target in (
            ("fault_response", "critical", 2),
            ("fault_fix", "critical", 8),
            ("fault_response", "normal", 8),
            ("fault_fix", "normal", 24),
        ):
            await c.execute(
                """INSERT INTO procurement_service_level (federation_id, id, contract_id, metric, severity, target,
                     unit)
                   VALUES ($1, $2, $3, $4, $5, $6, 'hours')""",
                world.federation_id,
                uuid.uuid4(),
                contract_id,
                metric,
                severity,
                target,
            )
        await c.execute(
            """INSERT INTO procurement_call_off (federation_id, id, contract_id, municipality_id, ocid, quantity,
                 value_sek, locker_ids) VALUES ($1, $2, $3, $4, $5, 1, 1000, $6)""",
            world.federation_id,
            uuid.uuid4(),
            contract_id,
            world.a.id,
            f"ocds-test-{uuid.uuid4().hex[:8]}",
            lockers if lockers is not None else [where.locker_id],
        )
    return contract_id, vendor_id


async def test_a_fault_is_routed_to_the_vendor_whose_call_off_names_the_locker(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    contract_id, vendor_id = await contract(db, world, where)
    row = await report(db, where)
    [routed] = await routing.route_pending(db, where.tenant, utcnow())
    assert routed["id"] == row["id"] and routed["vendor_id"] == vendor_id
    [fault] = await faults(db, where)
    assert (fault["contract_id"], fault["federation_id"]) == (contract_id, world.federation_id)
    assert await routing.route_pending(db, where.tenant, utcnow()) == []  # routed once
    async with db.tenant(where.tenant) as scope:
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'fault_reports.routed' AND target_id = $1",
                str(row["id"]),
            )
            == 1
        )


async def test_no_active_contract_or_another_locker_leaves_the_fault_unrouted(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    await contract(db, world, where, status="terminated")
    await contract(db, world, where, lockers=[uuid.uuid4()])
    await report(db, where)
    assert await routing.route_pending(db, where.tenant, utcnow()) == []
    [fault] = await faults(db, where)
    assert fault["vendor_id"] is None and fault["routed_at"] is not None


async def test_times_are_measured_against_the_contracts_levels_by_severity(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    contract_id, _ = await contract(db, world, where)
    row = await report(db, where)
    start = row["reported_at"]
    levels = await routing.levels(db, world.federation_id, contract_id)
    assert levels[("fault_fix", "normal")] == Decimal("24.000")
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, row["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=start + timedelta(hours=3))
        done = await workflow.move(scope, row["id"], Status.RESOLVED, actor=VENDOR, now=start + timedelta(hours=30))
    t = service_levels.times(done, levels, utcnow())
    assert (t.response.hours, t.response.target_hours, t.response.breached) == (3.0, 8.0, False)
    assert (t.fix.hours, t.fix.target_hours, t.fix.breached) == (30.0, 24.0, True)
    critical = dict(done) | {"severity": "critical"}
    assert service_levels.times(critical, levels, utcnow()).response.breached  # 3 h > 2 h
    open_fault = dict(row) | {"severity": "critical"}
    late = service_levels.times(open_fault, levels, start + timedelta(hours=9))
    assert late.response.hours is None and late.response.breached and late.fix.breached
    assert not service_levels.times(open_fault, {}, start + timedelta(days=9)).fix.breached  # no level, no breach
