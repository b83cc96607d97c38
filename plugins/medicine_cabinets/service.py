"""Use cases: setting up recipients, cabinets, restrictions, qualifications and assignments
(tenant admins), and a staff member opening a cabinet compartment."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid4

from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import local_day
from plugins.lockers import commands
from plugins.medicine_cabinets import identity, log, recipients
from tenants import audit
from tenants.access import Actor
from tenants.database import Database

TARGET = """
SELECT c.id AS compartment_id, cab.id AS cabinet_id, cab.recipient_id, l.connectivity,
       EXISTS (SELECT 1 FROM medicine_cabinets_restriction r
               WHERE r.tenant_id = c.tenant_id AND r.compartment_id = c.id) AS restricted
FROM lockers_compartment c
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
JOIN medicine_cabinets_cabinet cab ON cab.tenant_id = c.tenant_id AND cab.locker_id = l.id
WHERE c.tenant_id = $1 AND c.id = $2
"""

REASONS = {
    "not_assigned": "Du är inte schemalagd hos den här personen i dag. / You are not assigned to this person today.",
    "nurse_only": "Facket får bara öppnas av sjuksköterska. / Only a nurse may open this compartment.",
    "offline": "Skåpet är inte uppkopplat; försök igen eller kontakta support. / The cabinet is offline; "
    "try again or contact support.",
}


@dataclass(frozen=True)
class Opened:
    request_id: UUID
    seq: int


@dataclass(frozen=True)
class Refused:
    code: str  # not_assigned | nurse_only | offline
    message: str
    seq: int


@dataclass(frozen=True)
class Failed:
    request_id: UUID
    detail: str
    seq: int


async def add_recipient(
    scope: api.Scope, reference: str, *, actor: Actor, personal_identity_number: str | None = None
) -> UUID:
    """A care recipient by an internal reference; a personal identity number only where the
    municipality turned them on (``recipients``), never as the reference."""
    ref = reference.strip()
    if not ref or len(ref) > 64 or not all(ch.isalnum() or ch in "._-" for ch in ref) or identity.contains_number(ref):
        raise api.ValidationFailed(
            "Ange en intern referens (1-64 tecken: bokstäver, siffror, . _ -), inte personnummer. "
            "/ Give an internal reference, not a personal identity number."
        )
    pin = await recipients.checked_number(scope, personal_identity_number) if personal_identity_number else None
    rid = uuid4()
    inserted = await scope.connection.fetchval(
        """INSERT INTO medicine_cabinets_recipient (tenant_id, id, reference, personal_identity_number)
           VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, reference) DO NOTHING RETURNING id""",
        scope.tenant, rid, ref, pin,
    )  # fmt: skip
    if inserted is None:
        raise api.Conflict("Referensen finns redan. / This reference is already in use.")
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.recipient_added", target_kind="care_recipient", target_id=rid,
        details={"personal_identity_number": "set"} if pin else None,
    )  # fmt: skip
    return rid


async def add_cabinet(
    scope: api.Scope, locker_id: UUID, recipient_id: UUID, *, nurse_id: UUID | None = None, actor: Actor
) -> UUID:
    exists = await scope.connection.fetchval(
        """SELECT (SELECT count(*) FROM lockers_locker WHERE tenant_id = $1 AND id = $2)
                + (SELECT count(*) FROM medicine_cabinets_recipient WHERE tenant_id = $1 AND id = $3)""",
        scope.tenant,
        locker_id,
        recipient_id,
    )
    if exists != 2:
        raise api.NotFound("Locker or care recipient", locker_id)
    if nurse_id is not None:
        await require_member(scope, nurse_id)
    cid = uuid4()
    inserted = await scope.connection.fetchval(
        """INSERT INTO medicine_cabinets_cabinet (tenant_id, id, locker_id, recipient_id, responsible_nurse_id)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, locker_id) DO NOTHING RETURNING id""",
        scope.tenant,
        cid,
        locker_id,
        recipient_id,
        nurse_id,
    )
    if inserted is None:
        raise api.Conflict("Skåpet hör redan till en brukare. / This locker is already a medicine cabinet.")
    await audit.record(
        scope,
        actor=actor,
        action="medicine_cabinets.cabinet_added",
        target_kind="medicine_cabinet",
        target_id=cid,
        details={"locker_id": str(locker_id)},
    )
    return cid


async def restrict(scope: api.Scope, compartment_id: UUID, *, actor: Actor) -> None:
    if not await scope.connection.fetchval(
        """SELECT EXISTS (SELECT 1 FROM lockers_compartment c JOIN medicine_cabinets_cabinet cab
                          ON cab.tenant_id = c.tenant_id AND cab.locker_id = c.locker_id
                          WHERE c.tenant_id = $1 AND c.id = $2)""",
        scope.tenant, compartment_id,
    ):  # fmt: skip
        raise api.NotFound("Medicine cabinet compartment", compartment_id)
    await scope.connection.execute(
        "INSERT INTO medicine_cabinets_restriction (tenant_id, compartment_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        scope.tenant,
        compartment_id,
    )
    await audit.record(
        scope,
        actor=actor,
        action="medicine_cabinets.restricted",
        target_kind="locker_compartment",
        target_id=compartment_id,
    )


async def qualify(scope: api.Scope, user_id: UUID, *, nurse: bool, actor: Actor) -> None:
    await require_member(scope, user_id)
    await scope.connection.execute(
        """INSERT INTO medicine_cabinets_qualification (tenant_id, user_id, nurse) VALUES ($1, $2, $3)
           ON CONFLICT (tenant_id, user_id) DO UPDATE SET nurse = excluded.nurse""",
        scope.tenant,
        user_id,
        nurse,
    )
    await audit.record(
        scope,
        actor=actor,
        action="medicine_cabinets.qualified",
        target_kind="user",
        target_id=user_id,
        details={"nurse": nurse},
    )


async def require_member(scope: api.Scope, user_id: UUID) -> None:
    """Not found unless ``user_id`` is a member of this municipality (app_user is not tenant-scoped)."""
    if not await scope.connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM membership WHERE tenant_id = $1 AND user_id = $2)", scope.tenant, user_id
    ):
        raise api.NotFound("User", user_id)


MAX_DAYS = 62  # a planner assigns a week or a month at once, not a year by mistake


def days_between(day: date, last_day: date | None) -> int:
    """How many days ``day`` to ``last_day`` (inclusive) cover; a typed error when out of order or too many."""
    count = ((last_day or day) - day).days + 1
    if count < 1:
        raise api.ValidationFailed.on("lastDay", "Sista dagen före första. / The last day is before the first.")
    if count > MAX_DAYS:
        raise api.ValidationFailed.on(
            "lastDay", f"Högst {MAX_DAYS} dagar åt gången. / At most {MAX_DAYS} days at once."
        )
    return count


async def require_recipient(scope: api.Scope, recipient_id: UUID) -> None:
    if not await scope.connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM medicine_cabinets_recipient WHERE tenant_id = $1 AND id = $2)",
        scope.tenant, recipient_id,
    ):  # fmt: skip
        raise api.NotFound("Care recipient", recipient_id)


async def assign(
    scope: api.Scope, user_id: UUID, recipient_id: UUID, day: date, *, actor: Actor, last_day: date | None = None
) -> int:
    """Assign a staff member to a care recipient on ``day`` (through ``last_day``: a week at once);
    how many days were newly assigned."""
    days_between(day, last_day)
    await require_member(scope, user_id)
    await require_recipient(scope, recipient_id)
    added = await scope.connection.fetchval(
        """WITH added AS (
             INSERT INTO medicine_cabinets_assignment (tenant_id, user_id, recipient_id, day)
             SELECT $1, $2, $3, d::date FROM generate_series($4::date, $5::date, interval '1 day') AS d
             ON CONFLICT DO NOTHING RETURNING 1)
           SELECT count(*) FROM added""",
        scope.tenant,
        user_id,
        recipient_id,
        day,
        last_day or day,
    )
    details = {"recipient_id": str(recipient_id), "day": day.isoformat()}
    if last_day is not None and last_day != day:
        details["last_day"] = last_day.isoformat()
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.assigned", target_kind="user", target_id=user_id, details=details
    )
    return int(added)


async def is_nurse(scope: api.Scope, user_id: UUID) -> bool:
    return bool(
        await scope.connection.fetchval(
            "SELECT nurse FROM medicine_cabinets_qualification WHERE tenant_id = $1 AND user_id = $2",
            scope.tenant,
            user_id,
        )
    )


async def open_compartment(
    db: Database,
    redis: Redis,
    tenant: UUID,
    compartment_id: UUID,
    *,
    actor: Actor,
    now: datetime,
    timeout_s: float = 10.0,
) -> Opened | Refused | Failed:
    """Check the staff member against today's assignment, the restriction and the cabinet's link;
    a refusal is logged and audited and sends nothing. Allowed: the unlock goes through lockers."""
    user = actor.id
    if user is None or actor.kind != "user":
        raise api.PermissionDenied("Bara personal med egen inloggning kan öppna läkemedelsskåp.")
    async with db.tenant(tenant) as scope:
        t = await scope.connection.fetchrow(TARGET, tenant, compartment_id)
        if t is None:
            raise api.NotFound("Medicine cabinet compartment", compartment_id)
        assigned = await scope.connection.fetchval(
            """SELECT EXISTS (SELECT 1 FROM medicine_cabinets_assignment
                              WHERE tenant_id = $1 AND user_id = $2 AND recipient_id = $3 AND day = $4)""",
            tenant,
            user,
            t["recipient_id"],
            local_day(now),  # the care worker's day in Sweden, not UTC's
        )
        code = (
            "not_assigned"
            if not assigned
            else "nurse_only"
            if t["restricted"] and not await is_nurse(scope, user)
            else "offline"
            if t["connectivity"] != "online"
            else None
        )
        where = {
            "cabinet_id": t["cabinet_id"],
            "compartment_id": compartment_id,
            "recipient_id": t["recipient_id"],
            "staff_user_id": user,
        }
        if code is not None:
            seq = await log.append(scope, kind="refused", at=now, detail=code, **where)
            await audit.record(
                scope,
                actor=actor,
                action="medicine_cabinets.open_refused",
                target_kind="locker_compartment",
                target_id=compartment_id,
                details={"reason": code},
            )
            return Refused(code, REASONS[code], seq)
        command = await commands.request_unlock(scope, compartment_id, actor=actor, timeout_s=timeout_s)
    outcome = await commands.send_and_wait(db, redis, tenant, command, actor=actor)
    async with db.tenant(tenant) as scope:
        ok = outcome.outcome == "confirmed"
        seq = await log.append(
            scope,
            kind="opened" if ok else "failed",
            at=outcome.completed_at or now,
            request_id=outcome.request_id,
            detail="" if ok else f"{outcome.outcome}: {outcome.detail}",
            **where,
        )
    return Opened(outcome.request_id, seq) if ok else Failed(outcome.request_id, outcome.detail, seq)
