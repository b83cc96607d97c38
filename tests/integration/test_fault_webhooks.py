"""The vendor hears of its faults by signed webhook: ``fault.routed`` when routing finds its
contract, ``fault.updated`` on every later move (the vendor's or the municipality's), queued in the
municipality's outbox and sent to the vendor's endpoint in the federation; and a fault that found
no contract is routed once one covers its locker, checked again only every few minutes."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from backend.lib import utcnow
from backend.notifications import deliver_one, get_notification, set_federation_endpoint, verify_signature
from backend.settings import Settings
from plugins.fault_reports import routing, workflow
from plugins.fault_reports.domain import Status
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_fault_reports import STAFF, installed, report
from tests.integration.test_fault_workflow import VENDOR
from tests.integration.test_fault_workflow_routing import contract
from tests.integration.test_notifications import Hooks, hooks  # noqa: F401  # a small HTTP server

SYSTEM = Actor.system("test")


async def vendor_endpoint(db: Database, world: World, vendor: uuid.UUID, url: str) -> str:
    async with db.federation(world.federation_id) as scope:
        issued = await set_federation_endpoint(scope, owner_id=vendor, url=url, allow_local=True, actor=SYSTEM)
    assert issued.secret
    return issued.secret


async def webhooks_about(db: Database, tenant: uuid.UUID, fault_id: uuid.UUID) -> list[Any]:
    async with db.tenant(tenant) as scope:
        return list(
            await scope.connection.fetch(
                """SELECT id, topic, recipient, federation_id, payload FROM notification
                   WHERE channel = 'webhook' AND subject_kind = 'fault_report' AND subject_id = $1
                   ORDER BY created_at, id""",
                fault_id,
            )
        )


async def test_a_routed_fault_and_each_later_move_reach_the_vendor_signed(
    db: Database,
    world: World,
    settings: Settings,
    hooks: Hooks,  # noqa: F811
) -> None:
    where = await installed(db, world.a.id)
    contract_id, vendor = await contract(db, world, where)
    secret = await vendor_endpoint(db, world, vendor, hooks.url(f"/vendor/{vendor}"))
    row = await report(db, where)
    [routed] = await routing.route_pending(db, where.tenant, utcnow())
    assert routed["vendor_id"] == vendor
    start = row["reported_at"]
    async with db.tenant(where.tenant) as scope:
        await workflow.move(
            scope, row["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=start + timedelta(hours=1), vendor_id=vendor
        )
    async with db.tenant(where.tenant) as scope:
        await workflow.move(
            scope, row["id"], Status.REJECTED, actor=STAFF, now=start + timedelta(hours=2), note="Dubblett av F-12"
        )
    sent = await webhooks_about(db, where.tenant, row["id"])
    assert [(n["topic"], n["recipient"], n["federation_id"]) for n in sent] == [
        ("fault.routed", str(vendor), world.federation_id),
        ("fault.updated", str(vendor), world.federation_id),
        ("fault.updated", str(vendor), world.federation_id),
    ]
    routed_data, acked, rejected = (json.loads(n["payload"]) for n in sent)
    assert (routed_data["fault_id"], routed_data["contract_id"], routed_data["status"]) == (
        str(row["id"]),
        str(contract_id),
        "reported",
    )
    assert acked["change"] | {"at": None} == {"from": "reported", "to": "acknowledged", "at": None, "note": "",
                                             "by": "vendor"}  # fmt: skip
    assert (acked["response_hours"], acked["fix_hours"]) == (1.0, None)
    assert rejected["change"]["by"] == "municipality" and rejected["change"]["note"] == "Dubblett av F-12"
    assert rejected["status"] == "rejected" and rejected["rejected_at"] is not None

    for n in sent:  # the worker's delivery, run here: signed with the vendor's secret
        assert await deliver_one(db, None, settings, where.tenant, n["id"]) is not None
    hits = hooks.at(f"/vendor/{vendor}")
    assert [h.headers["x-samverka-event"] for h in hits] == ["fault.routed", "fault.updated", "fault.updated"]
    for hit in hits:
        h = hit.headers
        assert verify_signature(secret, h["x-samverka-timestamp"], hit.body, h["x-samverka-signature"])
        assert json.loads(hit.body)["municipality_id"] == str(world.a.id)
    async with db.tenant(world.b.id) as scope:  # the rows are A's own
        assert await get_notification(scope, sent[0]["id"]) is None


async def test_a_fault_no_vendor_serves_sends_no_webhook(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where)
    assert await routing.route_pending(db, where.tenant, utcnow()) == []
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, row["id"], Status.ACKNOWLEDGED, actor=STAFF, now=utcnow())
    assert await webhooks_about(db, where.tenant, row["id"]) == []


async def test_a_vendor_without_an_endpoint_gets_no_failed_webhook_rows(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    _, vendor = await contract(db, world, where)
    row = await report(db, where)
    [routed] = await routing.route_pending(db, where.tenant, utcnow())
    assert routed["vendor_id"] == vendor
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, row["id"], Status.ACKNOWLEDGED, actor=VENDOR, now=utcnow(), vendor_id=vendor)
    assert await webhooks_about(db, where.tenant, row["id"]) == []  # nothing queued to fail
    await vendor_endpoint(db, world, vendor, "http://127.0.0.1:9/vendor")  # from now on it hears
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, row["id"], Status.RESOLVED, actor=VENDOR, now=utcnow(), vendor_id=vendor)
    assert [n["topic"] for n in await webhooks_about(db, where.tenant, row["id"])] == ["fault.updated"]


async def test_a_fault_that_found_no_contract_is_routed_when_one_comes_into_force_checked_every_few_minutes(
    db: Database, world: World
) -> None:
    where = await installed(db, world.a.id)
    now = utcnow()
    row = await report(db, where)
    assert await routing.route_pending(db, where.tenant, now) == []  # no contract yet
    contract_id, vendor = await contract(db, world, where)
    await vendor_endpoint(db, world, vendor, "http://127.0.0.1:9/vendor")
    tomorrow = now + timedelta(days=1)
    async with db.federation(world.federation_id) as scope:  # it comes into force tomorrow
        await scope.connection.execute(
            "UPDATE procurement_contract SET starts_on = $2 WHERE id = $1", contract_id, tomorrow.date()
        )
    assert await routing.route_pending(db, where.tenant, now + timedelta(minutes=1)) == []  # checked a minute ago
    assert await routing.route_pending(db, where.tenant, now + timedelta(minutes=6)) == []  # not in force yet
    async with db.tenant(where.tenant) as scope:
        checked = await scope.connection.fetchval("SELECT routed_at FROM fault_report WHERE id = $1", row["id"])
    assert checked == now + timedelta(minutes=6)  # when it was last checked
    [routed] = await routing.route_pending(db, where.tenant, tomorrow)
    assert (routed["id"], routed["vendor_id"], routed["contract_id"]) == (row["id"], vendor, contract_id)
    assert await routing.route_pending(db, where.tenant, tomorrow + timedelta(hours=1)) == []  # routed once
    assert [n["topic"] for n in await webhooks_about(db, where.tenant, row["id"])] == ["fault.routed"]

    closed = await report(db, where, description="Redan åtgärdat.")  # a closed fault is never routed later
    async with db.tenant(where.tenant) as scope:
        await workflow.move(scope, closed["id"], Status.REJECTED, actor=STAFF, now=utcnow())
    assert await routing.route_pending(db, where.tenant, tomorrow + timedelta(hours=2)) == []
