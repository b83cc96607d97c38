"""The lockers plugin's per-tenant settings, and how its own code reads them."""

from __future__ import annotations

from typing import Annotated, cast

import msgspec

from backend import plugin_api as api

PLUGIN_ID = "lockers"


class LockersConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    door_ajar_limit_s: Annotated[
        int, msgspec.Meta(ge=1, le=86_400, description="Raise a door-ajar alarm when a door stays open this long (s).")
    ] = 120
    temperature_excursion_limit_s: Annotated[
        int,
        msgspec.Meta(
            ge=0,
            le=86_400,
            description="Raise a temperature alarm when a compartment stays outside its class's band this long (s).",
        ),
    ] = 600
    open_timeout_s: Annotated[
        float, msgspec.Meta(gt=0, le=60, description="How long openCompartment waits for the locker to confirm (s).")
    ] = 10.0


async def load(scope: api.Scope) -> LockersConfig:
    """This tenant's settings (defaults filled in)."""
    from plugins.lockers.plugin import PLUGIN  # the plugin object imports the modules that read settings

    return cast(LockersConfig, await api.plugin_settings(scope, PLUGIN))
