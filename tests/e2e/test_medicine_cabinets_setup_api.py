"""Medicine cabinets set-up through GraphQL on a running ``samverka serve``: a tenant admin assigns
a staff member for a week at once, the staff member sees today's cabinet in ``myCabinetsToday``,
set-up lists are for admins only, and removing is typed: a care recipient with a cabinet is a
conflict until the cabinet has gone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.lib import local_day
from tests.conftest import Server, World, login
from tests.e2e.test_lockers_api import codes, data, register
from tests.e2e.test_medicine_cabinets_api import CABINET, ENABLE, ME, RECIPIENT

WEEK = """mutation($user: ID!, $recipient: ID!, $day: Date!, $last: Date) {
  assignStaff(userId: $user, careRecipientId: $recipient, day: $day, lastDay: $last) {
  __typename ... on Error { code message } } }"""
UNASSIGN = """mutation($user: ID!, $recipient: ID!, $day: Date!) {
  unassignStaff(userId: $user, careRecipientId: $recipient, day: $day) { __typename ... on Error { code } } }"""
ASSIGNMENTS = """query($day: Date!, $last: Date) { cabinetAssignments(day: $day, lastDay: $last) {
  userId careRecipientReference day } }"""
MINE = "{ myCabinetsToday { id careRecipientReference online compartments { key nurseOnly } } }"
CABINETS = "{ medicineCabinets { id lockerId responsibleNurseId compartments { key nurseOnly } } }"
RECIPIENTS = "{ careRecipients { id reference hasCabinet } }"
REMOVE_RECIPIENT = """mutation($id: ID!) { removeCareRecipient(careRecipientId: $id) {
  __typename ... on Error { code message } } }"""
REMOVE_CABINET = """mutation($id: ID!) { removeMedicineCabinet(cabinetId: $id) { __typename ... on Error { code } } }"""


async def test_a_week_assigned_at_once_shows_in_my_cabinets_today_and_removal_goes_cabinet_first(
    server: Server, world: World
) -> None:
    r = await register(server, world.a.admin_email, locker="S1")
    admin = r.admin
    assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    recipient = data(await admin(RECIPIENT, {"ref": "BR-V1"}), "addCareRecipient")["id"]
    cabinet = data(await admin(CABINET, {"locker": r.locker_id, "recipient": recipient}), "addMedicineCabinet")["id"]
    staff = await login(server, world.a.staff_email)
    staff_id = data(await staff(ME), "me")["user"]["id"]
    today = local_day()
    week = {"user": staff_id, "recipient": recipient, "day": today.isoformat(),
            "last": (today + timedelta(days=6)).isoformat()}  # fmt: skip
    assert data(await admin(WEEK, week), "assignStaff")["__typename"] == "MedicineDone"
    assert len(data(await admin(ASSIGNMENTS, {"day": week["day"], "last": week["last"]}), "cabinetAssignments")) == 7
    backwards = data(await admin(WEEK, {**week, "day": week["last"], "last": week["day"]}), "assignStaff")
    assert backwards["code"] == "VALIDATION_FAILED"

    [mine] = data(await staff(MINE), "myCabinetsToday")
    assert (mine["id"], mine["careRecipientReference"], [c["key"] for c in mine["compartments"]]) == (
        cabinet, "BR-V1", ["1", "2"],
    )  # fmt: skip
    assert codes(await staff(CABINETS)) == ["PERMISSION_DENIED"]
    [listed] = data(await admin(CABINETS), "medicineCabinets")
    assert (listed["lockerId"], listed["responsibleNurseId"]) == (r.locker_id, None)

    assert data(await admin(UNASSIGN, {**week, "day": week["day"]}), "unassignStaff")["__typename"] == "MedicineDone"
    assert data(await staff(MINE), "myCabinetsToday") == []
    assert data(await admin(REMOVE_RECIPIENT, {"id": recipient}), "removeCareRecipient")["code"] == "CONFLICT"
    assert data(await admin(REMOVE_CABINET, {"id": cabinet}), "removeMedicineCabinet")["__typename"] == "MedicineDone"
    assert data(await admin(REMOVE_RECIPIENT, {"id": recipient}), "removeCareRecipient")["__typename"] == "MedicineDone"
    assert data(await admin(RECIPIENTS), "careRecipients") == []


pytestmark = pytest.mark.usefixtures("server")


CONFIGURE = """mutation($on: Boolean!) { configurePlugin(pluginId: "medicine_cabinets",
  config: {personal_identity_numbers: $on}) { __typename ... on Error { code message } } }"""
WITH_NUMBER = """mutation($ref: String!, $pin: String) {
  addCareRecipient(reference: $ref, personalIdentityNumber: $pin) {
  __typename ... on MedicineCreated { id } ... on ValidationFailedError { code message fields { field } } } }"""
NUMBERS = "{ careRecipients { reference personalIdentityNumber } }"


async def test_personal_identity_numbers_only_when_turned_on_shown_to_admins_and_nurses_and_erased_when_off(
    server: Server, world: World
) -> None:
    admin = await login(server, world.a.admin_email)
    staff = await login(server, world.a.staff_email)
    await register(server, world.a.admin_email, locker="S2")  # lockers on: medicine cabinets depend on it
    assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
    off = data(await admin(WITH_NUMBER, {"ref": "BR-P1", "pin": "19121212-1212"}), "addCareRecipient")
    assert (off["code"], off["fields"]) == ("VALIDATION_FAILED", [{"field": "personalIdentityNumber"}])
    assert "personal_identity_numbers" in off["message"]

    assert data(await admin(CONFIGURE, {"on": True}), "configurePlugin")["__typename"] == "PluginInfo"
    created = data(await admin(WITH_NUMBER, {"ref": "BR-P1", "pin": "19121212-1212"}), "addCareRecipient")
    assert created["__typename"] == "MedicineCreated", created
    assert data(await admin(NUMBERS), "careRecipients") == [
        {"reference": "BR-P1", "personalIdentityNumber": "191212121212"}
    ]
    assert codes(await staff(NUMBERS)) == ["PERMISSION_DENIED"]

    assert data(await admin(CONFIGURE, {"on": False}), "configurePlugin")["__typename"] == "PluginInfo"
    assert data(await admin(CONFIGURE, {"on": True}), "configurePlugin")["__typename"] == "PluginInfo"
    assert data(await admin(NUMBERS), "careRecipients") == [{"reference": "BR-P1", "personalIdentityNumber": None}]
