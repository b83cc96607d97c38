"""The arithmetic of following a contract's service levels up from locker data: the month as a
period, availability from health events, temperature compliance from alarms, and whether a
level was breached. Plain Python on plain values, so it is tested without a database.

Times are integer microseconds, so the percentages are exact until they are rounded (to four
decimals, the precision that is stored, shown and compared with the target)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

# A Swedish contract's month is the calendar month in Sweden (October 2026 has 745 hours).
LOCAL = ZoneInfo("Europe/Stockholm")
PLACES = Decimal("0.0001")
MICRO = timedelta(microseconds=1)
LOCKER_METRICS = frozenset({"availability", "temperature_compliance"})


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @property
    def micros(self) -> int:
        return (self.end - self.start) // MICRO


def local_midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL)


def next_month(month: date) -> date:
    return date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def month_period(month: date, *, starts_on: date, ends_on: date, now: datetime) -> Period | None:
    """The part of the (local) month that the contract ran (ends_on is its last day) and that has
    passed; None when nothing of it has."""
    start = max(local_midnight(month), local_midnight(starts_on))
    end = min(local_midnight(next_month(month)), local_midnight(ends_on + timedelta(days=1)), now)
    # In UTC: Python subtracts two times of one zone as wall-clock times, which would lose summer time's hour.
    return Period(start.astimezone(UTC), end.astimezone(UTC)) if start < end else None


@dataclass(frozen=True)
class Measure:
    value: Decimal
    details: dict[str, Any]


def percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(PLACES, rounding=ROUND_HALF_EVEN)


def _hours(micros: int) -> str:
    return str((Decimal(micros) / Decimal(3_600_000_000)).quantize(PLACES, rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True)
class HealthEvent:
    """A locker-level HealthChanged: from ``at`` on the locker is online or not."""

    locker_id: UUID
    at: datetime
    online: bool


def availability(
    period: Period, lockers: Iterable[UUID], carried_in: Mapping[UUID, bool], events: Sequence[HealthEvent]
) -> Measure | None:
    """Time online / time known, over the lockers: each locker's state runs from its last event
    before the period (carried in) and changes at each event in it (in the order given: at, seq).
    Time before a locker's first known state is unknown and left out; no known time: None."""
    by_locker: dict[UUID, list[HealthEvent]] = defaultdict(list)
    for e in events:
        by_locker[e.locker_id].append(e)
    known = online = 0
    silent: list[str] = []
    for locker in sorted(set(lockers)):
        state = carried_in.get(locker)
        at = period.start
        locker_known = 0
        for e in [*by_locker[locker], HealthEvent(locker, period.end, False)]:
            if state is not None:
                span = (min(e.at, period.end) - at) // MICRO
                locker_known += span
                online += span if state else 0
            state, at = e.online, max(e.at, period.start)
        known += locker_known
        if locker_known == 0:
            silent.append(str(locker))
    if known == 0:
        return None
    return Measure(
        percent(online, known),
        {"online_hours": _hours(online), "known_hours": _hours(known), "lockers_without_data": silent},
    )


@dataclass(frozen=True)
class AlarmSpan:
    """A temperature alarm open from ``start`` to ``end`` (None: still open), on one compartment,
    or on a whole locker when ``compartment_id`` is None."""

    locker_id: UUID | None
    compartment_id: UUID | None
    start: datetime
    end: datetime | None


def _union(spans: list[tuple[datetime, datetime]]) -> int:
    total, reach = 0, None
    for start, end in sorted(spans):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start) // MICRO
            reach = end
    return total


def temperature_compliance(
    period: Period, compartments: Mapping[UUID, UUID], spans: Sequence[AlarmSpan], *, has_data: bool
) -> Measure | None:
    """Compartment-time without an open temperature alarm / compartment-time, over the
    temperature-controlled compartments (compartment id -> locker id). Overlapping alarms on
    one compartment count once. None without such compartments or without any data."""
    if not compartments or not has_data:
        return None
    clipped: dict[UUID, list[tuple[datetime, datetime]]] = defaultdict(list)
    alarms = 0
    for s in spans:
        start, end = max(s.start, period.start), min(s.end or period.end, period.end)
        if start >= end:
            continue
        if s.compartment_id is None:
            hit = [c for c, locker in compartments.items() if locker == s.locker_id]
        else:
            hit = [s.compartment_id] if s.compartment_id in compartments else []
        alarms += bool(hit)
        for c in hit:
            clipped[c].append((start, end))
    alarmed = sum(_union(clipped[c]) for c in compartments)
    whole = period.micros * len(compartments)
    return Measure(
        percent(whole - alarmed, whole),
        {"compartments": len(compartments), "alarm_hours": _hours(alarmed), "alarms": alarms},
    )


def breached(unit: str, target: Decimal, measured: Decimal | None) -> bool:
    """Below a percent target or above an hours target; nothing measured is no breach."""
    if measured is None:
        return False
    return measured < target if unit == "percent" else measured > target
