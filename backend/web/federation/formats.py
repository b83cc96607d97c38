"""Amounts and hours as the reader's language writes them (``1 234,50 kr``, ``SEK 1,234.50``),
built on the foundation's number format."""

from __future__ import annotations

from decimal import Decimal

from backend.web.formats import number
from backend.web.i18n import current_language


def sek(value: Decimal | None) -> str:
    if current_language() == "sv":
        return f"{number(value, 2)}\u00a0kr"
    return f"SEK\u00a0{number(value, 2)}"


def hours(value: Decimal | None) -> str:
    return f"{number(value, 2)}\u00a0h"


__all__ = ["hours", "number", "sek"]
