"""Reading cabinets: the ones a staff member may open today (the phone page and
``myCabinetsToday``) and all of a municipality's (the set-up page and ``medicineCabinets``),
each with its compartments, whether each is nurse-only, and whether its locker is online."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from backend import plugin_api as api

SELECT = """
SELECT cab.id AS cabinet_id, cab.recipient_id, r.reference, cab.responsible_nurse_id,
       l.id AS locker_id, l.name AS locker_name,
       l.connectivity, c.id AS compartment_id, c.compartment_key, c.door_open, c.locked,
       EXISTS (SELECT 1 FROM medicine_cabinets_restriction x
               WHERE x.tenant_id = c.tenant_id AND x.compartment_id = c.id) AS restricted
FROM medicine_cabinets_cabinet cab
JOIN medicine_cabinets_recipient r ON r.tenant_id = cab.tenant_id AND r.id = cab.recipient_id
JOIN lockers_locker l ON l.tenant_id = cab.tenant_id AND l.id = cab.locker_id
JOIN lockers_compartment c ON c.tenant_id = l.tenant_id AND c.locker_id = l.id
"""
ORDER = " ORDER BY r.reference, l.name, cab.id, c.compartment_key"
TODAY = (
    SELECT
    + """JOIN medicine_cabinets_assignment a ON a.tenant_id = cab.tenant_id AND a.recipient_id = cab.recipient_id
WHERE a.tenant_id = $1 AND a.user_id = $2 AND a.day = $3"""
    + ORDER
)
ALL = SELECT + "WHERE cab.tenant_id = $1 AND ($2::uuid IS NULL OR cab.recipient_id = $2)" + ORDER


@dataclass(frozen=True)
class CompartmentView:
    id: UUID
    key: str
    restricted: bool
    door_open: bool | None
    locked: bool | None


@dataclass(frozen=True)
class CabinetView:
    id: UUID
    recipient_id: UUID
    recipient_reference: str
    locker_id: UUID
    locker_name: str
    online: bool
    compartments: tuple[CompartmentView, ...]
    responsible_nurse_id: UUID | None = None


def _grouped(rows: Sequence[Any]) -> list[CabinetView]:
    """One view per cabinet, its compartments in the rows' order."""
    cabinets: dict[UUID, CabinetView] = {}
    parts: dict[UUID, list[CompartmentView]] = {}
    for r in rows:
        if r["cabinet_id"] not in cabinets:
            cabinets[r["cabinet_id"]] = CabinetView(
                id=r["cabinet_id"],
                recipient_id=r["recipient_id"],
                recipient_reference=r["reference"],
                locker_id=r["locker_id"],
                locker_name=r["locker_name"],
                online=r["connectivity"] == "online",
                compartments=(),
                responsible_nurse_id=r["responsible_nurse_id"],
            )
            parts[r["cabinet_id"]] = []
        parts[r["cabinet_id"]].append(
            CompartmentView(r["compartment_id"], r["compartment_key"], r["restricted"], r["door_open"], r["locked"])
        )
    return [replace(c, compartments=tuple(parts[c.id])) for c in cabinets.values()]


async def todays_cabinets(scope: api.Scope, user_id: UUID, day: date) -> list[CabinetView]:
    """The cabinets ``user_id`` is assigned to on ``day`` (a nurse-only compartment is listed
    with ``restricted``; whether the user may open it is decided when they try)."""
    return _grouped(await scope.connection.fetch(TODAY, scope.tenant, user_id, day))


async def cabinets(scope: api.Scope, *, recipient_id: UUID | None = None) -> list[CabinetView]:
    """The municipality's cabinets (or one care recipient's)."""
    return _grouped(await scope.connection.fetch(ALL, scope.tenant, recipient_id))
