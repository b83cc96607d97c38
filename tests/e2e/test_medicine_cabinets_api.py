"""The medicine cabinets plugin through GraphQL on a running ``samverka serve``: an admin sets up a
cabinet; staff who are not assigned are refused with a reason and the refusal is in the log; only
admins and nurses read it; another municipality sees none of it; bad input changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import Server, World, login
from tests.e2e.test_lockers_api import AUDIT, codes, data, register

ENABLE = """mutation { enablePlugin(pluginId: "medicine_cabinets") { __typename ... on Error { code message } } }"""
RECIPIENT = """mutation($ref: String!) { addCareRecipient(reference: $ref) {
  __typename ... on MedicineCreated { id } ... on Error { code message } } }"""
CABINET = """mutation($locker: ID!, $recipient: ID!) {
  addMedicineCabinet(lockerId: $locker, careRecipientId: $recipient) {
  __typename ... on MedicineCreated { id } ... on Error { code message } } }"""
QUALIFY = """mutation($user: ID!) { setStaffQualification(userId: $user, nurse: true) {
  __typename ... on Error { code message } } }"""
OPEN = """mutation($id: ID!) { openCabinetCompartment(compartmentId: $id) {
  __typename ... on CabinetRefused { reason message logSeq } ... on CabinetFailed { detail }
  ... on Error { code message } } }"""
LOG = """query($cabinet: ID) { medicationLog(cabinetId: $cabinet, first: 100) {
  nodes { seq kind detail staffUserId hash prevHash } } }"""
VERIFY = "{ verifyMedicationLog { intact checked brokenSeq reason } }"
CHECK = "{ medicationLogCheck { intact source checkedAt wholeLog { headSeq } newEntriesChecked requestedAt } }"
EXPORT = "{ exportMedicationLog }"
VERIFY_HEAD = """query($head: MedicationLogHeadInput) { verifyMedicationLog(expectedHead: $head) {
  intact truncated brokenSeq headSeq } }"""
ME = "{ me { user { id } } }"


def oldest_first(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of one page of ``medicationLog`` (newest first), oldest first."""
    return list(reversed(data(body, "medicationLog")["nodes"]))


async def test_an_unassigned_staff_member_is_refused_and_only_admins_and_nurses_read_the_log(
    server: Server, world: World
) -> None:
    r = await register(server, world.a.admin_email, locker="M1")
    admin = r.admin
    assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    bad = data(await admin(RECIPIENT, {"ref": "19121212-1212 Anna"}), "addCareRecipient")
    assert bad["__typename"] == "ValidationFailedError", bad
    recipient = data(await admin(RECIPIENT, {"ref": "BR-0042"}), "addCareRecipient")["id"]
    cabinet = data(await admin(CABINET, {"locker": r.locker_id, "recipient": recipient}), "addMedicineCabinet")["id"]

    staff = await login(server, world.a.staff_email)
    refused = data(await staff(OPEN, {"id": r.compartments["1"]}), "openCabinetCompartment")
    assert (refused["__typename"], refused["reason"]) == ("CabinetRefused", "not_assigned")
    assert codes(await staff(LOG, {"cabinet": cabinet})) == ["PERMISSION_DENIED"]

    [entry] = oldest_first(await admin(LOG, {"cabinet": cabinet}))
    staff_id = data(await staff(ME), "me")["user"]["id"]
    assert (entry["kind"], entry["detail"], entry["staffUserId"]) == ("refused", "not_assigned", staff_id)
    verdict = data(await admin(VERIFY), "verifyMedicationLog")
    assert verdict["intact"] is True and verdict["checked"] >= 1
    kept = data(await admin(CHECK), "medicationLogCheck")  # the verification's verdict, kept
    assert (kept["intact"], kept["source"], kept["wholeLog"]["headSeq"]) == (True, "api", entry["seq"])
    assert kept["checkedAt"] and kept["newEntriesChecked"] == 0 and kept["requestedAt"] is None
    assert codes(await staff(CHECK)) == ["PERMISSION_DENIED"]
    export = json.loads(data(await admin(EXPORT), "exportMedicationLog"))
    assert export["intact"] is True and export["entries"][-1]["hash"] == entry["hash"]
    assert export["head"] == {"seq": entry["seq"], "hash": entry["hash"]}
    kept = data(await admin(VERIFY_HEAD, {"head": export["head"]}), "verifyMedicationLog")
    assert (kept["intact"], kept["truncated"], kept["headSeq"]) == (True, False, entry["seq"])
    forged = data(await admin(VERIFY_HEAD, {"head": {**export["head"], "hash": "0" * 64}}), "verifyMedicationLog")
    assert (forged["intact"], forged["brokenSeq"]) == (False, entry["seq"])
    assert codes(await admin(VERIFY_HEAD, {"head": {"seq": 1, "hash": "x"}})) == ["VALIDATION_FAILED"]

    assert data(await admin(QUALIFY, {"user": staff_id}), "setStaffQualification")["__typename"] == "MedicineDone"
    assert [e["seq"] for e in oldest_first(await staff(LOG, {"cabinet": cabinet}))] == [entry["seq"]]


async def test_another_municipality_neither_opens_nor_reads_a_cabinet(server: Server, world: World) -> None:
    a = await register(server, world.a.admin_email, locker="M2")
    assert data(await a.admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    recipient = data(await a.admin(RECIPIENT, {"ref": "BR-7"}), "addCareRecipient")["id"]
    data(await a.admin(CABINET, {"locker": a.locker_id, "recipient": recipient}), "addMedicineCabinet")
    b = await register(server, world.b.admin_email, locker="M3")
    assert data(await b.admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    answer = data(await b.admin(OPEN, {"id": a.compartments["1"]}), "openCabinetCompartment")
    assert answer["code"] == "NOT_FOUND"
    [attempt] = data(await b.admin(AUDIT, {"action": "medicine_cabinets.open_denied"}), "auditLog")["nodes"]
    assert attempt["action"] == "medicine_cabinets.open_denied"
    stolen = data(await b.admin(CABINET, {"locker": a.locker_id, "recipient": recipient}), "addMedicineCabinet")
    assert stolen["code"] == "NOT_FOUND"
    assert oldest_first(await b.admin(LOG, {"cabinet": None})) == []
    assert data(await b.admin(CHECK), "medicationLogCheck")["checkedAt"] is None


pytestmark = pytest.mark.usefixtures("server")
