"""The fault reports plugin's per-tenant settings: when the gateway reports a fault by itself."""

from __future__ import annotations

from typing import Annotated, cast

import msgspec

from backend import plugin_api as api


class FaultReportsConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    offline_minutes: Annotated[
        float, msgspec.Meta(ge=0.25, le=10080, description="A locker offline longer than this gets a fault (min).")
    ] = 30.0
    command_failures: Annotated[
        int, msgspec.Meta(ge=1, le=100, description="Failed commands to one locker within an hour that make a fault.")
    ] = 3
    lock_grace_minutes: Annotated[
        float,
        msgspec.Meta(ge=0.5, le=1440, description="A closed door still unlocked after this long gets a fault (min)."),
    ] = 2.0


async def load(scope: api.Scope) -> FaultReportsConfig:
    """This tenant's settings (defaults filled in)."""
    from plugins.fault_reports.plugin import PLUGIN  # the plugin object imports the modules that read settings

    return cast(FaultReportsConfig, await api.plugin_settings(scope, PLUGIN))
