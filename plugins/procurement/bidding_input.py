"""Checks of bidding and contract input shared by the services: ids and amounts of money."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from uuid import UUID

from backend import plugin_api as api
from backend.lib import FieldError

# numeric(14, 2): twelve digits before the decimal point.
MAX_SEK = Decimal("999999999999.99")


def parse_id(value: object, kind: str) -> UUID:
    """An id from the API; a malformed one is simply not found (it names nothing)."""
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


def money_problem(field: str, value: Decimal | None, *, required: bool = True) -> FieldError | None:
    """Why ``value`` is not an amount in SEK (0 or more, at most two decimals), or None."""
    if value is None:
        return FieldError(field, "Give an amount in SEK.") if required else None
    try:
        exact = value.is_finite() and value == value.quantize(Decimal("0.01"))
    except InvalidOperation:
        exact = False
    if not exact:
        return FieldError(field, "Give the amount in SEK with at most two decimals (öre).")
    if value < 0:
        return FieldError(field, "An amount cannot be negative.")
    if value > MAX_SEK:
        return FieldError(field, f"An amount is at most {MAX_SEK} SEK.")
    return None


def text_problem(field: str, value: str, limit: int, *, required: bool = False) -> FieldError | None:
    if required and not value.strip():
        return FieldError(field, "This cannot be empty.")
    if len(value) > limit:
        return FieldError(field, f"Use at most {limit} characters.")
    if "\x00" in value:
        return FieldError(field, "Remove the NUL character.")
    return None


def raise_problems(message: str, problems: list[FieldError | None]) -> None:
    found = [p for p in problems if p is not None]
    if found:
        raise api.ValidationFailed(message, found)
