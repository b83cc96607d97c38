"""Reads of deliveries for the API: pages, transitions, a day's route stops, monthly savings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from backend import plugin_api as api
from plugins.deliveries.domain import Status

LOCAL = ZoneInfo("Europe/Stockholm")


@dataclass(frozen=True)
class Filter:
    integrator: UUID | None = None  # an integrator sees only its own
    status: Status | None = None
    site_id: UUID | None = None
    cold_chain_broken: bool | None = None


async def page(scope: api.Scope, where: Filter, request: api.PageRequest) -> api.Page[Any]:
    """Newest first, keyset-paged on (created_at, id)."""
    key = request.after_key()
    after: tuple[datetime, UUID] | None = None
    if key is not None:
        try:
            stamp, ident = key.split("|", 1)
            after = (datetime.fromisoformat(stamp), UUID(ident))
        except ValueError:
            raise api.ValidationFailed.on("after", "'after' is not a cursor this API gave out.") from None
    rows = await scope.connection.fetch(
        """SELECT * FROM deliveries_delivery
           WHERE tenant_id = $1 AND ($2::uuid IS NULL OR integrator_id = $2) AND ($3::text IS NULL OR status = $3)
             AND ($4::uuid IS NULL OR site_id = $4) AND ($5::bool IS NULL OR cold_chain_broken = $5)
             AND ($6::timestamptz IS NULL OR (created_at, id) < ($6, $7::uuid))
           ORDER BY created_at DESC, id DESC LIMIT $8""",
        scope.tenant,
        where.integrator,
        where.status.value if where.status else None,
        where.site_id,
        where.cold_chain_broken,
        after[0] if after else None,
        after[1] if after else None,
        request.first + 1,
    )
    return api.Page.from_rows(rows, [f"{r['created_at'].isoformat()}|{r['id']}" for r in rows], request)


async def transitions(scope: api.Scope, delivery_id: UUID) -> list[Any]:
    return list(
        await scope.connection.fetch(
            "SELECT * FROM deliveries_transition WHERE tenant_id = $1 AND delivery_id = $2 ORDER BY id",
            scope.tenant,
            delivery_id,
        )
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=LOCAL)
    return start, start + timedelta(days=1)


async def day_stops(scope: api.Scope, integrator: UUID | None, day: date) -> list[Any]:
    """Sites with the integrator's deliveries to drop off whose window starts that (local) day."""
    start, end = day_bounds(day)
    return list(
        await scope.connection.fetch(
            """SELECT s.id, s.name, s.address, s.latitude, s.longitude, count(*) AS parcels,
                      array_agg(d.id ORDER BY d.window_start) AS deliveries, min(d.window_start) AS earliest
               FROM deliveries_delivery d JOIN lockers_site s ON s.tenant_id = d.tenant_id AND s.id = d.site_id
               WHERE d.tenant_id = $1 AND ($2::uuid IS NULL OR d.integrator_id = $2) AND d.status = 'reserved'
                 AND d.window_start >= $3 AND d.window_start < $4
               GROUP BY s.tenant_id, s.id ORDER BY s.name""",
            scope.tenant,
            integrator,
            start,
            end,
        )
    )


@dataclass(frozen=True)
class Savings:
    month: date
    deliveries: int
    cold_chain_broken: int
    minutes_per_delivery: float

    @property
    def staff_hours_saved(self) -> float:
        return round(self.deliveries * self.minutes_per_delivery / 60, 2)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    start = datetime(month.year, month.month, 1, tzinfo=LOCAL)
    nxt = datetime(month.year + (month.month == 12), month.month % 12 + 1, 1, tzinfo=LOCAL)
    return start, nxt


async def savings(scope: api.Scope, months: list[date], minutes_per_delivery: float) -> list[Savings]:
    """Deliveries received through lockers (dropped off) per month, and the staff time they saved."""
    result = []
    for month in months:
        start, end = month_bounds(month)
        row = await scope.connection.fetchrow(
            """SELECT count(*) AS received, count(*) FILTER (WHERE cold_chain_broken) AS broken
               FROM deliveries_delivery WHERE tenant_id = $1 AND dropped_off_at >= $2 AND dropped_off_at < $3""",
            scope.tenant,
            start,
            end,
        )
        result.append(Savings(month.replace(day=1), row["received"], row["broken"], minutes_per_delivery))
    return result
