"""Numbers, times and chart scales as the reader expects them: Swedish or English conventions,
Swedish local time (the municipalities' clock), for templates (as filters) and pages alike."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from backend.web.i18n import current_language

LOCAL_TIME = ZoneInfo("Europe/Stockholm")
LOCALES = {"sv": "sv_SE", "en": "en_GB"}
EMPTY = "\u2013"  # an en dash stands for "no value"


def _locale() -> str:
    return LOCALES.get(current_language(), "sv_SE")


def number(value: int | float | Decimal | None, digits: int = 0) -> str:
    """``1 234,5`` in Swedish, ``1,234.5`` in English; an empty value as a dash."""
    if value is None:
        return EMPTY
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(value, format=pattern, locale=_locale())


def local_datetime(value: datetime | None, style: str = "short") -> str:
    """A UTC instant in Swedish local time, e.g. ``2026-11-26 14:05`` (sv) or ``26/11/2026, 14:05`` (en)."""
    if value is None:
        return EMPTY
    pattern = "yyyy-MM-dd HH:mm" if current_language() == "sv" and style == "short" else style
    return format_datetime(value, format=pattern, tzinfo=LOCAL_TIME, locale=_locale())


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TIME).date()
    return format_date(value, format="yyyy-MM-dd" if current_language() == "sv" else "medium", locale=_locale())


def nice_scale(values: Sequence[float | int | Decimal | None], *, zero: bool = False) -> tuple[float, float]:
    """Bounds for a chart's value axis that contain every value (and 0 with ``zero``), never empty."""
    present = [float(v) for v in values if v is not None]
    if zero:
        present.append(0.0)
    if not present:
        return 0.0, 1.0
    low, high = min(present), max(present)
    if high == low:
        return low - 1.0, high + 1.0
    pad = (high - low) * 0.05
    return (low if zero and low == 0 else low - pad), high + pad


FILTERS = {"number": number, "local_datetime": local_datetime, "local_date": local_date}

__all__ = ["FILTERS", "LOCAL_TIME", "local_date", "local_datetime", "nice_scale", "number"]
