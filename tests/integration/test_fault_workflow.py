"""The fault workflow on real PostgreSQL: statuses with their times and actors (append-only
transitions), gateway faults raised once while ongoing, typed errors that change nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway.contracts import AlarmKind, AlarmRaised, Connectivity, DeviceHealth, HealthChanged, Severity
from plugins.fault_reports import gateway, workflow
from plugins.fault_reports.domain import Status
from plugins.lockers.hooks import PlacedEvent
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_fault_reports import STAFF, installed, report
from tests.integration.test_lockers_ingest import Installed, health

VENDOR = Actor("user", uuid.uuid4(), "Vera Leverantör <vera@vendor.example>")


def sensor_fault(where: Installed, seq: int) -> PlacedEvent:
    event = AlarmRaised(
        event_id=f"e{seq}-{uuid.uuid4().hex}",
        endpoint_id=where.endpoint_id,
        locker="L1",
        compartment="1",
        seq=seq,
        at=utcnow(),
        alarm_id=f"a{seq}",
        alarm=AlarmKind.SENSOR_FAULT,
        severity=Severity.WARNING,
        message="Bad quality on the temperature sensor",
    )
    return PlacedEvent(event, where.locker_id, where.compartments["1"])


async def faults(db: Database, where: Installed) -> list[Any]:
    async with db.tenant(where.tenant) as scope:
        return list(await scope.connection.fetch("SELECT * FROM fault_report WHERE tenant_id = $1", where.tenant))


async def test_a_fault_moves_through_its_statuses_timed_with_actors_and_audited(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where)
    start = row["reported_at"]
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, row["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=start + timedelta(hours=1))
        await workflow.move(scope, row["id"], Status.IN_PROGRESS, actor=VENDOR, now=start + timedelta(hours=2))
        done = await workflow.move(
            scope, row["id"], Status.RESOLVED, actor=VENDOR, now=start + timedelta(hours=5), note="Nytt lås"
        )
        steps = await workflow.transitions(scope, row["id"])
        actions = await scope.connection.fetch(
            "SELECT action FROM audit_log WHERE tenant_id = $1 AND target_id = $2 ORDER BY occurred_at",
            where.tenant,
            str(row["id"]),
        )
    assert done["status"] == "resolved"
    assert workflow.seconds(done) == (3600.0, 5 * 3600.0)
    assert [(s["from_status"], s["to_status"]) for s in steps] == [
        (None, "reported"),
        ("reported", "acknowledged"),
        ("acknowledged", "in_progress"),
        ("in_progress", "resolved"),
    ]
    assert steps[0]["actor_label"] == STAFF.label and steps[3]["actor_label"] == VENDOR.label
    assert steps[3]["note"] == "Nytt lås"
    assert {a["action"] for a in actions} >= {"fault_reports.acknowledged", "fault_reports.resolved"}


async def test_a_step_not_allowed_from_the_status_is_a_conflict_and_changes_nothing(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where)
    async with db.tenant(where.tenant) as scope:
        with pytest.raises(api.Conflict):
            await workflow.move(scope, row["id"], Status.RESOLVED, actor=VENDOR, now=utcnow())
    async with db.tenant(where.tenant) as scope:
        assert len(await workflow.transitions(scope, row["id"])) == 1
    assert (await faults(db, where))[0]["status"] == "reported"


async def test_another_municipality_or_another_vendor_cannot_move_a_fault(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where)
    async with db.tenant(where.tenant) as scope:
        await scope.connection.execute("UPDATE fault_report SET vendor_id = $2 WHERE id = $1", row["id"], uuid.uuid4())
    async with db.tenant(world.b.id) as scope:
        with pytest.raises(api.NotFound):
            await workflow.move(scope, row["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=utcnow())
    async with db.tenant(where.tenant) as scope:
        with pytest.raises(api.NotFound):
            await workflow.move(
                scope, row["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=utcnow(), vendor_id=uuid.uuid4()
            )
    assert (await faults(db, where))[0]["status"] == "reported"


async def test_transitions_are_append_only_for_the_app(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with db.tenant(where.tenant) as scope:
            await scope.connection.execute("UPDATE fault_transition SET note = 'x' WHERE fault_id = $1", row["id"])


async def test_a_sensor_fault_is_raised_once_while_it_is_open_and_again_once_resolved(
    db: Database, world: World
) -> None:
    where = await installed(db, world.a.id)
    async with db.tenant(where.tenant) as scope:
        await gateway.on_locker_events(scope, [sensor_fault(where, 1), sensor_fault(where, 2)], utcnow())
    async with db.tenant(where.tenant) as scope:
        await gateway.on_locker_events(scope, [sensor_fault(where, 3)], utcnow())
    [fault] = await faults(db, where)
    assert (fault["source"], fault["severity"], fault["category"], fault["reported_by_kind"]) == (
        "gateway",
        "high",
        "temperature",
        "system",
    )
    assert fault["compartment_id"] == where.compartments["1"]
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, fault["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=utcnow())
        await workflow.move(scope, fault["id"], Status.RESOLVED, actor=VENDOR, now=utcnow())
        await gateway.on_locker_events(scope, [sensor_fault(where, 4)], utcnow())
    assert sorted(f["status"] for f in await faults(db, where)) == ["reported", "resolved"]


async def test_a_locker_offline_longer_than_the_limit_gets_one_critical_fault(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    now = utcnow()
    async with db.tenant(where.tenant) as scope:
        await scope.connection.execute(
            "UPDATE lockers_locker SET connectivity = 'offline', health_at = $2 WHERE id = $1",
            where.locker_id,
            now - timedelta(minutes=10),
        )
        assert await gateway.sweep(scope, now) == 0  # within the default 30 minutes
        assert await gateway.sweep(scope, now + timedelta(minutes=25)) == 1
        assert await gateway.sweep(scope, now + timedelta(minutes=40)) == 0  # still open: no duplicate
    [fault] = await faults(db, where)
    assert (fault["source"], fault["severity"], fault["ongoing_key"]) == (
        "gateway",
        "critical",
        f"offline:{where.locker_id}",
    )


async def test_a_device_failure_raises_a_critical_fault_and_another_tenant_sees_none(
    db: Database, world: World
) -> None:
    where = await installed(db, world.a.id)
    base = health(where.endpoint_id, 1, Connectivity.ONLINE)
    event = HealthChanged(
        event_id=base.event_id,
        endpoint_id=base.endpoint_id,
        locker=base.locker,
        seq=1,
        at=base.at,
        health=type(base.health)(connectivity=Connectivity.ONLINE, device_health=DeviceHealth.FAILURE, detail="PLC"),
    )
    async with db.tenant(where.tenant) as scope:
        await gateway.on_locker_events(scope, [PlacedEvent(event, where.locker_id, None)], utcnow())
    [fault] = await faults(db, where)
    assert fault["severity"] == "critical" and "PLC" in fault["description"]
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM fault_report") == 0


async def test_a_closed_door_that_stays_unlocked_past_the_grace_gets_one_fault(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    now = utcnow()
    async with db.tenant(where.tenant) as scope:
        await scope.connection.execute(
            "UPDATE lockers_compartment SET door_open = false, locked = false, state_at = $2 WHERE id = $1",
            where.compartments["2"],
            now - timedelta(minutes=1),
        )
        assert await gateway.sweep(scope, now) == 0  # within the default 2 minutes
        assert await gateway.sweep(scope, now + timedelta(minutes=5)) == 1
        assert await gateway.sweep(scope, now + timedelta(minutes=9)) == 0
    [fault] = await faults(db, where)
    assert (fault["compartment_id"], fault["category"], fault["severity"]) == (
        where.compartments["2"],
        "door_or_lock",
        "high",
    )


async def test_repeated_failed_commands_within_an_hour_make_one_fault(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    now = utcnow()
    async with db.tenant(where.tenant) as scope:
        for outcome in ("failed", "timeout", "confirmed", "failed"):
            await scope.connection.execute(
                """INSERT INTO lockers_command (tenant_id, request_id, command, endpoint_id, compartment_id,
                     requested_by_kind, requested_by_label, timeout_s, outcome, completed_at)
                   VALUES ($1, $2, 'unlock', $3, $4, 'user', 'Stina', 10, $5, $6)""",
                where.tenant,
                uuid.uuid4(),
                where.endpoint_id,
                where.compartments["1"],
                outcome,
                now - timedelta(minutes=5),
            )
        assert await gateway.sweep(scope, now) == 1  # three failures: the default limit
        assert await gateway.sweep(scope, now) == 0
        assert await gateway.sweep(scope, now + timedelta(hours=2)) == 0  # older than an hour
    [fault] = await faults(db, where)
    assert (fault["ongoing_key"], fault["severity"]) == (f"commands:{where.locker_id}", "high")
