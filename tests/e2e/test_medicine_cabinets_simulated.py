"""Medicine cabinets through real simulated hardware: a Kylbox simulator (OPC UA) -> the real
gateway -> Redis -> ``samverka worker`` (lockers ingest + the medicine cabinets hook), and
GraphQL on ``samverka serve`` for the staff member's phone.

An assigned staff member opens a compartment (the gateway confirms, the door stands open); a
nurse-only compartment refuses them and nothing opens; a door forced open at the cabinet with no
request is logged as an unauthorised opening and audited.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from backend.lib import local_day
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from tests.conftest import Server, World, login
from tests.e2e.simulated_locker import online, register_simulated
from tests.e2e.test_lockers_api import AUDIT, data, eventually
from tests.e2e.test_medicine_cabinets_api import CABINET, ENABLE, LOG, ME, QUALIFY, RECIPIENT
from tests.integration.gateway_support import running_gateway, write_config

LOCKERS_ON = """mutation { enablePlugin(pluginId: "lockers", config: {open_timeout_s: 10}) { __typename } }"""
ASSIGN = """mutation($user: ID!, $recipient: ID!, $day: Date!) {
  assignStaff(userId: $user, careRecipientId: $recipient, day: $day) { __typename ... on Error { code message } } }"""
RESTRICT = """mutation($id: ID!) { restrictCabinetCompartment(compartmentId: $id) {
  __typename ... on Error { code message } } }"""
ALARMS = "{ medicationAlarms { seq notified acknowledgedAt } }"
ACK = """mutation($seq: Int!, $note: String!) { acknowledgeMedicationAlarm(seq: $seq, note: $note) {
  __typename ... on MedicationAlarmAcknowledged { logSeq } ... on Error { code message } } }"""
OPENED = """mutation($id: ID!) { openCabinetCompartment(compartmentId: $id) {
  __typename ... on CabinetOpened { requestId logSeq } ... on CabinetRefused { reason message }
  ... on CabinetFailed { detail } ... on Error { code message } } }"""


async def test_an_assigned_opening_a_refused_one_and_a_forced_door_at_a_simulated_cabinet(
    server: Server, world: World, tmp_path: Path
) -> None:
    sim = KylboxSimulator(SimulatorSpec(vendor="kylbox", compartments=3, tick_s=0.25, physics=PhysicsParams(noise_c=0)))
    await sim.start()
    try:
        admin = await login(server, world.a.admin_email)
        staff = await login(server, world.a.staff_email)
        assert data(await admin(LOCKERS_ON), "enablePlugin")["__typename"] == "PluginInfo"
        assert data(await admin(ENABLE), "enablePlugin")["__typename"] == "PluginInfo"
        tag = uuid.uuid4().hex[:6]
        simulated = await register_simulated(admin, sim, "Läkemedelsskåp")
        ids, locker = simulated.compartments, simulated.model
        recipient = data(await admin(RECIPIENT, {"ref": f"BR-{tag}"}), "addCareRecipient")["id"]
        cabinet = data(await admin(CABINET, {"locker": simulated.locker_id, "recipient": recipient}),
                       "addMedicineCabinet")["id"]  # fmt: skip
        staff_id = data(await staff(ME), "me")["user"]["id"]
        today = local_day().isoformat()
        answer = data(await admin(ASSIGN, {"user": staff_id, "recipient": recipient, "day": today}), "assignStaff")
        assert answer["__typename"] == "MedicineDone", answer
        assert data(await admin(RESTRICT, {"id": ids[2]}), "restrictCabinetCompartment")["__typename"] == "MedicineDone"

        endpoints = [{"id": simulated.endpoint_id, "url": sim.url, "profile": "kylbox"}]
        gateway = write_config(tmp_path, server.settings.redis_url or "", endpoints)
        async with running_gateway(gateway):
            assert await online(admin, simulated), "the cabinet never came online"
            opened = data(await staff(OPENED, {"id": ids[1]}), "openCabinetCompartment")
            assert opened["__typename"] == "CabinetOpened", opened
            assert locker.compartments[1].door_open

            refused = data(await staff(OPENED, {"id": ids[2]}), "openCabinetCompartment")
            assert (refused["__typename"], refused["reason"]) == ("CabinetRefused", "nurse_only")
            assert not locker.compartments[2].door_open

            await sim.open_door(3, by="key")

            async def forced() -> list[dict[str, Any]]:
                rows = data(await admin(LOG, {"cabinet": cabinet}), "medicationLog")
                return rows if any(r["kind"] == "unauthorised_opening" for r in rows) else []

            log = await eventually(forced, 30)
            assert [r["kind"] for r in log] == ["opened", "refused", "unauthorised_opening"], log
            audit = data(await admin(AUDIT, {"action": "medicine_cabinets.unauthorised_opening"}), "auditLog")
            assert len(audit["nodes"]) == 1
            # a nurse may read it too
            assert (
                data(await admin(QUALIFY, {"user": staff_id}), "setStaffQualification")["__typename"] == "MedicineDone"
            )
            assert len(data(await staff(LOG, {"cabinet": cabinet}), "medicationLog")) == 3
            # the alarm: no responsible nurse, so the tenant admins were told; open until acknowledged
            [alarm] = data(await staff(ALARMS), "medicationAlarms")
            assert (alarm["notified"], alarm["seq"]) == ("tenant_admins", log[-1]["seq"])
            done = data(await staff(ACK, {"seq": alarm["seq"], "note": "Nyckel använd av anhörig."}),
                        "acknowledgeMedicationAlarm")  # fmt: skip
            assert done["__typename"] == "MedicationAlarmAcknowledged", done
            assert data(await admin(ALARMS), "medicationAlarms") == []
            kinds = [r["kind"] for r in data(await admin(LOG, {"cabinet": cabinet}), "medicationLog")]
            assert kinds[-1] == "alarm_acknowledged"
    finally:
        await sim.stop()


pytestmark = pytest.mark.usefixtures("server")
