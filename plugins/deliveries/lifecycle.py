"""The delivery lifecycle driven by real locker events (the ``lockers.events`` hook) and by time.

Events (inside the lockers ingest's tenant transaction, after the batch is stored):

* ``CodeEntered`` at a locker: the code is checked (single use, expiry, lock-out after wrong
  tries, every attempt audited); a good one sends ``UnlockCompartment`` for its delivery's
  compartment after commit.
* ``StateChanged`` of a compartment: the door closed with content after the drop-off code was
  used -> dropped off, then a pickup code goes to the recipient (pickup code sent); the door
  opened after the drop-off and then closed empty -> picked up (or, when expired, returned).
* ``Telemetry`` while goods are inside: the cold-chain record grows; passing the allowed time
  above the class limit flags the delivery at once and tells the integrator and municipality.

Time (``sweep``, run by the worker every few seconds): drop-off windows that passed without a
drop-off are cancelled, reminders go out, uncollected deliveries expire (a return code goes to
the integrator), a chain that breaks without new samples is caught, and recipient details are
erased after the retention period.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from backend import plugin_api as api
from opcua_gateway.contracts import CodeEntered, Opened, StateChanged, Telemetry
from plugins.deliveries import codes, coldchain, config, notices, service
from plugins.deliveries.config import DeliveriesConfig
from plugins.deliveries.domain import GOODS_INSIDE, Status
from plugins.deliveries.effects import Dispatch, Effects
from plugins.lockers import commands
from plugins.lockers import config as lockers_config
from plugins.lockers.hooks import AfterCommit, PlacedEvent
from tenants import audit
from tenants.access import Actor

log = logging.getLogger(__name__)

KEYPAD = "keypad"
LOCKER = Actor.system("locker")

ACTIVE_AT = """
SELECT d.*, EXISTS (SELECT 1 FROM deliveries_code k WHERE k.tenant_id = d.tenant_id AND k.delivery_id = d.id
                    AND k.purpose = 'dropoff' AND k.used_at IS NOT NULL) AS dropoff_used,
       EXISTS (SELECT 1 FROM deliveries_code k WHERE k.tenant_id = d.tenant_id AND k.delivery_id = d.id
                    AND k.purpose IN ('pickup', 'return') AND k.used_at IS NOT NULL) AS taker_code_used
FROM deliveries_delivery d
WHERE d.tenant_id = $1 AND d.compartment_id = ANY($2::uuid[])
  AND d.status IN ('reserved', 'dropped_off', 'pickup_code_sent', 'expired')
ORDER BY d.id FOR UPDATE OF d
"""

PLACE = """
SELECT s.name AS site, l.name AS locker, c.compartment_key FROM lockers_compartment c
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
JOIN lockers_site s ON s.tenant_id = l.tenant_id AND s.id = l.site_id
WHERE c.tenant_id = $1 AND c.id = $2
"""

# Set by the composition root (the notification service's dispatcher for this process).
_dispatch: Dispatch | None = None


def use_dispatch(dispatch: Dispatch | None) -> None:
    global _dispatch
    _dispatch = dispatch


def dispatcher() -> Dispatch | None:
    return _dispatch


def after(effects: Effects) -> list[AfterCommit]:
    if not (effects.live or effects.commands or effects.notifications):
        return []

    async def run(redis: Redis) -> None:
        await effects.run(redis, _dispatch)

    return [run]


async def place(scope: api.Scope, compartment_id: UUID) -> str:
    row = await scope.connection.fetchrow(PLACE, scope.tenant, compartment_id)
    return f"{row['site']}, {row['locker']} fack {row['compartment_key']}" if row else str(compartment_id)


async def on_locker_events(scope: api.Scope, events: Sequence[PlacedEvent], now: datetime) -> list[AfterCommit]:
    """The ``lockers.events`` hook."""
    typed = [p for p in events if isinstance(p.event, CodeEntered) and p.locker_id is not None]
    by_compartment: dict[UUID, list[PlacedEvent]] = defaultdict(list)
    for p in events:
        if p.compartment_id is not None and isinstance(p.event, StateChanged | Telemetry | Opened):
            by_compartment[p.compartment_id].append(p)
    if not typed and not by_compartment:
        return []
    settings = await config.load(scope)
    effects = Effects(scope.tenant)
    for p in sorted(typed, key=lambda p: (p.event.at, p.event.seq)):
        await _code(scope, p, settings, now, effects)
    if by_compartment:
        rows = await scope.connection.fetch(ACTIVE_AT, scope.tenant, sorted(by_compartment))
        active: dict[UUID, list[Any]] = defaultdict(list)
        for row in rows:
            active[row["compartment_id"]].append(dict(row))
        for compartment_id, placed in by_compartment.items():
            if compartment_id in active:
                await _compartment(scope, compartment_id, placed, active[compartment_id], settings, effects)
    return after(effects)


async def _code(scope: api.Scope, p: PlacedEvent, settings: DeliveriesConfig, now: datetime, effects: Effects) -> None:
    assert isinstance(p.event, CodeEntered) and p.locker_id is not None
    checked = await codes.check(
        scope,
        p.locker_id,
        p.event.code,
        now,
        attempts=settings.code_attempts,
        lockout=timedelta(minutes=settings.code_lockout_minutes),
    )
    details: dict[str, Any] = {"locker_id": str(p.locker_id), "event_id": p.event.event_id, "at": p.event.at}
    if checked.match is not None:
        details |= {"delivery_id": str(checked.match.delivery_id), "purpose": checked.match.purpose.value}
    if checked.verdict is not codes.Verdict.ACCEPTED:
        details |= {"verdict": checked.verdict.value, "failures": checked.failures}
        action = "deliveries.code_refused" if checked.verdict is codes.Verdict.BLOCKED else "deliveries.code_rejected"
        await audit.record(
            scope,
            actor=Actor.system(KEYPAD),
            action=action,
            target_kind="locker",
            target_id=p.locker_id,
            details=details,
        )
        if checked.newly_blocked:
            await audit.record(
                scope,
                actor=Actor.system(KEYPAD),
                action="deliveries.keypad_blocked",
                target_kind="locker",
                target_id=p.locker_id,
                details={"until": checked.blocked_until, "failures": settings.code_attempts},
            )
        return
    assert checked.match is not None
    row = await service.load(scope, checked.match.delivery_id, lock=True)
    wanted = {
        codes.Purpose.DROPOFF: {Status.RESERVED},
        codes.Purpose.PICKUP: {Status.DROPPED_OFF, Status.PICKUP_CODE_SENT},
        codes.Purpose.RETURN: {Status.EXPIRED},
    }[checked.match.purpose]
    if Status(row["status"]) not in wanted:  # codes are revoked on every move, so this is a late race
        await audit.record(
            scope,
            actor=Actor.system(KEYPAD),
            action="deliveries.code_rejected",
            target_kind="locker",
            target_id=p.locker_id,
            details=details | {"verdict": f"delivery is {row['status']}"},
        )
        return
    label = {"dropoff": "courier", "pickup": "recipient", "return": "courier (return)"}[checked.match.purpose.value]
    actor = Actor("system", None, f"{KEYPAD}:{label}:{row['reference']}")
    timeout = (await lockers_config.load(scope)).open_timeout_s
    command = await commands.request_unlock(scope, row["compartment_id"], actor=actor, timeout_s=timeout)
    effects.commands.append(command)
    await audit.record(
        scope,
        actor=actor,
        action="deliveries.code_accepted",
        target_kind="delivery",
        target_id=row["id"],
        details=details | {"request_id": command.request_id},
    )
    effects.update(row, "code_accepted", p.event.at, purpose=checked.match.purpose.value)


async def _compartment(
    scope: api.Scope,
    compartment_id: UUID,
    placed: list[PlacedEvent],
    deliveries: list[dict[str, Any]],
    settings: DeliveriesConfig,
    effects: Effects,
) -> None:
    for p in sorted(placed, key=lambda p: (p.event.at, p.event.seq)):
        inside = next((d for d in deliveries if Status(d["status"]) in GOODS_INSIDE), None)
        event = p.event
        if isinstance(event, Telemetry):
            if inside is not None and event.temperature_c is not None:
                inside.update(await _sample(scope, inside, event.temperature_c, event.at, settings, effects))
            continue
        opening = isinstance(event, Opened) or (isinstance(event, StateChanged) and event.state.door_open is True)
        if inside is not None and opening and inside["opened_after_dropoff_at"] is None:
            inside.update(await _set(scope, inside, opened_after_dropoff_at=event.at))
            continue
        if not isinstance(event, StateChanged) or event.state.door_open is not False:
            continue
        state = event.state
        if state.occupied is True and inside is None:
            waiting = [d for d in deliveries if d["status"] == Status.RESERVED.value and d["dropoff_used"]]
            if waiting:
                new = await _dropped_off(scope, waiting[0], event.at, settings, effects)
                deliveries[deliveries.index(waiting[0])] = new
        elif (
            state.occupied is False
            and inside is not None
            and (inside["opened_after_dropoff_at"] is not None or inside["taker_code_used"])
        ):  # an opening seen, or a pickup/return code opened it (a quick open-close may show only the end)
            done = await _taken_out(scope, inside, event.at, effects)
            deliveries[deliveries.index(inside)] = done


async def _set(scope: api.Scope, row: dict[str, Any], **columns: Any) -> dict[str, Any]:
    names = list(columns)
    assignments = ", ".join(f"{n} = ${i + 3}" for i, n in enumerate(names))
    await scope.connection.execute(
        f"UPDATE deliveries_delivery SET {assignments} WHERE tenant_id = $1 AND id = $2",
        scope.tenant,
        row["id"],
        *columns.values(),
    )
    return columns


async def _dropped_off(
    scope: api.Scope, row: dict[str, Any], at: datetime, settings: DeliveriesConfig, effects: Effects
) -> dict[str, Any]:
    temperature = await scope.connection.fetchval(
        "SELECT temperature_c FROM lockers_compartment WHERE tenant_id = $1 AND id = $2",
        scope.tenant,
        row["compartment_id"],
    )
    deadline = at + timedelta(hours=settings.pickup_hours)
    moved = await service.move(
        scope,
        row,
        Status.DROPPED_OFF,
        at=at,
        actor=Actor.system("locker: door closed with content"),
        effects=effects,
        pickup_deadline=deadline,
        **coldchain.columns(coldchain.start(temperature, at)),
    )
    issued = await codes.issue(
        scope,
        delivery_id=row["id"],
        locker_id=await service.locker_of(scope, row["compartment_id"]),
        purpose=codes.Purpose.PICKUP,
        now=at,
        expires_at=deadline,
    )
    await notices.pickup_code(scope, moved, await place(scope, row["compartment_id"]), issued.code, effects)
    sent = await service.move(
        scope,
        moved,
        Status.PICKUP_CODE_SENT,
        at=at,
        actor=Actor.system("samverka"),
        effects=effects,
        detail="pickup code sent by "
        + " and ".join(
            name for name, given in (("SMS", moved["recipient_phone"]), ("e-mail", moved["recipient_email"])) if given
        ),
    )
    return {**dict(sent), "dropoff_used": True}


async def _taken_out(scope: api.Scope, row: dict[str, Any], at: datetime, effects: Effects) -> dict[str, Any]:
    """Goods out, door closed: picked up, or (when expired) returned. The record is final now."""
    record = await coldchain.from_history(scope, row["compartment_id"], row["dropped_off_at"], at, row["cold_limit_c"])
    expired = row["status"] == Status.EXPIRED.value
    used = await scope.connection.fetchval(
        """SELECT purpose FROM deliveries_code WHERE tenant_id = $1 AND delivery_id = $2 AND used_at IS NOT NULL
           ORDER BY used_at DESC LIMIT 1""",
        scope.tenant,
        row["id"],
    )
    by = {"pickup": "recipient (pickup code)", "return": "courier (return code)"}.get(
        used or "", "opened at the locker"
    )
    moved = await service.move(
        scope,
        row,
        Status.RETURNED if expired else Status.PICKED_UP,
        at=at,
        actor=Actor.system(f"locker: door closed empty, {by}"),
        effects=effects,
        picked_up_by=by,
        **coldchain.columns(record),
    )
    return {**dict(moved), "dropoff_used": True}


async def _sample(
    scope: api.Scope,
    row: dict[str, Any],
    temperature_c: float,
    at: datetime,
    settings: DeliveriesConfig,
    effects: Effects,
) -> dict[str, Any]:
    record = coldchain.add(coldchain.of_row(row), temperature_c, at, row["cold_limit_c"])
    changes = coldchain.columns(record)
    if not row["cold_chain_broken"] and record.seconds_above > settings.cold_chain_allowed_minutes * 60:
        changes |= {"cold_chain_broken": True, "cold_broken_at": at}
    updated = {**row, **await _set(scope, row, **changes)}
    if changes.get("cold_chain_broken"):
        await _broken(scope, updated, at, settings, effects)
    return updated


async def _broken(
    scope: api.Scope, row: dict[str, Any], at: datetime, settings: DeliveriesConfig, effects: Effects
) -> None:
    await audit.record(
        scope,
        actor=Actor.system("cold chain"),
        action="deliveries.cold_chain_broken",
        target_kind="delivery",
        target_id=row["id"],
        details={
            "reference": row["reference"],
            "limit_c": row["cold_limit_c"],
            "seconds_above": round(row["cold_seconds_above"]),
            "max_c": row["cold_max_c"],
        },
    )
    effects.update(row, "cold_chain_broken", at, seconds_above=round(row["cold_seconds_above"]))
    await notices.to_integrator(
        scope,
        row,
        "delivery.cold_chain_broken",
        effects,
        coldChain={"limitC": row["cold_limit_c"], "maxC": row["cold_max_c"], "secondsAbove": row["cold_seconds_above"]},
    )
    await notices.cold_chain_to_municipality(scope, row, settings.alert_email, effects)


# --- time -------------------------------------------------------------------------------------

SWEEP_LIMIT = 200


async def sweep(scope: api.Scope, now: datetime) -> Effects:
    """Everything that happens because time passed, for one tenant (bounded per call)."""
    settings = await config.load(scope)
    effects = Effects(scope.tenant)
    conn, tenant = scope.connection, scope.tenant
    grace = timedelta(minutes=settings.dropoff_grace_minutes)
    for row in await conn.fetch(
        """SELECT * FROM deliveries_delivery WHERE tenant_id = $1 AND status = 'reserved'
             AND window_end + $2::interval <= $3::timestamptz
           ORDER BY window_end LIMIT $4 FOR UPDATE SKIP LOCKED""",
        tenant,
        grace,
        now,
        SWEEP_LIMIT,
    ):
        await service.move(
            scope,
            row,
            Status.CANCELLED,
            at=now,
            actor=Actor.system("samverka"),
            effects=effects,
            detail="not dropped off within the window",
        )
    for row in await conn.fetch(
        """SELECT * FROM deliveries_delivery WHERE tenant_id = $1 AND status = 'pickup_code_sent'
             AND reminder_sent_at IS NULL AND pickup_deadline - $2::interval <= $3::timestamptz
             AND pickup_deadline > $3::timestamptz
           ORDER BY pickup_deadline LIMIT $4 FOR UPDATE SKIP LOCKED""",
        tenant,
        timedelta(hours=settings.reminder_hours),
        now,
        SWEEP_LIMIT,
    ):
        if settings.reminder_hours > 0:
            await notices.reminder(scope, row, await place(scope, row["compartment_id"]), effects)
        await _set(scope, dict(row), reminder_sent_at=now)
    for row in await conn.fetch(
        """SELECT * FROM deliveries_delivery WHERE tenant_id = $1 AND status IN ('dropped_off', 'pickup_code_sent')
             AND pickup_deadline <= $2 ORDER BY pickup_deadline LIMIT $3 FOR UPDATE SKIP LOCKED""",
        tenant,
        now,
        SWEEP_LIMIT,
    ):
        await _expire(scope, row, now, settings, effects)
    for row in await conn.fetch(
        """SELECT * FROM deliveries_delivery WHERE tenant_id = $1 AND status IN ('dropped_off', 'pickup_code_sent',
             'expired') AND NOT cold_chain_broken AND cold_last_c > cold_limit_c LIMIT $2 FOR UPDATE SKIP LOCKED""",
        tenant,
        SWEEP_LIMIT,
    ):
        record = coldchain.of_row(row)
        if coldchain.above_until(record, now, row["cold_limit_c"]) > settings.cold_chain_allowed_minutes * 60:
            seconds = coldchain.above_until(record, now, row["cold_limit_c"])
            updated = {
                **dict(row),
                **await _set(
                    scope,
                    dict(row),
                    cold_chain_broken=True,
                    cold_broken_at=now,
                    cold_seconds_above=seconds,
                    cold_last_at=now,
                ),
            }
            await _broken(scope, updated, now, settings, effects)
    await erase_recipients(scope, now, settings)
    return effects


async def _expire(scope: api.Scope, row: Any, now: datetime, settings: DeliveriesConfig, effects: Effects) -> None:
    moved = await service.move(
        scope,
        row,
        Status.EXPIRED,
        at=now,
        actor=Actor.system("samverka"),
        effects=effects,
        detail="not picked up in time",
        notify=False,
    )
    issued = await codes.issue(
        scope,
        delivery_id=row["id"],
        locker_id=await service.locker_of(scope, row["compartment_id"]),
        purpose=codes.Purpose.RETURN,
        now=now,
        expires_at=now + timedelta(hours=settings.return_hours),
    )
    await notices.to_integrator(
        scope,
        moved,
        "delivery.expired",
        effects,
        returnCode={
            "code": issued.code,
            "expiresAt": issued.expires_at.isoformat(),
            "place": await place(scope, row["compartment_id"]),
        },
    )
    await notices.expired_to_recipient(scope, moved, await place(scope, row["compartment_id"]), effects)


async def erase_recipients(scope: api.Scope, now: datetime, settings: DeliveriesConfig) -> int:
    """Erase the recipient details of deliveries that ended longer ago than the retention period;
    the delivery stays (counts and the cold-chain record), the person does not."""
    rows = await scope.connection.fetch(
        """UPDATE deliveries_delivery SET recipient_name = NULL, recipient_phone = NULL, recipient_email = NULL,
                  recipient_erased_at = $2
           WHERE tenant_id = $1 AND recipient_erased_at IS NULL
             AND status IN ('picked_up', 'returned', 'cancelled') AND status_at < $3
           RETURNING id""",
        scope.tenant,
        now,
        now - timedelta(days=settings.retention_days),
    )
    if rows:
        await api.erase_notifications(scope, subject_kind=notices.SUBJECT_KIND, subject_ids=[r["id"] for r in rows])
        await audit.record(
            scope,
            actor=Actor.system("retention"),
            action="deliveries.recipients_erased",
            target_kind="delivery",
            details={"count": len(rows), "retention_days": settings.retention_days},
        )
    return len(rows)
