"""The buyer of a joint procurement: the federation's administrators, or the administrators of the
municipality that leads it. Only the buyer evaluates, awards and signs."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.procurement.access import ADMINS, WRITE_SCOPE
from plugins.procurement.federation import Caller


async def procurement(scope: api.Scope, procurement_id: UUID, *, lock: bool = False) -> Any:
    """The procurement row (locked for the rest of the transaction with ``lock``)."""
    row = await scope.connection.fetchrow(
        "SELECT * FROM procurement WHERE id = $1" + (" FOR UPDATE" if lock else ""), procurement_id
    )
    if row is None:
        raise api.NotFound("Procurement", procurement_id)
    return row


def is_buyer(c: Caller, row: Any) -> bool:
    if c.federation_admin:
        return True
    lead = row["lead_municipality_id"]
    if lead is None or c.municipality_id != lead:
        return False
    try:
        api.check_access(c.principal, roles=ADMINS, scope=WRITE_SCOPE)
    except api.PermissionDenied:
        return False
    return True


def require_buyer(c: Caller, row: Any) -> None:
    if not is_buyer(c, row):
        raise api.PermissionDenied(
            "Only the buyer does this: the federation's administrators, or the administrators of the municipality "
            "that leads the procurement (choose it with the header X-Samverka-Tenant)."
        )


async def buyer_procurement(scope: api.Scope, c: Caller, procurement_id: UUID, *, lock: bool = False) -> Any:
    row = await procurement(scope, procurement_id, lock=lock)
    require_buyer(c, row)
    return row
