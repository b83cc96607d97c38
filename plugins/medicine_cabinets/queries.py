"""Reading the cabinets a staff member may open today (the phone page and ``myCabinetsToday``):
the cabinets of the care recipients the user is assigned to on ``day``, with their compartments,
whether each is nurse-only, and whether the cabinet's locker is online."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from backend import plugin_api as api

TODAY = """
SELECT cab.id AS cabinet_id, cab.recipient_id, r.reference, l.id AS locker_id, l.name AS locker_name,
       l.connectivity, c.id AS compartment_id, c.compartment_key, c.door_open, c.locked,
       EXISTS (SELECT 1 FROM medicine_cabinets_restriction x
               WHERE x.tenant_id = c.tenant_id AND x.compartment_id = c.id) AS restricted
FROM medicine_cabinets_assignment a
JOIN medicine_cabinets_recipient r ON r.tenant_id = a.tenant_id AND r.id = a.recipient_id
JOIN medicine_cabinets_cabinet cab ON cab.tenant_id = a.tenant_id AND cab.recipient_id = a.recipient_id
JOIN lockers_locker l ON l.tenant_id = cab.tenant_id AND l.id = cab.locker_id
JOIN lockers_compartment c ON c.tenant_id = l.tenant_id AND c.locker_id = l.id
WHERE a.tenant_id = $1 AND a.user_id = $2 AND a.day = $3
ORDER BY r.reference, l.name, cab.id, c.compartment_key
"""


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


async def todays_cabinets(scope: api.Scope, user_id: UUID, day: date) -> list[CabinetView]:
    """The cabinets ``user_id`` is assigned to on ``day`` (a nurse-only compartment is listed
    with ``restricted``; whether the user may open it is decided when they try)."""
    rows = await scope.connection.fetch(TODAY, scope.tenant, user_id, day)
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
            )
            parts[r["cabinet_id"]] = []
        parts[r["cabinet_id"]].append(
            CompartmentView(r["compartment_id"], r["compartment_key"], r["restricted"], r["door_open"], r["locked"])
        )
    return [
        CabinetView(**{**c.__dict__, "compartments": tuple(parts[c.id])})  # type: ignore[arg-type]
        for c in cabinets.values()
    ]
