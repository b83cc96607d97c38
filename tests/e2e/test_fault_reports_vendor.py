"""Faults through GraphQL on a running server: staff report a fault, it is routed to the vendor
whose contract covers the locker, the vendor acknowledges and resolves it with its times measured
against the contract's levels; another vendor's attempt is NOT_FOUND, audited, and changes nothing."""

from __future__ import annotations

from typing import Any

from tenants.database import Database
from tests.conftest import Server, World, login
from tests.e2e.test_procurement_setup_api import vendor
from tests.integration.test_fault_reports import installed
from tests.integration.test_fault_workflow_routing import contract

ERR = "... on Error { code message }"
FIELDS = "id status severity source vendorId response { hours targetHours breached } fix { hours targetHours breached }"
REPORT = f"""mutation($input: ReportFaultInput!) {{ reportFault(input: $input) {{
  __typename ... on FaultReport {{ {FIELDS} }} {ERR} }} }}"""
MOVE = f"""mutation($input: MoveFaultInput!) {{ moveFault(input: $input) {{
  __typename ... on FaultReport {{ {FIELDS} }} {ERR} }} }}"""
MINE = f"query {{ vendorFaults {{ {FIELDS} }} }}"
LIST = f"query {{ faultReports {{ {FIELDS} }} }}"


def data(body: dict[str, Any], field: str) -> Any:
    assert "errors" not in body, body
    return body["data"][field]


async def test_a_fault_is_routed_to_its_vendor_who_acknowledges_and_resolves_it_in_time(
    server: Server, db: Database, world: World
) -> None:
    where = await installed(db, world.a.id)
    acme = await vendor(server, db, world, "Acme Skåpservice")
    async with db.federation(world.federation_id) as scope:
        acme_id = await scope.connection.fetchval("SELECT id FROM procurement_vendor WHERE name = 'Acme Skåpservice'")
        acme_email = await scope.connection.fetchval(
            "SELECT contact_email FROM procurement_vendor WHERE id = $1", acme_id
        )
    await contract(db, world, where, vendor_id=acme_id)
    other = await vendor(server, db, world, "Annan Leverantör")
    staff = await login(server, world.a.staff_email)
    given = {"lockerId": str(where.locker_id), "category": "DOOR_OR_LOCK", "description": "Dörren låser inte."}
    fault = data(await staff(REPORT, {"input": given}), "reportFault")
    assert (fault["__typename"], fault["status"], fault["source"], fault["vendorId"]) == (
        "FaultReport",
        "REPORTED",
        "STAFF",
        str(acme_id),
    )
    assert fault["response"] == {"hours": None, "targetHours": 8.0, "breached": False}
    async with db.tenant(world.a.id) as scope:  # the vendor's contact address hears of it by e-mail
        told = await scope.connection.fetch(
            "SELECT recipient, channel FROM notification WHERE topic = 'fault_reports.routed' AND subject_id = $1",
            fault["id"],
        )
    assert [(t["recipient"], t["channel"]) for t in told] == [(acme_email, "email")]

    assert [f["id"] for f in data(await acme(MINE), "vendorFaults")] == [fault["id"]]
    assert data(await other(MINE), "vendorFaults") == []
    move = {"faultId": fault["id"], "municipalityId": str(world.a.id), "to": "ACKNOWLEDGED", "note": ""}
    denied = data(await other(MOVE, {"input": move}), "moveFault")
    assert denied["__typename"] == "NotFoundError"
    async with db.tenant(world.a.id) as scope:
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'fault_reports.denied' AND target_id = $1", fault["id"]
            )
            == 1
        )
        assert await scope.connection.fetchval("SELECT status FROM fault_report") == "reported"

    wrong = data(await acme(MOVE, {"input": {**move, "to": "RESOLVED"}}), "moveFault")
    assert wrong["__typename"] == "ConflictError"
    acked = data(await acme(MOVE, {"input": move}), "moveFault")
    assert acked["status"] == "ACKNOWLEDGED" and acked["response"]["hours"] < 0.1
    done = data(await acme(MOVE, {"input": {**move, "to": "RESOLVED", "note": "Nytt lås"}}), "moveFault")
    assert done["status"] == "RESOLVED" and done["fix"]["targetHours"] == 24.0 and not done["fix"]["breached"]
    [seen] = data(await staff(LIST), "faultReports")
    assert seen["status"] == "RESOLVED" and seen["fix"]["hours"] is not None
    assert data(await acme(MINE), "vendorFaults") == []  # open ones only by default
    staff_as_vendor = data(await staff(MOVE, {"input": move}), "moveFault")
    assert staff_as_vendor["__typename"] == "PermissionDeniedError"


async def test_a_report_on_another_municipalitys_locker_is_not_found_audited_and_saves_nothing(
    server: Server, db: Database, world: World
) -> None:
    await installed(db, world.a.id)
    theirs = await installed(db, world.b.id)
    staff = await login(server, world.a.staff_email)
    given = {"lockerId": str(theirs.locker_id), "category": "DAMAGE", "description": "Trasig."}
    answer = data(await staff(REPORT, {"input": given}), "reportFault")
    assert answer["__typename"] == "NotFoundError"
    async with db.tenant(world.a.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM fault_report") == 0
        assert (
            await scope.connection.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'fault_reports.denied' AND target_id = $1",
                str(theirs.locker_id),
            )
            == 1
        )
    async with db.tenant(world.b.id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM fault_report") == 0
