"""Fault service levels for the follow-up, from the fault reports plugin's table when it exists
(a plain query, so procurement needs none of that plugin's code): per severity, the worst
response (acknowledged - reported) and fix (resolved - reported) time in hours of the faults
routed under the contract and reported in the period; a fault still open counts until the
period's end, so a fault left waiting breaches too. No faults in the period: nothing measured."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

from plugins.procurement import followup_metrics as metrics
from tenants.database import Database

FAULT_METRICS = frozenset({"fault_response", "fault_fix"})
FAULTS = """
SELECT severity, reported_at, acknowledged_at, resolved_at, rejected_at FROM fault_report
WHERE tenant_id = $1 AND contract_id = $2 AND reported_at >= $3 AND reported_at < $4
"""

Key = tuple[str, str | None]  # (metric, severity); severity None: every severity


def _hours(start: datetime, end: datetime) -> Decimal:
    return (Decimal((end - start).total_seconds()) / 3600).quantize(metrics.PLACES, rounding=ROUND_HALF_EVEN)


def summarise(rows: list[Any], period: metrics.Period) -> dict[Key, metrics.Measure]:
    """The worst time per (metric, severity) and per metric over all severities."""
    worst: dict[Key, Decimal] = {}
    counts: dict[Key, list[int]] = {}  # faults, still open at the period's end
    for r in rows:
        start = r["reported_at"]
        answered = r["acknowledged_at"] or r["rejected_at"]
        for metric, end in (("fault_response", answered), ("fault_fix", r["resolved_at"])):
            if metric == "fault_fix" and end is None and r["rejected_at"] is not None:
                continue  # rejected: nothing to fix
            still_open = end is None or end > period.end
            hours = _hours(start, period.end if still_open else end)
            for key in ((metric, r["severity"]), (metric, None)):
                worst[key] = max(worst.get(key, hours), hours)
                n = counts.setdefault(key, [0, 0])
                n[0] += 1
                n[1] += still_open
    return {
        k: metrics.Measure(v, {"faults": counts[k][0], "open": counts[k][1], "worst_hours": str(v)})
        for k, v in worst.items()
    }


async def measure(
    db: Database, municipality: UUID, contract_id: UUID, period: metrics.Period
) -> dict[Key, metrics.Measure]:
    """Read in the municipality's own tenant transaction; empty when fault reports are not installed."""
    async with db.tenant(municipality) as scope:
        if not await scope.connection.fetchval("SELECT to_regclass('fault_report') IS NOT NULL"):
            return {}
        rows = list(await scope.connection.fetch(FAULTS, municipality, contract_id, period.start, period.end))
    return summarise(rows, period)
