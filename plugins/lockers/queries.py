"""Reads for the API: sites, endpoints, lockers, compartments with their open alarms,
alarms and temperature history, all inside the caller's tenant transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from backend.lib import FieldError

MAX_ROWS = 1000
MAX_HISTORY = 10_000
MAX_HISTORY_SPAN = timedelta(days=93)
OPEN = "(a.cleared_at IS NULL OR a.acknowledged_at IS NULL)"


def parse_id(value: str, kind: str) -> UUID:
    """An id from the API; one that is not even a UUID is simply not found."""
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


async def sites(scope: api.Scope) -> list[Any]:
    return list(
        await scope.connection.fetch(
            "SELECT * FROM lockers_site WHERE tenant_id = $1 ORDER BY name, id LIMIT $2", scope.tenant, MAX_ROWS
        )
    )


async def endpoints(scope: api.Scope) -> list[Any]:
    return list(
        await scope.connection.fetch(
            "SELECT * FROM lockers_endpoint WHERE tenant_id = $1 ORDER BY name LIMIT $2", scope.tenant, MAX_ROWS
        )
    )


LOCKERS = f"""
SELECT l.*, (SELECT count(*) FROM lockers_alarm a
             WHERE a.tenant_id = l.tenant_id AND a.locker_id = l.id AND {OPEN}) AS open_alarms
FROM lockers_locker l WHERE l.tenant_id = $1 AND ($2::uuid IS NULL OR l.site_id = $2)
ORDER BY l.name, l.id LIMIT $3
"""


async def lockers(scope: api.Scope, site_id: UUID | None) -> list[Any]:
    if site_id is not None and not await scope.connection.fetchval(
        "SELECT 1 FROM lockers_site WHERE tenant_id = $1 AND id = $2", scope.tenant, site_id
    ):
        raise api.NotFound("Site", site_id)
    return list(await scope.connection.fetch(LOCKERS, scope.tenant, site_id, MAX_ROWS))


async def locker(scope: api.Scope, locker_id: UUID) -> Any:
    row = await scope.connection.fetchrow(
        "SELECT l.*, 0::bigint AS open_alarms FROM lockers_locker l WHERE l.tenant_id = $1 AND l.id = $2",
        scope.tenant,
        locker_id,
    )
    if row is None:
        raise api.NotFound("Locker", locker_id)
    return row


COMPARTMENTS = """
SELECT c.*, l.connectivity AS locker_connectivity, l.device_health AS locker_device_health,
       l.health_detail AS locker_health_detail, l.last_seen AS locker_last_seen
FROM lockers_compartment c JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
WHERE c.tenant_id = $1 AND ($2::uuid IS NULL OR c.locker_id = $2) AND ($3::uuid IS NULL OR c.id = $3)
ORDER BY c.compartment_key
"""


async def compartments(scope: api.Scope, locker_id: UUID) -> tuple[list[Any], dict[UUID, list[Any]]]:
    """The locker's compartments and, per compartment, its open alarms."""
    await locker(scope, locker_id)
    rows = list(await scope.connection.fetch(COMPARTMENTS, scope.tenant, locker_id, None))
    return rows, await open_alarms(scope, [r["id"] for r in rows])


async def compartment(scope: api.Scope, compartment_id: UUID) -> tuple[Any, list[Any]]:
    row = await scope.connection.fetchrow(COMPARTMENTS, scope.tenant, None, compartment_id)
    if row is None:
        raise api.NotFound("Compartment", compartment_id)
    return row, (await open_alarms(scope, [compartment_id])).get(compartment_id, [])


async def open_alarms(scope: api.Scope, compartment_ids: list[UUID]) -> dict[UUID, list[Any]]:
    rows = await scope.connection.fetch(
        f"""SELECT a.* FROM lockers_alarm a WHERE a.tenant_id = $1 AND a.compartment_id = ANY($2::uuid[]) AND {OPEN}
            ORDER BY a.raised_at DESC NULLS LAST, a.id""",
        scope.tenant,
        compartment_ids,
    )
    by_compartment: dict[UUID, list[Any]] = defaultdict(list)
    for r in rows:
        by_compartment[r["compartment_id"]].append(r)
    return by_compartment


async def alarms(scope: api.Scope, *, only_open: bool, locker_id: UUID | None, first: int) -> list[Any]:
    if not 1 <= first <= MAX_ROWS:
        raise api.ValidationFailed.on("first", f"'first' must be between 1 and {MAX_ROWS}.")
    return list(
        await scope.connection.fetch(
            f"""SELECT a.* FROM lockers_alarm a WHERE a.tenant_id = $1 AND (NOT $2 OR {OPEN})
              AND ($3::uuid IS NULL OR a.locker_id = $3)
            ORDER BY coalesce(a.raised_at, a.cleared_at) DESC, a.id LIMIT $4""",
            scope.tenant,
            only_open,
            locker_id,
            first,
        )
    )


async def alarm(scope: api.Scope, alarm_id: UUID) -> Any:
    row = await scope.connection.fetchrow(
        "SELECT * FROM lockers_alarm WHERE tenant_id = $1 AND id = $2", scope.tenant, alarm_id
    )
    if row is None:
        raise api.NotFound("Alarm", alarm_id)
    return row


async def temperature_history(
    scope: api.Scope, compartment_id: UUID, since: datetime, until: datetime, limit: int
) -> list[Any]:
    """Samples in [since, until), oldest first."""
    problems = []
    if since.tzinfo is None or until.tzinfo is None:
        problems.append(FieldError("since" if since.tzinfo is None else "until", "Give a time zone (e.g. Z)."))
    elif until <= since:
        problems.append(FieldError("until", "'until' must be after 'since'."))
    elif until - since > MAX_HISTORY_SPAN:
        problems.append(FieldError("until", f"Ask for at most {MAX_HISTORY_SPAN.days} days at a time."))
    if not 1 <= limit <= MAX_HISTORY:
        problems.append(FieldError("limit", f"'limit' must be between 1 and {MAX_HISTORY}."))
    if problems:
        raise api.ValidationFailed("The history cannot be read so.", problems)
    if not await scope.connection.fetchval(
        "SELECT 1 FROM lockers_compartment WHERE tenant_id = $1 AND id = $2", scope.tenant, compartment_id
    ):
        raise api.NotFound("Compartment", compartment_id)
    return list(
        await scope.connection.fetch(
            """SELECT at, temperature_c FROM lockers_temperature_sample
           WHERE tenant_id = $1 AND compartment_id = $2 AND at >= $3 AND at < $4 ORDER BY at, seq LIMIT $5""",
            scope.tenant,
            compartment_id,
            since,
            until,
            limit,
        )
    )
