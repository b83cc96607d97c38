"""Words for the procurement pages: the plugin's states and kinds in the reader's language, and
its amounts and moments as Swedish municipal staff read them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from backend.web.formats import EMPTY, local_datetime, number
from backend.web.i18n import N_, current_language, gettext
from plugins.procurement import followup_text
from plugins.procurement.followup_queries import Line

NEED_STATUS = {
    "open": N_("Open"),
    "in_procurement": N_("In a procurement"),
    "withdrawn": N_("Withdrawn"),
}
PROCUREMENT_STATUS = {
    "planning": N_("Being planned"),
    "published": N_("Published, open for tenders"),
    "evaluated": N_("Tenders evaluated"),
    "awarded": N_("Awarded (standstill period)"),
    "contracted": N_("Contract signed"),
    "cancelled": N_("Cancelled"),
}
PROCEDURE = {
    "direct": N_("Direct award"),
    "below_threshold": N_("Below the EU threshold"),
    "open": N_("Open procedure"),
}
SEVERITY = {"critical": N_("Critical faults"), "high": N_("High-priority faults"), "normal": N_("Normal faults")}


def label(table: dict[str, str], value: str | None) -> str:
    """A known value in words; an unknown one as it is (never an error on a page)."""
    if value is None:
        return ""
    return gettext(table[value]) if value in table else value


def sek(value: Decimal | None) -> str:
    """``1 234,50 kr`` in Swedish, ``SEK 1,234.50`` in English."""
    if value is None:
        return EMPTY
    return f"{number(value, 2)}\u00a0kr" if current_language() == "sv" else f"SEK\u00a0{number(value, 2)}"


def amount(value: Decimal | None) -> str:
    """A quantity or percentage with the decimals it has (``6``, ``12,5``)."""
    if value is None:
        return EMPTY
    exponent = value.normalize().as_tuple().exponent
    return number(value, max(0, -exponent) if isinstance(exponent, int) else 0)


def moment(value: datetime | None) -> str:
    return local_datetime(value)


def metric(name: str) -> str:
    sv, en = followup_text.NAMES.get(name, (name, name))
    return sv if current_language() == "sv" else en


def summary(line: Line) -> str:
    sv, en = followup_text.summary(line.metric, line.unit, line.measured, line.target, line.breached, line.penalty_sek)
    return sv if current_language() == "sv" else en
