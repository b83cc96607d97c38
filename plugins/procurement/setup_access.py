"""Who may see and manage a joint procurement at federation level: federation admins; people of
a member municipality that enabled procurement (reading); the lead municipality's admins
(managing the procurement it leads); vendors only through their own fields."""

from __future__ import annotations

from typing import Any

from backend import plugin_api as api
from backend.lib import PluginNotEnabled
from plugins.procurement import federation
from plugins.procurement.access import ADMINS, PEOPLE, READ_SCOPE, WRITE_SCOPE
from plugins.procurement.config import PLUGIN_ID
from plugins.procurement.federation import Caller
from tenants.access import Principal
from tenants.database import Database


async def acting(info: api.Info) -> Caller:
    """A resolver's caller; when it acts in a municipality (not as federation admin), that
    municipality must have enabled procurement."""
    return await acting_of(api.database(info), info.context.principal)


async def acting_of(db: Database, principal: Principal) -> Caller:
    """The same for ``principal`` (a resolver's or a web page's)."""
    c = await federation.caller_of(db, principal)
    if not c.federation_admin and c.municipality_id is not None:
        async with db.tenant(c.municipality_id) as scope:
            if not await api.plugin_enabled(scope, PLUGIN_ID):
                raise PluginNotEnabled(
                    f"The plugin '{PLUGIN_ID}' is not enabled in this municipality; "
                    "a tenant admin can enable it (mutation enablePlugin)."
                )
    return c


def require_member(c: Caller) -> None:
    """Federation admins, or people (or read tokens) of the member municipality chosen."""
    if c.federation_admin:
        return
    if c.municipality_id is None:
        if c.vendor_id is not None:
            raise api.PermissionDenied("Vendors see the published procurements in vendorProcurements.")
        raise api.PermissionDenied(
            "No municipality chosen: send the header 'X-Samverka-Tenant: <slug>' for one you belong to."
        )
    api.check_access(c.principal, roles=PEOPLE, scope=READ_SCOPE)


def require_manager(c: Caller, row: Any) -> None:
    """Federation admins, or the admins of the municipality that leads this procurement."""
    if c.federation_admin:
        return
    lead = row["lead_municipality_id"]
    if lead is not None and c.municipality_id == lead:
        api.check_access(c.principal, roles=ADMINS, scope=WRITE_SCOPE)
        return
    raise api.PermissionDenied(
        "Only federation administrators and the administrators of the lead municipality manage this procurement."
    )


def require_municipality_admin(c: Caller) -> Any:
    if c.municipality_id is None:
        raise api.PermissionDenied(
            "No municipality chosen: send the header 'X-Samverka-Tenant: <slug>' for one you belong to."
        )
    return api.check_access(c.principal, roles=ADMINS, scope=WRITE_SCOPE)
