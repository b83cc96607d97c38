"""Alarms for unauthorised openings: raised with the log entry, sent to someone who can act (the
cabinet's responsible nurse, else the municipality's alert address, else its tenant admins; never
dropped), listed for nurses and admins until one of them acknowledges it, which appends an
``alarm_acknowledged`` entry to the log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.medicine_cabinets import config, identity, log
from tenants import audit
from tenants.access import Actor

# Only a member of this municipality is told (app_user itself is not tenant-scoped).
NURSE = """
SELECT u.email FROM app_user u
WHERE u.id = $2 AND NOT u.disabled
  AND EXISTS (SELECT 1 FROM membership m WHERE m.tenant_id = $1 AND m.user_id = u.id)
"""
ADMINS = """
SELECT DISTINCT u.email FROM app_user u JOIN membership m ON m.user_id = u.id
WHERE m.tenant_id = $1 AND m.role = 'tenant_admin' AND NOT u.disabled ORDER BY u.email
"""
LIST = """
SELECT a.log_seq, a.raised_at, a.notified, a.acknowledged_at, a.acknowledged_by, a.acknowledgement_seq,
       l.cabinet_id, l.compartment_id, l.recipient_id
FROM medicine_cabinets_alarm a
JOIN medicine_cabinets_log l ON l.tenant_id = a.tenant_id AND l.seq = a.log_seq
WHERE a.tenant_id = $1 AND ($2 OR a.acknowledged_at IS NULL)
ORDER BY a.raised_at, a.log_seq
"""
NOTE_LIMIT = 400
PAGE = f"/web/plugins/{config.PLUGIN_ID}/alarms"  # where nurses and admins acknowledge them (named in the e-mail)


@dataclass(frozen=True)
class Alarm:
    log_seq: int
    raised_at: datetime
    notified: str  # responsible_nurse | alert_address | tenant_admins | nobody
    acknowledged_at: datetime | None
    acknowledged_by: UUID | None
    acknowledgement_seq: int | None
    cabinet_id: UUID | None
    compartment_id: UUID | None
    recipient_id: UUID | None


async def recipients_of(scope: api.Scope, nurse_id: UUID | None) -> tuple[str, list[str]]:
    """Who hears of an alarm at a cabinet with this responsible nurse, and as what."""
    email = await scope.connection.fetchval(NURSE, scope.tenant, nurse_id) if nurse_id else None
    if email:
        return "responsible_nurse", [email]
    address = (await config.load(scope)).alert_email.strip()
    if address:
        return "alert_address", [address]
    admins = [r["email"] for r in await scope.connection.fetch(ADMINS, scope.tenant)]
    return ("tenant_admins", admins) if admins else ("nobody", [])


async def raise_alarm(scope: api.Scope, seq: int, cab: Any, at: datetime) -> str:
    """Record the alarm of log entry ``seq`` and send it; to whom (``Alarm.notified``)."""
    notified, addresses = await recipients_of(scope, cab["responsible_nurse_id"])
    await scope.connection.execute(
        "INSERT INTO medicine_cabinets_alarm (tenant_id, log_seq, raised_at, notified) VALUES ($1, $2, $3, $4)",
        scope.tenant, seq, at, notified,
    )  # fmt: skip
    key = cab["compartment_key"]
    for address in addresses:
        await api.notify(
            scope,
            channel="email",
            to=address,
            subject="Läkemedelsskåp öppnat utan behörighet / Medicine cabinet opened without authorisation",
            body=(
                f"Fack {key} öppnades utan godkänd begäran. Kontrollera skåpet och loggen och kvittera larmet "
                f"(post {seq}) på sidan Läkemedelslarm i Samverka ({PAGE}).\nCompartment {key} was opened without "
                f"an authorised request. Check the cabinet and the log, and acknowledge the alarm (entry {seq}) on "
                f"the Medication alarms page in Samverka ({PAGE})."
            ),
            topic="medicine_cabinets.unauthorised_opening",
            subject_kind="medicine_cabinet",
            subject_id=cab["cabinet_id"],
        )
    return notified


async def alarms(scope: api.Scope, *, include_acknowledged: bool = False) -> list[Alarm]:
    """Open alarms (and, if asked, the acknowledged ones), oldest first."""
    return [Alarm(**dict(r)) for r in await scope.connection.fetch(LIST, scope.tenant, include_acknowledged)]


async def acknowledge(scope: api.Scope, seq: int, note: str, *, actor: Actor, now: datetime) -> int:
    """A nurse or admin has dealt with alarm ``seq``: the note goes into the log; its entry."""
    text = note.strip()
    if not text or len(text) > NOTE_LIMIT or identity.contains_number(text):
        raise api.ValidationFailed.on(
            "note",
            f"Skriv vad som gjordes (1-{NOTE_LIMIT} tecken, inga personnummer). "
            f"/ Say what was done (1-{NOTE_LIMIT} characters, no personal identity numbers).",
        )
    row = await scope.connection.fetchrow(
        """SELECT a.acknowledged_at, l.cabinet_id, l.compartment_id, l.recipient_id
           FROM medicine_cabinets_alarm a
           JOIN medicine_cabinets_log l ON l.tenant_id = a.tenant_id AND l.seq = a.log_seq
           WHERE a.tenant_id = $1 AND a.log_seq = $2 FOR UPDATE OF a""",
        scope.tenant, seq,
    )  # fmt: skip
    if row is None:
        raise api.NotFound("Medication alarm", seq)
    if row["acknowledged_at"] is not None:
        raise api.Conflict("Larmet är redan kvitterat. / This alarm is already acknowledged.")
    entry = await log.append(
        scope, kind="alarm_acknowledged", at=now, cabinet_id=row["cabinet_id"], compartment_id=row["compartment_id"],
        recipient_id=row["recipient_id"], staff_user_id=actor.id, detail=f"alarm {seq}: {text}",
    )  # fmt: skip
    await scope.connection.execute(
        """UPDATE medicine_cabinets_alarm SET acknowledged_at = $3, acknowledged_by = $4, acknowledgement_seq = $5
           WHERE tenant_id = $1 AND log_seq = $2""",
        scope.tenant, seq, now, actor.id, entry,
    )  # fmt: skip
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.alarm_acknowledged", target_kind="medication_alarm",
        target_id=seq, details={"log_seq": entry},
    )  # fmt: skip
    return entry
