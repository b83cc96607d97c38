"""How amounts, points and times read in procurement texts, in Swedish and English (plain Python)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Europe/Stockholm")


def local(at: datetime) -> str:
    """A moment as Swedish local time, e.g. ``2026-12-01 12:00``."""
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


def when(at: datetime) -> str:
    """A moment for English messages: local time with its zone named."""
    return f"{local(at)} (Swedish time)"


def _grouped(value: Decimal, places: int) -> str:
    return f"{value:,.{places}f}"


def sek_sv(value: Decimal) -> str:
    """``1 234 567,50 kr``."""
    return _grouped(value, 2).replace(",", " ").replace(".", ",") + " kr"


def sek_en(value: Decimal) -> str:
    """``SEK 1,234,567.50``."""
    return "SEK " + _grouped(value, 2)


def points_sv(value: Decimal) -> str:
    return _grouped(value, 4).replace(",", " ").replace(".", ",") + " poäng"


def points_en(value: Decimal) -> str:
    return _grouped(value, 4) + " points"


def both(sv: str, en: str) -> dict[str, str]:
    """One text in both languages, Swedish first (the default for municipal users)."""
    return {"sv": sv, "en": en}
