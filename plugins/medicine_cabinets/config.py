"""The plugin's id and its per-tenant settings."""

import msgspec

PLUGIN_ID = "medicine_cabinets"


class MedicineCabinetsConfig(msgspec.Struct, forbid_unknown_fields=True):
    # A door opening this long after an authorised request still counts as that request's.
    authorised_window_s: float = 60.0
    # How long a staff member's open request waits for the cabinet.
    open_timeout_s: float = 10.0
