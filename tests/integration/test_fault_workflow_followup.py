"""Procurement's follow-up measures fault_response / fault_fix from the faults routed under the
contract: per severity the worst time in the period, an open fault counting until the period's
end; a breach when over the target; no faults, nothing measured; only that municipality's faults."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal

from backend.lib import utcnow
from plugins.fault_reports import routing, workflow
from plugins.fault_reports.domain import Status
from plugins.procurement import faults_link, followup
from plugins.procurement import followup_metrics as metrics
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_fault_reports import installed, report
from tests.integration.test_fault_workflow import VENDOR
from tests.integration.test_fault_workflow_routing import contract


def level(metric: str, severity: str | None, target: int) -> followup.Level:
    return followup.Level(uuid.uuid4(), metric, severity, Decimal(target), "hours", Decimal(1000))


async def test_the_follow_up_measures_the_worst_fault_times_of_the_contract(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    contract_id, _ = await contract(db, world, where)
    first, second = await report(db, where), await report(db, where)
    await routing.route_pending(db, where.tenant, utcnow())
    start = first["reported_at"]
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, first["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=start + timedelta(hours=1))
        await workflow.move(scope, first["id"], Status.RESOLVED, actor=VENDOR, now=start + timedelta(hours=30))
        await workflow.move(scope, second["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=start + timedelta(hours=2))
    period = metrics.Period(start - timedelta(days=1), start + timedelta(days=3))
    measured = followup.Measured(None, None, await faults_link.measure(db, where.tenant, contract_id, period))
    response = followup.judge(where.tenant, level("fault_response", "normal", 8), measured, period)
    assert response.measured == Decimal(2) and not response.breached
    assert response.details["faults"] == 2 and response.details["open"] == 0
    fix = followup.judge(where.tenant, level("fault_fix", None, 24), measured, period)
    # the second fault is still open at the period's end: 72 hours and counting
    assert fix.measured is not None and fix.measured > Decimal(70) and fix.breached
    assert fix.penalty_sek == Decimal(1000) and fix.details["open"] == 1
    critical = followup.judge(where.tenant, level("fault_fix", "critical", 8), measured, period)
    assert critical.measured is None and not critical.breached  # no critical fault
    other = await faults_link.measure(db, world.b.id, contract_id, period)
    assert other == {}  # municipality B sees none of A's faults


async def test_a_month_without_faults_measures_nothing(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    contract_id, _ = await contract(db, world, where)
    now = utcnow()
    assert await faults_link.measure(db, where.tenant, contract_id, metrics.Period(now - timedelta(days=30), now)) == {}
