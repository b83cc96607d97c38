"""Reading the set-up data for the municipality's planners: care recipients, staff with their
nurse qualification, and who is assigned to whom on which days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from backend import plugin_api as api


@dataclass(frozen=True)
class Recipient:
    id: UUID
    reference: str
    created_at: datetime
    has_cabinet: bool


@dataclass(frozen=True)
class Qualification:
    user_id: UUID
    name: str
    nurse: bool


@dataclass(frozen=True)
class Assignment:
    user_id: UUID
    user_name: str
    recipient_id: UUID
    recipient_reference: str
    day: date


async def recipients(scope: api.Scope) -> list[Recipient]:
    rows = await scope.connection.fetch(
        """SELECT r.id, r.reference, r.created_at,
                  EXISTS (SELECT 1 FROM medicine_cabinets_cabinet c
                          WHERE c.tenant_id = r.tenant_id AND c.recipient_id = r.id) AS has_cabinet
           FROM medicine_cabinets_recipient r WHERE r.tenant_id = $1 ORDER BY r.reference""",
        scope.tenant,
    )
    return [Recipient(**dict(r)) for r in rows]


async def qualifications(scope: api.Scope) -> list[Qualification]:
    """Every person who works in the municipality (staff and admins), nurse or not."""
    rows = await scope.connection.fetch(
        """SELECT u.id AS user_id, u.name, coalesce(q.nurse, false) AS nurse
           FROM app_user u
           LEFT JOIN medicine_cabinets_qualification q ON q.tenant_id = $1 AND q.user_id = u.id
           WHERE NOT u.disabled AND EXISTS (SELECT 1 FROM membership m WHERE m.tenant_id = $1 AND m.user_id = u.id
                                            AND m.role IN ('staff', 'tenant_admin'))
           ORDER BY u.name, u.id""",
        scope.tenant,
    )
    return [Qualification(**dict(r)) for r in rows]


async def assignments(scope: api.Scope, day: date, last_day: date | None = None) -> list[Assignment]:
    rows = await scope.connection.fetch(
        """SELECT a.user_id, u.name AS user_name, a.recipient_id, r.reference AS recipient_reference, a.day
           FROM medicine_cabinets_assignment a
           JOIN medicine_cabinets_recipient r ON r.tenant_id = a.tenant_id AND r.id = a.recipient_id
           JOIN app_user u ON u.id = a.user_id
           WHERE a.tenant_id = $1 AND a.day BETWEEN $2 AND $3
           ORDER BY a.day, r.reference, u.name, a.user_id""",
        scope.tenant,
        day,
        last_day or day,
    )
    return [Assignment(**dict(r)) for r in rows]
