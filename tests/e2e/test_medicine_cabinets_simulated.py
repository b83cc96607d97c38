"""Medicine cabinets through real simulated hardware: a Kylbox simulator (OPC UA) -> the real
gateway -> Redis -> ``samverka worker`` (lockers ingest + the medicine cabinets hook), and
GraphQL on ``samverka serve`` for the staff member's phone.

An assigned staff member opens a compartment (the gateway confirms, the door stands open); a
nurse-only compartment refuses them and nothing opens; a door forced open at the cabinet with no
request is logged as an unauthorised opening, audited and raised as an alarm that a nurse
acknowledges; and the log's chain, intact after all of it, names the entry someone with the owner
role altered behind the application's back.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from backend.lib import local_day
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.spec import SimulatorSpec
from tests.conftest import Server, World, login
from tests.e2e.simulated_locker import online, register_simulated
from tests.e2e.test_lockers_api import AUDIT, data, eventually
from tests.e2e.test_medicine_cabinets_api import CABINET, ENABLE, LOG, ME, QUALIFY, RECIPIENT, VERIFY, oldest_first
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
    server: Server, world: World, tmp_path: Path, owner: asyncpg.Connection
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
                rows = oldest_first(await admin(LOG, {"cabinet": cabinet}))
                return rows if any(r["kind"] == "unauthorised_opening" for r in rows) else []

            log = await eventually(forced, 30)
            assert [r["kind"] for r in log] == ["opened", "refused", "unauthorised_opening"], log
            audit = data(await admin(AUDIT, {"action": "medicine_cabinets.unauthorised_opening"}), "auditLog")
            assert len(audit["nodes"]) == 1
            # a nurse may read it too
            assert (
                data(await admin(QUALIFY, {"user": staff_id}), "setStaffQualification")["__typename"] == "MedicineDone"
            )
            assert len(oldest_first(await staff(LOG, {"cabinet": cabinet}))) == 3
            # the alarm: no responsible nurse, so the tenant admins were told; open until acknowledged
            [alarm] = data(await staff(ALARMS), "medicationAlarms")
            assert (alarm["notified"], alarm["seq"]) == ("tenant_admins", log[-1]["seq"])
            done = data(await staff(ACK, {"seq": alarm["seq"], "note": "Nyckel använd av anhörig."}),
                        "acknowledgeMedicationAlarm")  # fmt: skip
            assert done["__typename"] == "MedicationAlarmAcknowledged", done
            assert data(await admin(ALARMS), "medicationAlarms") == []
            entries = oldest_first(await admin(LOG, {"cabinet": cabinet}))
            assert entries[-1]["kind"] == "alarm_acknowledged"

        # The tamper check: intact after all of the above; an entry altered with the owner role
        # (trigger disabled, as only someone with database access could) is named by seq.
        verdict = data(await admin(VERIFY), "verifyMedicationLog")
        assert (verdict["intact"], verdict["checked"]) == (True, len(entries)), verdict
        opened_seq = entries[0]["seq"]
        await alter_entry(owner, world.a.id, opened_seq, "opened by someone else")
        broken = data(await staff(VERIFY), "verifyMedicationLog")
        assert (broken["intact"], broken["brokenSeq"]) == (False, opened_seq), broken
        assert str(opened_seq) in broken["reason"]
    finally:
        await sim.stop()


async def alter_entry(owner: asyncpg.Connection, tenant: uuid.UUID, seq: int, detail: str) -> None:
    """Change one committed log entry as the owner role, the append-only trigger off only meanwhile."""
    async with owner.transaction():
        await owner.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))  # RLS binds the owner too
        await owner.execute("ALTER TABLE medicine_cabinets_log DISABLE TRIGGER medicine_cabinets_log_append_only")
        changed = await owner.execute(
            "UPDATE medicine_cabinets_log SET detail = $3 WHERE tenant_id = $1 AND seq = $2", tenant, seq, detail
        )
        await owner.execute("ALTER TABLE medicine_cabinets_log ENABLE TRIGGER medicine_cabinets_log_append_only")
    assert changed == "UPDATE 1"


pytestmark = pytest.mark.usefixtures("server")
