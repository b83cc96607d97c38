"""Staff move their municipality's faults through GraphQL (``moveFaultReport``): any open fault may be
rejected, a fault no vendor serves may be acknowledged and resolved, a fault the vendor serves is
the vendor's work (CONFLICT, nothing changed); another municipality's fault is NOT_FOUND and
audited. ``faultReport(id)`` shows a fault with its transitions, actors and times."""

from __future__ import annotations

import uuid

from tenants.database import Database
from tests.conftest import Server, World, login
from tests.e2e.test_fault_reports_vendor import REPORT, data
from tests.integration.test_fault_reports import installed
from tests.integration.test_fault_webhooks import vendor_endpoint
from tests.integration.test_fault_workflow_routing import contract
from tests.integration.test_lockers_ingest import Installed, install

ERR = "... on Error { code message } ... on ValidationFailedError { fields { field } }"
FAULT = """id municipalityId status vendorId resolvedAt rejectedAt fix { hours }
  transitions { fromStatus toStatus at actorKind actorLabel note }"""
MOVE = f"""mutation($input: MoveFaultReportInput!) {{ moveFaultReport(input: $input) {{
  __typename ... on FaultReport {{ {FAULT} }} {ERR} }} }}"""
ONE = f"query($id: ID!) {{ faultReport(id: $id) {{ {FAULT} }} }}"


async def test_staff_resolve_an_unserved_fault_reject_a_served_one_and_cannot_touch_another_municipalitys(
    server: Server, db: Database, world: World
) -> None:
    served = await installed(db, world.a.id)
    _, vendor = await contract(db, world, served)
    await vendor_endpoint(db, world, vendor, "http://127.0.0.1:9/vendor")
    unserved = await install(db, world.a.id, endpoint="kylbox-2")  # fault reports is enabled already
    staff = await login(server, world.a.staff_email)

    def given(where: Installed) -> dict[str, object]:
        return {"input": {"lockerId": str(where.locker_id), "category": "DAMAGE", "description": "Trasig lucka."}}

    mine = data(await staff(REPORT, given(unserved)), "reportFault")
    theirs = data(await staff(REPORT, given(served)), "reportFault")
    assert mine["vendorId"] is None and theirs["vendorId"] is not None

    ack = data(await staff(MOVE, {"input": {"faultId": mine["id"], "to": "ACKNOWLEDGED"}}), "moveFaultReport")
    assert ack["status"] == "ACKNOWLEDGED"
    done = data(
        await staff(MOVE, {"input": {"faultId": mine["id"], "to": "RESOLVED", "note": "Ny lucka"}}), "moveFaultReport"
    )
    assert done["status"] == "RESOLVED" and done["resolvedAt"] and done["fix"]["hours"] is not None
    steps = done["transitions"]
    assert [(t["fromStatus"], t["toStatus"]) for t in steps] == [
        (None, "REPORTED"),
        ("REPORTED", "ACKNOWLEDGED"),
        ("ACKNOWLEDGED", "RESOLVED"),
    ]
    assert all(t["actorKind"] == "user" and world.a.staff_email in t["actorLabel"] and t["at"] for t in steps)
    assert steps[-1]["note"] == "Ny lucka"
    assert data(await staff(ONE, {"id": mine["id"]}), "faultReport") | {"__typename": "FaultReport"} == done

    vendors_work = await staff(MOVE, {"input": {"faultId": theirs["id"], "to": "ACKNOWLEDGED"}})
    assert data(vendors_work, "moveFaultReport")["__typename"] == "ConflictError"
    assert data(await staff(ONE, {"id": theirs["id"]}), "faultReport")["status"] == "REPORTED"
    bad = data(await staff(MOVE, {"input": {"faultId": theirs["id"], "to": "REPORTED"}}), "moveFaultReport")
    assert bad["__typename"] == "ValidationFailedError"
    rejected = data(
        await staff(MOVE, {"input": {"faultId": theirs["id"], "to": "REJECTED", "note": "Dubblett"}}), "moveFaultReport"
    )
    assert rejected["status"] == "REJECTED" and rejected["rejectedAt"]
    async with db.tenant(world.a.id) as scope:  # the vendor hears of the rejection by webhook
        topics = await scope.connection.fetch(
            "SELECT topic FROM notification WHERE channel = 'webhook' AND subject_id = $1 ORDER BY created_at",
            uuid.UUID(theirs["id"]),
        )
    assert [t["topic"] for t in topics] == ["fault.routed", "fault.updated"]

    other = await login(server, world.b.staff_email)
    await installed(db, world.b.id)  # B has the plugin too
    denied = data(await other(MOVE, {"input": {"faultId": mine["id"], "to": "REJECTED"}}), "moveFaultReport")
    assert denied["__typename"] == "NotFoundError"
    async with db.tenant(world.b.id) as scope:
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'fault_reports.denied' AND target_id = $1", mine["id"]
            )
            == 1
        )
    read = await other.post(ONE, {"id": mine["id"]})
    assert read.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert data(await staff(ONE, {"id": mine["id"]}), "faultReport")["status"] == "RESOLVED"  # unchanged
