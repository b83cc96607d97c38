"""The alarms half of the plugin's GraphQL roots: unauthorised openings listed for tenant admins
and nurses until one of them acknowledges the alarm with a note (which goes into the log)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.medicine_cabinets import alarms
from plugins.medicine_cabinets.graphql_access import admin_or_nurse


def _id(value: UUID | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(
    description="A cabinet opened without an authorised request. `notified`: responsible_nurse, alert_address, "
    "tenant_admins or nobody (then only this list shows it). Open until a nurse or admin acknowledges it."
)
class MedicationAlarm:
    seq: int = strawberry.field(description="The unauthorised opening's entry in the medication log.")
    raised_at: datetime
    notified: str
    cabinet_id: strawberry.ID | None
    compartment_id: strawberry.ID | None
    care_recipient_id: strawberry.ID | None
    acknowledged_at: datetime | None
    acknowledged_by: strawberry.ID | None
    acknowledgement_seq: int | None

    @classmethod
    def of(cls, a: alarms.Alarm) -> MedicationAlarm:
        return cls(
            seq=a.log_seq, raised_at=a.raised_at, notified=a.notified, cabinet_id=_id(a.cabinet_id),
            compartment_id=_id(a.compartment_id), care_recipient_id=_id(a.recipient_id),
            acknowledged_at=a.acknowledged_at, acknowledged_by=_id(a.acknowledged_by),
            acknowledgement_seq=a.acknowledgement_seq,
        )  # fmt: skip


@strawberry.type(description="The alarm is acknowledged; the acknowledgement's entry in the medication log.")
class MedicationAlarmAcknowledged:
    log_seq: int


AcknowledgeResult = Annotated[
    MedicationAlarmAcknowledged | api.Errors, strawberry.union("AcknowledgeMedicationAlarmResult")
]


@strawberry.type
class AlarmQuery:
    @api.field(description="Unauthorised openings not yet acknowledged (tenant admins and nurses), oldest first.")
    async def medication_alarms(self, info: api.Info, include_acknowledged: bool = False) -> list[MedicationAlarm]:
        tenant = await admin_or_nurse(info)
        async with api.database(info).tenant(tenant) as scope:
            rows = await alarms.alarms(scope, include_acknowledged=include_acknowledged)
        return [MedicationAlarm.of(a) for a in rows]


@strawberry.type
class AlarmMutation:
    @api.mutation(description="Acknowledge an alarm with a note of what was done; the note goes into the log.")
    @api.errors_as_data
    async def acknowledge_medication_alarm(self, info: api.Info, seq: int, note: str) -> AcknowledgeResult:
        tenant = await admin_or_nurse(info)
        async with api.database(info).tenant(tenant) as scope:
            entry = await alarms.acknowledge(scope, seq, note, actor=info.context.principal.actor, now=utcnow())
        return MedicationAlarmAcknowledged(log_seq=entry)


ALARM_TYPES: tuple[type, ...] = (MedicationAlarm, MedicationAlarmAcknowledged)
