"""Each member municipality's use in given days, counted where the data lives.

* Deliveries received through lockers (dropped off in those days) and lockers registered (by the
  last of those days): the deliveries and lockers plugins' tables, read in the municipality's own
  tenant transaction, only where the municipality has enabled that plugin; with it, the
  municipality's ``minutes_saved_per_delivery`` setting for the savings.
* Call-off quantities placed under the contract in those days: federation level.

Days are local (Europe/Stockholm) and both ends are included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from backend import plugin_api as api
from plugins.deliveries import config as deliveries_config
from plugins.procurement.costs_rules import Use
from tenants.database import Database

LOCAL = ZoneInfo("Europe/Stockholm")
Days = tuple[date, date]


@dataclass(frozen=True)
class Counts:
    deliveries: int = 0
    lockers: int = 0
    call_off_quantity: Decimal = Decimal(0)

    def of(self, use: Use) -> Decimal:
        if use is Use.DELIVERIES:
            return Decimal(self.deliveries)
        if use is Use.LOCKERS:
            return Decimal(self.lockers)
        return self.call_off_quantity


@dataclass
class MemberUse:
    deliveries_enabled: bool = False
    lockers_enabled: bool = False
    minutes_per_delivery: Decimal | None = None
    counts: dict[Days, Counts] = field(default_factory=dict)


def bounds(days: Days) -> tuple[datetime, datetime]:
    """The instants from the first day's local midnight to the midnight after the last day."""
    return datetime.combine(days[0], time(0), LOCAL), datetime.combine(days[1] + timedelta(days=1), time(0), LOCAL)


async def read_use(
    db: Database, federation_id: UUID, contract_id: UUID, municipalities: list[UUID], periods: list[Days]
) -> dict[UUID, MemberUse]:
    call_offs: dict[tuple[UUID, Days], Decimal] = {}
    async with db.federation(federation_id) as scope:
        for days in set(periods):
            start, end = bounds(days)
            for r in await scope.connection.fetch(
                """SELECT municipality_id, sum(quantity) AS quantity FROM procurement_call_off
                   WHERE contract_id = $1 AND ordered_at >= $2 AND ordered_at < $3 GROUP BY municipality_id""",
                contract_id,
                start,
                end,
            ):
                call_offs[(r["municipality_id"], days)] = r["quantity"]
    result = {}
    for mid in municipalities:
        result[mid] = await _member(db, mid, periods, call_offs)
    return result


async def _member(
    db: Database, mid: UUID, periods: list[Days], call_offs: dict[tuple[UUID, Days], Decimal]
) -> MemberUse:
    use = MemberUse()
    async with db.tenant(mid) as scope:
        use.deliveries_enabled = await api.plugin_enabled(scope, deliveries_config.PLUGIN_ID)
        use.lockers_enabled = await api.plugin_enabled(scope, "lockers")
        if use.deliveries_enabled:
            settings = await deliveries_config.load(scope)
            use.minutes_per_delivery = Decimal(str(settings.minutes_saved_per_delivery))
        for days in periods:
            start, end = bounds(days)
            deliveries = lockers = 0
            if use.deliveries_enabled:
                deliveries = await scope.connection.fetchval(
                    """SELECT count(*) FROM deliveries_delivery
                       WHERE tenant_id = $1 AND dropped_off_at >= $2 AND dropped_off_at < $3""",
                    mid,
                    start,
                    end,
                )
            if use.lockers_enabled:
                lockers = await scope.connection.fetchval(
                    "SELECT count(*) FROM lockers_locker WHERE tenant_id = $1 AND created_at < $2", mid, end
                )
            use.counts[days] = Counts(deliveries, lockers, call_offs.get((mid, days), Decimal(0)))
    return use
