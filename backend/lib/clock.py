"""Timezone-aware UTC time, in one place so nothing uses naive datetimes."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
