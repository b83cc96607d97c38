"""The procurement plugin's per-municipality settings."""

from __future__ import annotations

from typing import Annotated, cast

import msgspec

from backend import plugin_api as api

PLUGIN_ID = "procurement"


class ProcurementConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    contact_email: Annotated[
        str, msgspec.Meta(max_length=320, description="Who in the municipality answers for its procurements.")
    ] = ""


async def load(scope: api.Scope) -> ProcurementConfig:
    from plugins.procurement.plugin import PLUGIN

    return cast(ProcurementConfig, await api.plugin_settings(scope, PLUGIN))
