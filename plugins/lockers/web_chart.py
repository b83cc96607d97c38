"""A compartment's temperatures over the last day for its chart: read through the same history
query the API uses, then thinned to at most one point per few minutes (mean, low, high)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from backend import plugin_api as api
from plugins.lockers import queries

SPAN = timedelta(hours=24)
MAX_POINTS = 288  # one per five minutes over a day
MAX_ROUNDS = 10  # at most this many history pages (of queries.MAX_HISTORY samples each)


@dataclass(frozen=True)
class Point:
    at: datetime
    mean: float
    low: float
    high: float
    samples: int


async def samples(
    scope: api.Scope, compartment_id: UUID, since: datetime, until: datetime
) -> list[tuple[datetime, float]]:
    """The samples in [since, until), oldest first, page by page."""
    found: list[tuple[datetime, float]] = []
    start = since
    for _ in range(MAX_ROUNDS):
        rows = await queries.temperature_history(scope, compartment_id, start, until, queries.MAX_HISTORY)
        found += [(r["at"], r["temperature_c"]) for r in rows]
        if len(rows) < queries.MAX_HISTORY:
            break
        start = rows[-1]["at"] + timedelta(microseconds=1)
        if start >= until:
            break
    return found


def thin(
    values: list[tuple[datetime, float]], since: datetime, until: datetime, max_points: int = MAX_POINTS
) -> list[Point]:
    """Every sample when there are few; else one point per equal slice of [since, until)."""
    if len(values) <= max_points:
        return [Point(at, t, t, t, 1) for at, t in values]
    width = (until - since) / max_points
    buckets: dict[int, list[tuple[datetime, float]]] = {}
    for at, t in values:
        buckets.setdefault(min(int((at - since) / width), max_points - 1), []).append((at, t))
    points = []
    for index in sorted(buckets):
        group = buckets[index]
        temps = [t for _, t in group]
        points.append(
            Point(since + width * index + width / 2, sum(temps) / len(temps), min(temps), max(temps), len(temps))
        )
    return points


async def last_day(scope: api.Scope, compartment_id: UUID, now: datetime) -> tuple[datetime, list[Point]]:
    """The start of the day shown and its points."""
    since = now - SPAN
    return since, thin(await samples(scope, compartment_id, since, now), since, now)


@dataclass(frozen=True)
class Chart:
    """An SVG line chart laid out in Python, so the template only draws (presentation attributes only)."""

    width: int
    height: int
    line: str  # the polyline's points, "x,y x,y ..."
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str]]
    limits: list[tuple[float, str]]  # the class's band edges: y and label
    left: int
    right: int
    top: int
    bottom: int
    lowest: float | None
    highest: float | None
    latest: float | None


def _nice_step(span: float) -> float:
    for step in (0.5, 1, 2, 5, 10, 20, 50):
        if span / step <= 6:
            return float(step)
    return 100.0


def layout(
    points: list[Point],
    since: datetime,
    until: datetime,
    limits: tuple[float | None, float | None],
    *,
    number: Callable[[float], str],
    hour: Callable[[datetime], str],
) -> Chart:
    """Scale the points into a 640 x 260 drawing with a y axis in °C, ticks every 6 hours and the
    temperature class's limits as reference lines."""
    width, height, left, right, top, bottom = 640, 260, 48, 628, 12, 228
    edges = [v for v in limits if v is not None]
    values = [p.low for p in points] + [p.high for p in points] + edges
    low, high = (min(values), max(values)) if values else (0.0, 10.0)
    step = _nice_step(max(high - low, 1.0))
    low, high = (int(low // step) - 1) * step, (int(high // step) + 1) * step

    def x(at: datetime) -> float:
        return left + (right - left) * (at - since).total_seconds() / (until - since).total_seconds()

    def y(value: float) -> float:
        return bottom - (bottom - top) * (value - low) / (high - low)

    ticks, value = [], low
    while value <= high + 1e-9:
        ticks.append((round(y(value), 1), number(value)))
        value += step
    hours = []
    mark = since.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    while mark < until:
        if hour(mark) in {"00:00", "06:00", "12:00", "18:00"}:
            hours.append((round(x(mark), 1), hour(mark)))
        mark += timedelta(hours=1)
    line = " ".join(f"{x(p.at):.1f},{y(p.mean):.1f}" for p in points)
    temps = [p.mean for p in points]
    return Chart(
        width,
        height,
        line,
        ticks,
        hours,
        [(round(y(v), 1), number(v)) for v in edges],
        left,
        right,
        top,
        bottom,
        min((p.low for p in points), default=None),
        max((p.high for p in points), default=None),
        temps[-1] if temps else None,
    )
