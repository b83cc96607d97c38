"""Faults as GraphQL shows them, with their times against their contract's levels; the levels are
read in the federation's transaction, so this runs after (never inside) a tenant transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from plugins.fault_reports import routing, service_levels
from plugins.fault_reports.graphql_types import FaultReport
from tenants.database import Database

Levels = dict[tuple[str, str | None], Decimal]


async def shown(db: Database, rows: Sequence[Any], now: datetime) -> list[FaultReport]:
    cache: dict[tuple[UUID, UUID], Levels] = {}
    result = []
    for r in rows:
        levels: Levels = {}
        if r["contract_id"] is not None and r["federation_id"] is not None:
            key = (r["federation_id"], r["contract_id"])
            if key not in cache:
                cache[key] = await routing.levels(db, *key)
            levels = cache[key]
        result.append(FaultReport.of(r, service_levels.times(r, levels, now)))
    return result
