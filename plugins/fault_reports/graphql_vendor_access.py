"""Who a vendor user is: the federation and the procurement vendor (organisation) they act for."""

from __future__ import annotations

from uuid import UUID

from backend import plugin_api as api
from plugins.fault_reports import routing
from tenants.access import require_signed_in


async def vendor_of(info: api.Info) -> tuple[UUID, UUID]:
    """(federation, vendor) of a signed-in vendor user; PermissionDenied for anyone else."""
    p = info.context.principal
    require_signed_in(p)
    db = api.database(info)
    if p.federation_id is None or p.user_id is None or not await routing.procurement_installed(db):
        raise api.PermissionDenied("Only vendor accounts see the faults routed to their organisation.")
    async with db.federation(p.federation_id) as scope:
        vendor = await scope.connection.fetchval(
            "SELECT vendor_id FROM procurement_vendor_member WHERE federation_id = $1 AND user_id = $2",
            p.federation_id,
            p.user_id,
        )
    if vendor is None:
        raise api.PermissionDenied("Only vendor accounts see the faults routed to their organisation.")
    return p.federation_id, UUID(str(vendor))
