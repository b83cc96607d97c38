"""Deliveries as the integrator API changes them: create (reserve a compartment and issue the
drop-off code), cancel, move the window, re-issue the drop-off code; and the one function every
status change goes through (``move``), which times, attributes, audits and announces it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend import plugin_api as api
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.deliveries import codes, notices, reservation
from plugins.deliveries.config import DeliveriesConfig
from plugins.deliveries.domain import (
    FINAL,
    TIMESTAMP_OF,
    NewDelivery,
    Status,
    can_move,
    check_new,
    check_window,
    cold_limit,
    hold_until,
)
from plugins.deliveries.effects import Effects
from tenants import audit
from tenants.access import Actor

INSERT = """
INSERT INTO deliveries_delivery (
  tenant_id, id, reference, integrator_id, integrator_label, site_id, compartment_id, temperature_class, size_class,
  recipient_kind, recipient_name, recipient_phone, recipient_email, window_start, window_end, hold, status, status_at,
  created_at, cold_limit_c)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, tstzrange($14, $16), 'reserved', $17, $17,
        $18)
"""


@dataclass(frozen=True)
class Created:
    row: Any
    dropoff: codes.Issued
    existing: bool = False  # the same reference was created before: nothing new was reserved


def parse_id(value: object, kind: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


async def load(scope: api.Scope, delivery_id: UUID, *, lock: bool = False, integrator: UUID | None = None) -> Any:
    """One delivery; with ``integrator`` only if it is that integrator's (else NotFound, alike)."""
    row = await scope.connection.fetchrow(
        "SELECT * FROM deliveries_delivery WHERE tenant_id = $1 AND id = $2" + (" FOR UPDATE" if lock else ""),
        scope.tenant,
        delivery_id,
    )
    if row is None or (integrator is not None and row["integrator_id"] != integrator):
        raise api.NotFound("Delivery", delivery_id)
    return row


async def locker_of(scope: api.Scope, compartment_id: UUID) -> UUID:
    locker: UUID = await scope.connection.fetchval(
        "SELECT locker_id FROM lockers_compartment WHERE tenant_id = $1 AND id = $2", scope.tenant, compartment_id
    )
    return locker


async def create(
    scope: api.Scope,
    new: NewDelivery,
    *,
    integrator: UUID,
    actor: Actor,
    settings: DeliveriesConfig,
    now: datetime,
    effects: Effects,
) -> Created:
    check_new(new, settings, now)
    site_id = parse_id(new.site_id, "Site")
    await reservation.check_offer(scope, site_id, new.temperature_class, new.size_class)
    conn = scope.connection
    existing = await conn.fetchrow(
        "SELECT id FROM deliveries_delivery WHERE tenant_id = $1 AND integrator_id = $2 AND reference = $3",
        scope.tenant,
        integrator,
        new.reference.strip(),
    )
    if existing is not None:
        raise api.Conflict(
            f"You already have a delivery with the reference '{new.reference.strip()}' ({existing['id']}). "
            "Use a new reference, or update that delivery."
        )
    delivery_id = uuid4()
    until = hold_until(new.window_end, settings)
    r = new.recipient

    async def store(held: reservation.Held) -> None:
        await conn.execute(
            INSERT,
            scope.tenant,
            delivery_id,
            new.reference.strip(),
            integrator,
            actor.label[:320],
            site_id,
            held.compartment_id,
            new.temperature_class.value,
            new.size_class.value,
            r.kind.value,
            r.name.strip(),
            r.phone,
            r.email,
            new.window_start,
            new.window_end,
            until,
            now,
            cold_limit(new.temperature_class),
        )

    try:
        held = await reservation.hold(
            scope,
            site_id=site_id,
            temperature_class=new.temperature_class,
            size=new.size_class,
            start=new.window_start,
            until=until,
            now=now,
            store=store,
        )
    except asyncpg.UniqueViolationError:  # the same reference booked at this very moment by another request
        raise api.Conflict(
            f"You already have a delivery with the reference '{new.reference.strip()}'. Use a new reference."
        ) from None
    await _transition_row(scope, delivery_id, None, Status.RESERVED, now, actor, f"compartment {held.compartment_id}")
    dropoff = await codes.issue(
        scope,
        delivery_id=delivery_id,
        locker_id=held.locker_id,
        purpose=codes.Purpose.DROPOFF,
        now=now,
        expires_at=new.window_end + timedelta(minutes=settings.dropoff_grace_minutes),
    )
    row = await load(scope, delivery_id)
    await audit.record(
        scope,
        actor=actor,
        action="deliveries.created",
        target_kind="delivery",
        target_id=delivery_id,
        details={
            "reference": row["reference"],
            "site_id": str(site_id),
            "compartment_id": str(held.compartment_id),
            "temperature_class": row["temperature_class"],
            "size_class": row["size_class"],
            "window": [new.window_start.isoformat(), new.window_end.isoformat()],
        },
    )
    effects.update(row, "created", now)
    return Created(row, dropoff)


async def _transition_row(
    scope: api.Scope,
    delivery_id: UUID,
    before: Status | None,
    after: Status,
    at: datetime,
    actor: Actor,
    detail: str,
) -> None:
    await scope.connection.execute(
        """INSERT INTO deliveries_transition (tenant_id, delivery_id, from_status, to_status, at, actor_kind, actor_id,
                                              actor_label, detail)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        scope.tenant,
        delivery_id,
        before.value if before else None,
        after.value,
        at,
        actor.kind,
        actor.id,
        actor.label[:320],
        detail[:1000],
    )


async def move(
    scope: api.Scope,
    row: Any,
    to: Status,
    *,
    at: datetime,
    actor: Actor,
    effects: Effects,
    detail: str = "",
    notify: bool = True,
    **columns: Any,
) -> Any:
    """Move a (locked) delivery to ``to``: set its status and time columns, free its compartment
    when it ends, record the transition, audit it, announce it live and to its integrator."""
    current = Status(row["status"])
    if not can_move(current, to):
        raise api.Conflict(f"A delivery that is {current.value} cannot become {to.value}.")
    sets = {"status": to.value, "status_at": at, **columns}
    if to in TIMESTAMP_OF:
        sets[TIMESTAMP_OF[to]] = at
    names = list(sets)
    assignments = ", ".join(f"{name} = ${i + 3}" for i, name in enumerate(names))
    updated = await scope.connection.fetchrow(
        f"UPDATE deliveries_delivery SET {assignments} WHERE tenant_id = $1 AND id = $2 RETURNING *",
        scope.tenant,
        row["id"],
        *sets.values(),
    )
    if to in FINAL:
        await reservation.release(scope, row["id"], at)
        await codes.revoke(scope, row["id"], at)
        updated = await load(scope, row["id"])
    await _transition_row(scope, row["id"], current, to, at, actor, detail)
    await audit.record(
        scope,
        actor=actor,
        action=f"deliveries.{to.value}",
        target_kind="delivery",
        target_id=row["id"],
        details={"reference": row["reference"], "from": current.value, "detail": detail},
    )
    effects.update(updated, "status", at)
    if notify:
        await notices.to_integrator(scope, updated, f"delivery.{to.value}", effects)
    return updated


async def cancel(
    scope: api.Scope,
    delivery_id: UUID,
    *,
    integrator: UUID | None,
    actor: Actor,
    reason: str,
    now: datetime,
    effects: Effects,
) -> Any:
    row = await load(scope, delivery_id, lock=True, integrator=integrator)
    if Status(row["status"]) != Status.RESERVED:
        raise api.Conflict(
            f"Only a delivery not yet dropped off can be cancelled; this one is {row['status']}. "
            "Goods in a locker are picked up or returned to the sender when they expire."
        )
    return await move(scope, row, Status.CANCELLED, at=now, actor=actor, effects=effects, detail=reason[:500])


async def update_window(
    scope: api.Scope,
    delivery_id: UUID,
    start: datetime,
    end: datetime,
    *,
    integrator: UUID | None,
    actor: Actor,
    settings: DeliveriesConfig,
    now: datetime,
    effects: Effects,
) -> tuple[Any, codes.Issued | None]:
    """Move the window; the compartment stays when it is free for the new hold, else another
    fitting one is taken (and a new drop-off code issued, since codes belong to a locker)."""
    row = await load(scope, delivery_id, lock=True, integrator=integrator)
    if Status(row["status"]) != Status.RESERVED:
        raise api.Conflict(f"The window can only change before the drop-off; this delivery is {row['status']}.")
    check_window(start, end, settings, now)
    until = hold_until(end, settings)
    conn = scope.connection
    old_locker = await conn.fetchval(
        "SELECT locker_id FROM lockers_compartment WHERE tenant_id = $1 AND id = $2",
        scope.tenant,
        row["compartment_id"],
    )

    async def store(held: reservation.Held) -> None:
        await conn.execute(
            """UPDATE deliveries_delivery SET compartment_id = $3, window_start = $4, window_end = $5,
                      hold = tstzrange($4, $6) WHERE tenant_id = $1 AND id = $2""",
            scope.tenant,
            delivery_id,
            held.compartment_id,
            start,
            end,
            until,
        )

    held = reservation.Held(row["compartment_id"], old_locker, SizeClass(row["size_class"]))
    try:
        async with conn.transaction():  # a savepoint: the same compartment may be taken in the new window
            await store(held)
    except asyncpg.ExclusionViolationError:
        held = await reservation.hold(
            scope,
            site_id=row["site_id"],
            temperature_class=TemperatureClass(row["temperature_class"]),
            size=SizeClass(row["size_class"]),
            start=start,
            until=until,
            now=now,
            store=store,
            moving=delivery_id,
        )
    expires = end + timedelta(minutes=settings.dropoff_grace_minutes)
    issued: codes.Issued | None = None
    if held.locker_id != old_locker:
        issued = await codes.issue(
            scope,
            delivery_id=delivery_id,
            locker_id=held.locker_id,
            purpose=codes.Purpose.DROPOFF,
            now=now,
            expires_at=expires,
        )
    else:
        await conn.execute(
            """UPDATE deliveries_code SET expires_at = $3 WHERE tenant_id = $1 AND delivery_id = $2
               AND purpose = 'dropoff' AND used_at IS NULL AND revoked_at IS NULL""",
            scope.tenant,
            delivery_id,
            expires,
        )
    await audit.record(
        scope,
        actor=actor,
        action="deliveries.window_changed",
        target_kind="delivery",
        target_id=delivery_id,
        details={
            "window": [start.isoformat(), end.isoformat()],
            "compartment_id": str(held.compartment_id),
            "moved": held.compartment_id != row["compartment_id"],
        },
    )
    updated = await load(scope, delivery_id)
    effects.update(updated, "window_changed", now)
    return updated, issued


async def reissue_dropoff(
    scope: api.Scope,
    delivery_id: UUID,
    *,
    integrator: UUID | None,
    actor: Actor,
    settings: DeliveriesConfig,
    now: datetime,
) -> tuple[Any, codes.Issued]:
    """A new drop-off code (the old one stops working), e.g. after the courier closed the door empty."""
    row = await load(scope, delivery_id, lock=True, integrator=integrator)
    if Status(row["status"]) != Status.RESERVED:
        raise api.Conflict(f"A drop-off code is only issued before the drop-off; this delivery is {row['status']}.")
    expires = row["window_end"] + timedelta(minutes=settings.dropoff_grace_minutes)
    if expires <= now:
        raise api.Conflict("The delivery window and its grace have passed; move the window first.")
    locker = await scope.connection.fetchval(
        "SELECT locker_id FROM lockers_compartment WHERE tenant_id = $1 AND id = $2",
        scope.tenant,
        row["compartment_id"],
    )
    issued = await codes.issue(
        scope, delivery_id=delivery_id, locker_id=locker, purpose=codes.Purpose.DROPOFF, now=now, expires_at=expires
    )
    await audit.record(
        scope, actor=actor, action="deliveries.dropoff_code_reissued", target_kind="delivery", target_id=delivery_id
    )
    return row, issued
