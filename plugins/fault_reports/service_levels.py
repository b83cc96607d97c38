"""A fault's response and fix times against its contract's service levels (hours, by severity):
response = acknowledged - reported, fix = resolved - reported. An open fault already past its
target is a breach too; a fault with no contract or no level for its severity has no target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Measure:
    hours: float | None  # None: not yet done
    target_hours: float | None  # None: no service level applies
    breached: bool


@dataclass(frozen=True)
class Times:
    response: Measure
    fix: Measure


def _target(levels: dict[tuple[str, str | None], Decimal], metric: str, severity: str) -> float | None:
    value = levels.get((metric, severity), levels.get((metric, None)))
    return float(value) if value is not None else None


def _measure(start: datetime, end: datetime | None, target: float | None, now: datetime) -> Measure:
    hours = (end - start).total_seconds() / 3600 if end else None
    elapsed = hours if hours is not None else (now - start).total_seconds() / 3600
    return Measure(hours, target, target is not None and elapsed > target)


def times(row: Any, levels: dict[tuple[str, str | None], Decimal], now: datetime) -> Times:
    """The fault's times; a rejected fault is measured until its rejection, never breaching its fix."""
    start, severity = row["reported_at"], row["severity"]
    response = _measure(
        start, row["acknowledged_at"] or row["rejected_at"], _target(levels, "fault_response", severity), now
    )
    if row["rejected_at"] is not None and row["resolved_at"] is None:
        return Times(response, Measure(None, _target(levels, "fault_fix", severity), False))
    return Times(response, _measure(start, row["resolved_at"], _target(levels, "fault_fix", severity), now))
