"""How the fault pages name the plugin's values (categories, statuses, severities, sources) in
the reader's language: msgids here, translated when shown."""

from __future__ import annotations

from backend.web import formats
from backend.web.i18n import N_, gettext
from plugins.fault_reports.domain import Category, Severity, Source, Status

CATEGORIES = {
    Category.DOOR_OR_LOCK: N_("Door or lock"),
    Category.TEMPERATURE: N_("Temperature"),
    Category.KEYPAD_OR_DISPLAY: N_("Keypad or display"),
    Category.DAMAGE: N_("Damage or vandalism"),
    Category.CLEANING: N_("Needs cleaning"),
    Category.OTHER: N_("Something else"),
}
STATUSES = {
    Status.REPORTED: N_("Reported"),
    Status.ACKNOWLEDGED: N_("Acknowledged"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.RESOLVED: N_("Resolved"),
    Status.REJECTED: N_("Rejected"),
}
SEVERITIES = {Severity.CRITICAL: N_("Critical"), Severity.HIGH: N_("High"), Severity.NORMAL: N_("Normal")}
SOURCES = {Source.STAFF: N_("Staff"), Source.GATEWAY: N_("The locker itself")}
# What the button that moves a fault to a status says.
MOVES = {
    Status.ACKNOWLEDGED: N_("Acknowledge"),
    Status.IN_PROGRESS: N_("Start the work"),
    Status.RESOLVED: N_("Mark as resolved"),
}
LABELS: dict[str, dict[str, str]] = {
    "category": {k.value: v for k, v in CATEGORIES.items()},
    "status": {k.value: v for k, v in STATUSES.items()},
    "severity": {k.value: v for k, v in SEVERITIES.items()},
    "source": {k.value: v for k, v in SOURCES.items()},
    "move": {k.value: v for k, v in MOVES.items()},
}


def label(kind: str, value: object) -> str:
    """The translated name of a value (an enum or its string); the raw value for a new one."""
    raw = str(getattr(value, "value", value))
    found = LABELS[kind].get(raw)
    return gettext(found) if found else raw


def hours(value: float) -> str:
    """Hours as the reader writes them: ``8 h`` for whole hours, ``2,5 h`` otherwise (Swedish)."""
    return gettext("%(hours)s h", hours=formats.number(value, 0 if value == int(value) else 1))
