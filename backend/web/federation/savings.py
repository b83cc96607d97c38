"""Deliveries received through lockers and staff hours saved, per member and month: the
deliveries plugin's own savings report (the functions ``federationDeliverySavings`` calls), read
in each member's tenant transaction, for members that enabled deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from uuid import UUID

from backend import plugin_api as api
from plugins.deliveries import config as deliveries_config
from plugins.deliveries import queries as deliveries_queries
from plugins.registry import PluginRegistry
from tenants.database import Database

PLUGIN_ID = deliveries_config.PLUGIN_ID
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class MonthSavings:
    month: date
    deliveries: int
    cold_chain_broken: int
    staff_hours_saved: Decimal


@dataclass(frozen=True)
class MemberSavings:
    municipality_id: UUID
    municipality: str
    enabled: bool  # False: the member has not enabled deliveries (no figures, not zero)
    minutes_per_delivery: Decimal | None = None
    months: tuple[MonthSavings, ...] = field(default=())

    @property
    def deliveries(self) -> int:
        return sum(m.deliveries for m in self.months)

    @property
    def cold_chain_broken(self) -> int:
        return sum(m.cold_chain_broken for m in self.months)

    @property
    def staff_hours_saved(self) -> Decimal:
        return sum((m.staff_hours_saved for m in self.months), Decimal(0))


def year_months(year: int) -> list[date]:
    return [date(year, month, 1) for month in range(1, 13)]


def installed(registry: PluginRegistry) -> bool:
    return registry.get(PLUGIN_ID) is not None


async def member_savings(db: Database, municipality_id: UUID, name: str, months: list[date]) -> MemberSavings:
    """One member's months, as the deliveries plugin reports them."""
    async with db.tenant(municipality_id) as scope:
        if not await api.plugin_enabled(scope, PLUGIN_ID):
            return MemberSavings(municipality_id, name, enabled=False)
        settings = await deliveries_config.load(scope)
        rows = await deliveries_queries.savings(scope, months, settings.minutes_saved_per_delivery)
    return MemberSavings(
        municipality_id,
        name,
        enabled=True,
        minutes_per_delivery=Decimal(str(settings.minutes_saved_per_delivery)),
        months=tuple(
            MonthSavings(
                r.month, r.deliveries, r.cold_chain_broken, Decimal(str(r.staff_hours_saved)).quantize(HUNDREDTH)
            )
            for r in rows
        ),
    )
