"""Timezone-aware time in one place, so nothing uses naive datetimes: UTC for storing and
comparing, and the Swedish calendar day for what people plan by (a care worker's day, a month)."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

LOCAL_ZONE = ZoneInfo("Europe/Stockholm")


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_day(at: datetime | None = None) -> date:
    """The calendar day in Sweden at ``at`` (now by default): 00:30 in Skara on 27 November is
    still 26 November in UTC, and a schedule for the 27th must already apply."""
    return (at or utcnow()).astimezone(LOCAL_ZONE).date()
