"""The cold-chain record of a delivery: lowest, highest and time above its class limit while the
goods were in the compartment.

Time above the limit treats each sample as holding until the next one (the gateway reports on
change and at least every publishing interval), and the last one until the end. It is kept up
to date sample by sample as telemetry arrives (so a break is told at once) and computed again
from the stored temperature history when the goods leave the compartment (the final record).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from backend import plugin_api as api


@dataclass(frozen=True)
class Record:
    min_c: float | None
    max_c: float | None
    seconds_above: float
    last_c: float | None
    last_at: datetime | None


def start(temperature_c: float | None, at: datetime) -> Record:
    """The record at drop-off: the compartment's temperature then."""
    return Record(temperature_c, temperature_c, 0.0, temperature_c, at if temperature_c is not None else None)


def of_row(row: Any) -> Record:
    return Record(
        row["cold_min_c"], row["cold_max_c"], row["cold_seconds_above"], row["cold_last_c"], row["cold_last_at"]
    )


def add(record: Record, temperature_c: float, at: datetime, limit: float | None) -> Record:
    """One more sample (samples older than the last one are ignored: they were counted)."""
    if record.last_at is not None and at <= record.last_at:
        return record
    above = record.seconds_above
    if record.last_at is not None and record.last_c is not None and limit is not None and record.last_c > limit:
        above += (at - record.last_at).total_seconds()
    low = temperature_c if record.min_c is None else min(record.min_c, temperature_c)
    high = temperature_c if record.max_c is None else max(record.max_c, temperature_c)
    return Record(low, high, above, temperature_c, at)


def above_until(record: Record, now: datetime, limit: float | None) -> float:
    """Seconds above the limit counting the last sample as holding until ``now``."""
    if limit is None or record.last_at is None or record.last_c is None or record.last_c <= limit:
        return record.seconds_above
    return record.seconds_above + max(0.0, (now - record.last_at).total_seconds())


HISTORY = """
WITH s AS (
  (SELECT $3::timestamptz AS at, temperature_c FROM lockers_temperature_sample
   WHERE tenant_id = $1 AND compartment_id = $2 AND at <= $3 ORDER BY at DESC, seq DESC LIMIT 1)
  UNION ALL
  (SELECT at, temperature_c FROM lockers_temperature_sample
   WHERE tenant_id = $1 AND compartment_id = $2 AND at > $3 AND at <= $4)
), spans AS (
  SELECT at, temperature_c, coalesce(lead(at) OVER (ORDER BY at), $4::timestamptz) AS until FROM s
)
SELECT min(temperature_c) AS min_c, max(temperature_c) AS max_c,
       coalesce(sum(extract(epoch FROM until - at)) FILTER (WHERE temperature_c > $5), 0)::float8 AS seconds_above,
       (array_agg(temperature_c ORDER BY at DESC))[1] AS last_c, max(at) AS last_at
FROM spans
"""


async def from_history(
    scope: api.Scope, compartment_id: UUID, since: datetime, until: datetime, limit: float | None
) -> Record:
    """The record over [since, until] from the stored samples (limit None: nothing counts as above)."""
    row = await scope.connection.fetchrow(
        HISTORY, scope.tenant, compartment_id, since, until, limit if limit is not None else float("inf")
    )
    return Record(row["min_c"], row["max_c"], float(row["seconds_above"]), row["last_c"], row["last_at"])


def columns(record: Record) -> dict[str, Any]:
    return {
        "cold_min_c": record.min_c,
        "cold_max_c": record.max_c,
        "cold_seconds_above": record.seconds_above,
        "cold_last_c": record.last_c,
        "cold_last_at": record.last_at,
    }
