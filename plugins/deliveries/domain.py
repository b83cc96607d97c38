"""The delivery lifecycle's vocabulary: statuses and which moves are allowed, size and
temperature classes, and the checks on a new delivery that need no database."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from backend import plugin_api as api
from backend.lib.errors import FieldError
from opcua_gateway.contracts import CLASS_LIMITS, SizeClass, TemperatureClass
from plugins.deliveries.config import DeliveriesConfig


class Status(str, Enum):
    RESERVED = "reserved"
    DROPPED_OFF = "dropped_off"
    PICKUP_CODE_SENT = "pickup_code_sent"
    PICKED_UP = "picked_up"
    EXPIRED = "expired"
    RETURNED = "returned"
    CANCELLED = "cancelled"


MOVES: dict[Status, frozenset[Status]] = {
    Status.RESERVED: frozenset({Status.DROPPED_OFF, Status.CANCELLED}),
    Status.DROPPED_OFF: frozenset({Status.PICKUP_CODE_SENT, Status.PICKED_UP, Status.EXPIRED}),
    Status.PICKUP_CODE_SENT: frozenset({Status.PICKED_UP, Status.EXPIRED}),
    Status.EXPIRED: frozenset({Status.RETURNED}),
    Status.PICKED_UP: frozenset(),
    Status.RETURNED: frozenset(),
    Status.CANCELLED: frozenset(),
}
GOODS_INSIDE = frozenset({Status.DROPPED_OFF, Status.PICKUP_CODE_SENT, Status.EXPIRED})
ACTIVE = frozenset({Status.RESERVED, *GOODS_INSIDE})
FINAL = frozenset({Status.PICKED_UP, Status.RETURNED, Status.CANCELLED})
TIMESTAMP_OF: dict[Status, str] = {
    Status.DROPPED_OFF: "dropped_off_at",
    Status.PICKED_UP: "picked_up_at",
    Status.EXPIRED: "expired_at",
    Status.RETURNED: "returned_at",
    Status.CANCELLED: "cancelled_at",
}

SIZE_RANK: dict[SizeClass, int] = {SizeClass.S: 1, SizeClass.M: 2, SizeClass.L: 3, SizeClass.XL: 4}


class RecipientKind(str, Enum):
    STAFF_UNIT = "staff_unit"
    CITIZEN = "citizen"


def cold_limit(temperature_class: TemperatureClass) -> float | None:
    """The temperature the goods must not stay above (chilled 8 °C, frozen -18 °C; ambient: none)."""
    return CLASS_LIMITS[temperature_class][1]


def can_move(current: Status, to: Status) -> bool:
    return to in MOVES[current]


EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9][0-9 -]{5,20}$")


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class NewDelivery:
    reference: str
    site_id: str
    temperature_class: TemperatureClass
    size_class: SizeClass
    recipient: Recipient
    window_start: datetime
    window_end: datetime


def check_new(new: NewDelivery, settings: DeliveriesConfig, now: datetime) -> None:
    """Refuse a delivery that cannot be right whatever the lockers hold, naming every bad field."""
    problems: list[FieldError] = []
    if not 0 < len(new.reference.strip()) <= 100:
        problems.append(FieldError("input.reference", "Give your own order reference, 1-100 characters."))
    r = new.recipient
    if not 0 < len(r.name.strip()) <= 200:
        problems.append(FieldError("input.recipient.name", "Give the recipient's name, 1-200 characters."))
    if r.phone is None and r.email is None:
        problems.append(FieldError("input.recipient", "Give a phone number or an e-mail address for the pickup code."))
    if r.phone is not None and not PHONE.match(r.phone):
        problems.append(FieldError("input.recipient.phone", "Not a phone number (digits, optionally a leading +)."))
    if r.email is not None and (len(r.email) > 320 or not EMAIL.match(r.email)):
        problems.append(FieldError("input.recipient.email", "Not an e-mail address."))
    problems += window_problems(new.window_start, new.window_end, settings, now)
    if problems:
        raise api.ValidationFailed("The delivery is not valid: " + "; ".join(p.message for p in problems), problems)


def hold_until(window_end: datetime, settings: DeliveriesConfig) -> datetime:
    """How long a reservation holds its compartment at most: the drop-off grace, the pickup time
    and the return time after the window. A delivery that ends earlier frees it then."""
    return window_end + timedelta(
        minutes=settings.dropoff_grace_minutes, hours=settings.pickup_hours + settings.return_hours
    )


def window_problems(start: datetime, end: datetime, settings: DeliveriesConfig, now: datetime) -> list[FieldError]:
    for name, value in (("input.windowStart", start), ("input.windowEnd", end)):
        if value.tzinfo is None:
            return [FieldError(name, "Give the time with a time zone offset.")]
    if end <= start:
        return [FieldError("input.windowEnd", "The window must end after it starts.")]
    if end <= now:
        return [FieldError("input.windowEnd", "The delivery window is in the past.")]
    if end - start > timedelta(hours=settings.max_window_hours):
        return [FieldError("input.windowEnd", f"A delivery window is at most {settings.max_window_hours} hours.")]
    if start > now + timedelta(days=settings.max_days_ahead):
        return [FieldError("input.windowStart", f"Deliveries are booked at most {settings.max_days_ahead} days ahead.")]
    return []


def check_window(start: datetime, end: datetime, settings: DeliveriesConfig, now: datetime) -> None:
    if problems := window_problems(start, end, settings, now):
        raise api.ValidationFailed(problems[0].message, problems)
