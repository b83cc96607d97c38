"""The deliveries plugin's per-tenant settings, and how its own code reads them."""

from __future__ import annotations

from typing import Annotated, cast

import msgspec

from backend import plugin_api as api

PLUGIN_ID = "deliveries"


class DeliveriesConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    dropoff_grace_minutes: Annotated[
        float, msgspec.Meta(ge=0, le=1440, description="A drop-off code stays valid this long after the window (min).")
    ] = 60.0
    pickup_hours: Annotated[
        float, msgspec.Meta(ge=0.001, le=720, description="Time to pick up after the drop-off before it expires (h).")
    ] = 24.0
    return_hours: Annotated[
        float, msgspec.Meta(ge=0.001, le=720, description="Time for the sender to take an expired delivery back (h).")
    ] = 24.0
    reminder_hours: Annotated[
        float, msgspec.Meta(ge=0, le=720, description="Remind the recipient this long before the pickup deadline (h).")
    ] = 4.0
    max_window_hours: Annotated[
        int, msgspec.Meta(ge=1, le=336, description="The longest delivery window an integrator may ask for (h).")
    ] = 48
    max_days_ahead: Annotated[
        int, msgspec.Meta(ge=1, le=365, description="How far ahead a delivery may be booked (days).")
    ] = 30
    cold_chain_allowed_minutes: Annotated[
        float,
        msgspec.Meta(
            ge=0,
            le=1440,
            description="Goods above their class limit (chilled 8 °C, frozen -18 °C) longer than this break the chain.",
        ),
    ] = 30.0
    code_attempts: Annotated[
        int, msgspec.Meta(ge=1, le=100, description="Wrong codes at one locker before it refuses codes for a while.")
    ] = 5
    code_lockout_minutes: Annotated[
        int, msgspec.Meta(ge=1, le=1440, description="How long a locker refuses codes after too many wrong ones (min).")
    ] = 15
    minutes_saved_per_delivery: Annotated[
        float,
        msgspec.Meta(ge=0, le=600, description="Staff time one locker delivery saves (min), for the savings report."),
    ] = 20.0
    retention_days: Annotated[
        int,
        msgspec.Meta(ge=1, le=3650, description="Recipient details are erased this long after a delivery ends (days)."),
    ] = 30
    alert_email: Annotated[
        str, msgspec.Meta(max_length=320, description="Who in the municipality hears of a broken cold chain at once.")
    ] = ""


async def load(scope: api.Scope) -> DeliveriesConfig:
    """This tenant's settings (defaults filled in)."""
    from plugins.deliveries.plugin import PLUGIN  # the plugin object imports the modules that read settings

    return cast(DeliveriesConfig, await api.plugin_settings(scope, PLUGIN))
