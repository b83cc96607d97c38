"""The plugin's id, its per-tenant settings, and how its own code reads them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from backend import plugin_api as api

PLUGIN_ID = "medicine_cabinets"


class MedicineCabinetsConfig(msgspec.Struct, forbid_unknown_fields=True):
    # A door opening this long after an authorised request still counts as that request's.
    authorised_window_s: float = 60.0
    # How long a staff member's open request waits for the cabinet.
    open_timeout_s: float = 10.0
    personal_identity_numbers: Annotated[
        bool,
        msgspec.Meta(
            description="Keep an optional personal identity number per care recipient (off: none is kept; "
            "turning it off erases them)."
        ),
    ] = False
    alert_email: Annotated[
        str,
        msgspec.Meta(
            max_length=320,
            description="Who hears of an unauthorised opening at a cabinet with no responsible nurse who can be "
            "e-mailed (empty: the municipality's tenant admins).",
        ),
    ] = ""


async def load(scope: api.Scope) -> MedicineCabinetsConfig:
    """This tenant's settings (defaults filled in)."""
    from plugins.medicine_cabinets.plugin import PLUGIN  # the plugin object imports the modules that read settings

    settings = await api.plugin_settings(scope, PLUGIN)
    return settings if isinstance(settings, MedicineCabinetsConfig) else MedicineCabinetsConfig()
