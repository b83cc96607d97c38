"""Deliveries received through lockers and staff hours saved, per member and month (a federation
page, ``/web/federation/deliveries/savings``): the deliveries plugin's own savings report (the
functions ``federationDeliverySavings`` calls), read in each member's tenant transaction, for
members that enabled deliveries; a chart and the same numbers in tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from litestar import Request, get
from litestar.response import Template

from backend import plugin_api as api
from backend.web.federation import federation_admin, federation_page, report_year, year_errors
from backend.web.federation.members import swedish_order
from backend.web.i18n import gettext
from backend.web.session import require_federation_admin
from plugins.deliveries import config as deliveries_config
from plugins.deliveries import queries as deliveries_queries
from tenants.database import Database
from tenants.provisioning import all_municipalities

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


def savings_view(found: list[MemberSavings], year: int) -> dict[str, Any]:
    used = [m for m in found if m.enabled]
    chart = {
        # The chart only draws (the foundation's macro scales with floats); the tables show the exact values.
        "rows": [(m.municipality, float(m.staff_hours_saved)) for m in used],
        "title": gettext("Staff hours saved in %(year)s", year=year),
        "description": gettext(
            "One bar per member that uses deliveries: staff hours no longer spent receiving deliveries."
        ),
    }
    totals = [
        (
            month,
            sum(mo.deliveries for m in used for mo in m.months if mo.month == month),
            sum((mo.staff_hours_saved for m in used for mo in m.months if mo.month == month), Decimal(0)),
        )
        for month in year_months(year)
    ]
    return {"members": found, "chart": chart, "months": totals, "any_used": bool(used)}


@get("/savings")
async def savings_page(request: Request[Any, Any, Any], year: str | None = None) -> Template:
    user, services = await federation_admin(request)
    template = "deliveries/federation/savings.html"
    chosen = report_year(year)
    if chosen is None:
        return federation_page(
            request, user, template, status_code=400, errors=year_errors(), year=year or "", delivery=None
        )
    towns = await all_municipalities(services.db, federation_id=require_federation_admin(user))
    months = year_months(chosen)
    found = [
        await member_savings(services.db, m.id, m.name, months)
        for m in sorted(towns, key=lambda m: (swedish_order(m.name), m.slug))
    ]
    return federation_page(request, user, template, errors={}, year=chosen, delivery=savings_view(found, chosen))
