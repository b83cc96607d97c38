"""How the lockers' and deliveries' pages show values: translated names for the canonical enums,
local times and temperatures in the reader's language. Plain functions, used from templates."""

from __future__ import annotations

from datetime import datetime

from backend.web import formats
from backend.web.i18n import N_, gettext

DASH = formats.EMPTY  # shown for a value that is not known

CONNECTIVITY = {"online": N_("Online"), "offline": N_("Offline"), "stale": N_("No fresh values")}
DEVICE_HEALTH = {
    "normal": N_("Normal"),
    "failure": N_("Failure"),
    "check_function": N_("Function check"),
    "off_spec": N_("Out of specification"),
    "maintenance_required": N_("Maintenance required"),
}
SLOT_STATUS = {
    "free": N_("Free"),
    "occupied": N_("Occupied"),
    "out_of_order": N_("Out of order"),
    "locked_out": N_("Locked out"),
    "cleaning_required": N_("Cleaning required"),
}
ALARM_KIND = {
    "door_ajar": N_("Door ajar"),
    "temperature_high": N_("Temperature too high"),
    "temperature_low": N_("Temperature too low"),
    "sensor_fault": N_("Sensor fault"),
    "vendor": N_("Alarm from the locker"),
}
SEVERITY = {"info": N_("Information"), "warning": N_("Warning"), "critical": N_("Critical")}
TEMPERATURE_CLASS = {"ambient": N_("Ambient"), "chilled": N_("Chilled (2-8 °C)"), "frozen": N_("Frozen (-18 °C)")}

LABELS = {
    "connectivity": CONNECTIVITY,
    "device_health": DEVICE_HEALTH,
    "slot_status": SLOT_STATUS,
    "alarm_kind": ALARM_KIND,
    "severity": SEVERITY,
    "temperature_class": TEMPERATURE_CLASS,
}


def label(kind: str, value: str | None) -> str:
    """The translated name of an enum value; "Unknown" for none, the raw value for a new one."""
    if value is None:
        return gettext("Unknown")
    found = LABELS[kind].get(value)
    return gettext(found) if found else value


def when(value: datetime | None, *, seconds: bool = False) -> str:
    """A moment in Swedish local time (the foundation's format; to the second with ``seconds``)."""
    if value is None or not seconds:
        return formats.local_datetime(value)
    return value.astimezone(formats.LOCAL_TIME).strftime("%Y-%m-%d %H:%M:%S")


def clock(value: datetime | None) -> str:
    """The local time of day only, e.g. ``14:05:09``."""
    return value.astimezone(formats.LOCAL_TIME).strftime("%H:%M:%S") if value is not None else DASH


def hour(value: datetime) -> str:
    """The local hour and minute, e.g. ``06:00`` (chart axes)."""
    return value.astimezone(formats.LOCAL_TIME).strftime("%H:%M")


def number(value: float | None, digits: int = 1) -> str:
    """A number in the reader's language (``4,5`` in Swedish); a dash for none."""
    return formats.number(value, digits)


def celsius(value: float | None) -> str:
    return DASH if value is None else f"{number(value)} °C"


def yes_no(value: bool | None, yes: str, no: str) -> str:
    """One of two translated words, or "Unknown" when the locker has not said."""
    if value is None:
        return gettext("Unknown")
    return gettext(yes) if value else gettext(no)


# Words for yes_no, marked for extraction.
DOOR_OPEN, DOOR_CLOSED, LOCKED, UNLOCKED = N_("Door open"), N_("Door closed"), N_("Locked"), N_("Unlocked")

FILTERS = {"label": label, "when": when, "clock": clock, "number": number, "celsius": celsius}
