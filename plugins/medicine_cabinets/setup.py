"""Changing and removing set-up data (tenant admins): unassigning, lifting a restriction,
changing a cabinet's responsible nurse, removing a cabinet (its log entries stay) and removing a
care recipient (refused while it has a cabinet; its assignments go). Each change is audited; a
refusal is a typed error that changes nothing and records nothing."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from backend import plugin_api as api
from plugins.medicine_cabinets.service import days_between, require_member, require_recipient
from tenants import audit
from tenants.access import Actor


async def unassign(
    scope: api.Scope, user_id: UUID, recipient_id: UUID, day: date, *, actor: Actor, last_day: date | None = None
) -> int:
    """Take a staff member off a care recipient on ``day`` (through ``last_day``); how many days."""
    days_between(day, last_day)
    removed = await scope.connection.fetchval(
        """WITH gone AS (
             DELETE FROM medicine_cabinets_assignment
             WHERE tenant_id = $1 AND user_id = $2 AND recipient_id = $3 AND day BETWEEN $4 AND $5 RETURNING 1)
           SELECT count(*) FROM gone""",
        scope.tenant, user_id, recipient_id, day, last_day or day,
    )  # fmt: skip
    if not removed:
        raise api.NotFound("Assignment", f"{user_id} {recipient_id} {day.isoformat()}")
    details = {"recipient_id": str(recipient_id), "day": day.isoformat(), "days": int(removed)}
    if last_day is not None:
        details["last_day"] = last_day.isoformat()
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.unassigned", target_kind="user", target_id=user_id,
        details=details,
    )  # fmt: skip
    return int(removed)


async def unrestrict(scope: api.Scope, compartment_id: UUID, *, actor: Actor) -> None:
    """Let any assigned staff member open a compartment again."""
    gone = await scope.connection.execute(
        "DELETE FROM medicine_cabinets_restriction WHERE tenant_id = $1 AND compartment_id = $2",
        scope.tenant, compartment_id,
    )  # fmt: skip
    if gone == "DELETE 0":
        raise api.NotFound("Nurse-only compartment", compartment_id)
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.unrestricted", target_kind="locker_compartment",
        target_id=compartment_id,
    )  # fmt: skip


async def set_responsible_nurse(scope: api.Scope, cabinet_id: UUID, nurse_id: UUID | None, *, actor: Actor) -> None:
    """Who hears of an unauthorised opening at this cabinet (``None``: the municipality's alert address)."""
    if nurse_id is not None:
        await require_member(scope, nurse_id)
    changed = await scope.connection.execute(
        "UPDATE medicine_cabinets_cabinet SET responsible_nurse_id = $3 WHERE tenant_id = $1 AND id = $2",
        scope.tenant, cabinet_id, nurse_id,
    )  # fmt: skip
    if changed == "UPDATE 0":
        raise api.NotFound("Medicine cabinet", cabinet_id)
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.responsible_nurse_set", target_kind="medicine_cabinet",
        target_id=cabinet_id, details={"nurse_id": str(nurse_id) if nurse_id else None},
    )  # fmt: skip


async def remove_cabinet(scope: api.Scope, cabinet_id: UUID, *, actor: Actor) -> None:
    """The locker is no longer a medicine cabinet: its restrictions go, its log entries stay."""
    locker_id = await scope.connection.fetchval(
        "DELETE FROM medicine_cabinets_cabinet WHERE tenant_id = $1 AND id = $2 RETURNING locker_id",
        scope.tenant, cabinet_id,
    )  # fmt: skip
    if locker_id is None:
        raise api.NotFound("Medicine cabinet", cabinet_id)
    await scope.connection.execute(
        """DELETE FROM medicine_cabinets_restriction x USING lockers_compartment c
           WHERE x.tenant_id = $1 AND c.tenant_id = x.tenant_id AND c.id = x.compartment_id AND c.locker_id = $2""",
        scope.tenant, locker_id,
    )  # fmt: skip
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.cabinet_removed", target_kind="medicine_cabinet",
        target_id=cabinet_id, details={"locker_id": str(locker_id)},
    )  # fmt: skip


async def remove_recipient(scope: api.Scope, recipient_id: UUID, *, actor: Actor) -> None:
    """Forget a care recipient and its assignments; refused while a cabinet is theirs."""
    await require_recipient(scope, recipient_id)
    if await scope.connection.fetchval(
        "SELECT EXISTS (SELECT 1 FROM medicine_cabinets_cabinet WHERE tenant_id = $1 AND recipient_id = $2)",
        scope.tenant, recipient_id,
    ):  # fmt: skip
        raise api.Conflict("Ta bort brukarens skåp först. / Remove the care recipient's cabinet first.")
    assignments = await scope.connection.execute(
        "DELETE FROM medicine_cabinets_assignment WHERE tenant_id = $1 AND recipient_id = $2",
        scope.tenant, recipient_id,
    )  # fmt: skip
    await scope.connection.execute(
        "DELETE FROM medicine_cabinets_recipient WHERE tenant_id = $1 AND id = $2", scope.tenant, recipient_id
    )
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.recipient_removed", target_kind="care_recipient",
        target_id=recipient_id, details={"assignments_removed": int(assignments.split()[-1])},
    )  # fmt: skip
