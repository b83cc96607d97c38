"""Choosing and holding a compartment for a delivery.

A fitting compartment is at the site, of the delivery's temperature class, at least its size,
in service, and held by no other delivery during the new hold. Among those the smallest size
wins, then the one reserved longest ago (a fair spread of wear), then the fewest reservations.

Concurrency: the candidate's ``deliveries_slot`` row is locked with ``FOR UPDATE SKIP LOCKED``,
so concurrent reservations spread over compartments instead of queueing on one. The exclusion
constraint on ``deliveries_delivery`` is the proof: an overlapping hold cannot be stored, and a
reservation that loses such a race (its snapshot missed a just-committed hold) tries the next
candidate inside a savepoint.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from backend import plugin_api as api
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.deliveries.domain import SIZE_RANK

RACE_RETRIES = 8
SIZES = "ARRAY['S','M','L','XL']"

ADD_SLOTS = """
INSERT INTO deliveries_slot (tenant_id, compartment_id)
SELECT c.tenant_id, c.id FROM lockers_compartment c
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
WHERE c.tenant_id = $1 AND l.site_id = $2 AND c.temperature_class = $3
  AND NOT EXISTS (SELECT 1 FROM deliveries_slot s WHERE s.tenant_id = c.tenant_id AND s.compartment_id = c.id)
ON CONFLICT DO NOTHING
"""

CANDIDATE = f"""
SELECT s.compartment_id, c.locker_id, c.size_class FROM deliveries_slot s
JOIN lockers_compartment c ON c.tenant_id = s.tenant_id AND c.id = s.compartment_id
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
WHERE s.tenant_id = $1 AND l.site_id = $2 AND c.temperature_class = $3
  AND array_position({SIZES}, c.size_class::text) >= $4
  AND c.status NOT IN ('out_of_order', 'locked_out')
  AND NOT EXISTS (
    SELECT 1 FROM deliveries_delivery d
    WHERE d.tenant_id = $1 AND d.compartment_id = c.id AND d.id IS DISTINCT FROM $7
      AND (d.hold && tstzrange($5, $6) OR d.status = 'expired'))
  AND NOT (s.compartment_id = ANY($8::uuid[]))
ORDER BY array_position({SIZES}, c.size_class::text), s.last_reserved_at NULLS FIRST, s.reservations, s.compartment_id
LIMIT 1
FOR UPDATE OF s SKIP LOCKED
"""

# Fitting compartments whose slot another booking has locked right now: its window may not overlap
# ours, so these are tried without the slot lock; the exclusion constraint waits only for a booking
# in progress whose hold really overlaps, and refuses only if that one commits.
BUSY = CANDIDATE.replace("LIMIT 1\nFOR UPDATE OF s SKIP LOCKED", "LIMIT 20")
BUMP = """
UPDATE deliveries_slot SET reservations = reservations + 1, last_reserved_at = $3
WHERE tenant_id = $1 AND compartment_id = (
  SELECT compartment_id FROM deliveries_slot WHERE tenant_id = $1 AND compartment_id = $2 FOR UPDATE SKIP LOCKED)
"""

OFFER = f"""
SELECT c.temperature_class, max(array_position({SIZES}, c.size_class::text)) AS largest
FROM lockers_compartment c JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
WHERE c.tenant_id = $1 AND l.site_id = $2 GROUP BY c.temperature_class
"""


@dataclass(frozen=True)
class Held:
    compartment_id: UUID
    locker_id: UUID
    size_class: SizeClass


Store = Callable[[Held], Awaitable[None]]  # writes the chosen compartment: an insert or a move


async def check_offer(scope: api.Scope, site_id: UUID, temperature_class: TemperatureClass, size: SizeClass) -> None:
    """The site exists and offers the class in the size at all (free or not)."""
    conn = scope.connection
    if not await conn.fetchval("SELECT 1 FROM lockers_site WHERE tenant_id = $1 AND id = $2", scope.tenant, site_id):
        raise api.NotFound("Site", site_id)
    offer = {r["temperature_class"]: r["largest"] for r in await conn.fetch(OFFER, scope.tenant, site_id)}
    if temperature_class.value not in offer:
        offered = ", ".join(sorted(offer)) or "none"
        raise api.ValidationFailed.on(
            "input.temperatureClass",
            f"The site has no {temperature_class.value} compartments (it offers: {offered}). Choose another site.",
        )
    largest = offer[temperature_class.value]
    if SIZE_RANK[size] > largest:
        biggest = next(s for s, rank in SIZE_RANK.items() if rank == largest)
        raise api.ValidationFailed.on(
            "input.sizeClass",
            f"Oversize: the largest {temperature_class.value} compartment at this site is {biggest.value}.",
        )


async def hold(
    scope: api.Scope,
    *,
    site_id: UUID,
    temperature_class: TemperatureClass,
    size: SizeClass,
    start: datetime,
    until: datetime,
    now: datetime,
    store: Store,
    moving: UUID | None = None,
) -> Held:
    """Find a free fitting compartment and store the hold with ``store`` (which inserts or moves
    the delivery with the new compartment and hold range). Raises Conflict when none is free."""
    conn = scope.connection
    await conn.execute(ADD_SLOTS, scope.tenant, site_id, temperature_class.value)
    args = (scope.tenant, site_id, temperature_class.value, SIZE_RANK[size], start, until, moving)
    lost: list[UUID] = []
    for _ in range(RACE_RETRIES):
        row = await conn.fetchrow(CANDIDATE, *args, lost)
        if row is None:
            break
        if held := await _try(conn, row, store, lost):
            await conn.execute(BUMP, scope.tenant, held.compartment_id, now)
            return held
    for row in await conn.fetch(BUSY, *args, lost):
        if held := await _try(conn, row, store, lost):
            await conn.execute(BUMP, scope.tenant, held.compartment_id, now)  # skipped while another holds it
            return held
    raise api.Conflict(
        f"No {temperature_class.value} compartment of size {size.value} or larger is free at this site for the "
        "whole window. Choose another window or site."
    )


async def _try(conn: Any, row: Any, store: Store, lost: list[UUID]) -> Held | None:
    held = Held(row["compartment_id"], row["locker_id"], SizeClass(row["size_class"]))
    try:
        async with conn.transaction():  # a savepoint: losing a race must not abort the caller
            await store(held)
    except asyncpg.ExclusionViolationError:
        lost.append(held.compartment_id)
        return None
    return held


FREE_HOLD = """
CASE WHEN $3::timestamptz <= lower(hold) THEN 'empty'::tstzrange
     ELSE tstzrange(lower(hold), least(upper(hold), $3::timestamptz)) END
"""


async def release(scope: api.Scope, delivery_id: UUID, now: datetime) -> None:
    """The delivery no longer needs its compartment from ``now`` on."""
    await scope.connection.execute(
        f"UPDATE deliveries_delivery SET hold = {FREE_HOLD} WHERE tenant_id = $1 AND id = $2 AND NOT isempty(hold)",
        scope.tenant,
        delivery_id,
        now,
    )
