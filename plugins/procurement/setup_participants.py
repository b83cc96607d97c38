"""Municipalities join a joint procurement while it is planned and withdraw before the award.
Shares always add up to 100 among the active participants; while the procurement is planned its
estimated value (and so its provisional procedure) follows who takes part. Each act is logged at
federation level and in the municipality's own audit log; a withdrawal gives its needs back."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.procurement import federation, needs, rules
from plugins.procurement.federation import Caller
from plugins.procurement.rules import ContractKind
from plugins.procurement.setup import AWARDED, load, require_planning
from tenants import audit
from tenants.database import Database


async def active_participants(scope: api.Scope, pid: UUID) -> list[Any]:
    return list(
        await scope.connection.fetch(
            """SELECT * FROM procurement_participant WHERE federation_id = $1 AND procurement_id = $2
               AND withdrawn_at IS NULL ORDER BY joined_at, municipality_id FOR UPDATE""",
            scope.federation_id,
            pid,
        )
    )


async def _set_shares(scope: api.Scope, pid: UUID, shares: dict[UUID, Decimal]) -> None:
    for m, share in shares.items():
        await scope.connection.execute(
            """UPDATE procurement_participant SET share_percent = $4
               WHERE federation_id = $1 AND procurement_id = $2 AND municipality_id = $3""",
            scope.federation_id,
            pid,
            m,
            share,
        )


async def _revalue(scope: api.Scope, row: Any, value: Decimal, now: datetime) -> None:
    """A planned procurement's value changed: its provisional procedure follows."""
    kind = ContractKind(row["contract_kind"])
    procedure = (await rules.classify(scope, value, kind, now.date())).procedure
    await scope.connection.execute(
        "UPDATE procurement SET estimated_value_sek = $3, procedure = $4 WHERE federation_id = $1 AND id = $2",
        scope.federation_id,
        row["id"],
        value.quantize(rules.CENT),
        procedure.value,
    )


async def join(scope: api.Scope, c: Caller, pid: UUID, volume: Decimal, share: Decimal | None, *, now: datetime) -> Any:
    """The caller's municipality joins a procurement being planned (or, taking part already,
    changes its part) with its volume and, if given, its share (the others' shrink or grow in
    proportion); otherwise its share follows the value of its volume at the procurement's value
    per unit."""
    municipality = _municipality(c)
    if not volume.is_finite() or not Decimal(0) < volume < needs.MAX_AMOUNT:
        raise api.ValidationFailed.on("estimatedVolume", "Give the volume this municipality needs (above 0).")
    if share is not None and (
        not share.is_finite() or not Decimal(0) < share <= 100 or share != share.quantize(rules.CENT)
    ):
        raise api.ValidationFailed.on("sharePercent", "A share is above 0 and at most 100, with two decimals at most.")
    row = await load(scope, pid, lock=True)
    require_planning(row, "municipalities join or change their part")
    active = await active_participants(scope, pid)
    value = row["estimated_value_sek"]
    volumes = sum((p["estimated_volume"] for p in active), Decimal(0))
    unit = value / volumes if volumes > 0 else Decimal(0)
    mine = next((p for p in active if p["municipality_id"] == municipality), None)
    others = [p for p in active if p is not mine]
    if mine is not None:
        value -= value * mine["share_percent"] / 100
    if share is not None and others and share == 100:
        raise api.ValidationFailed.on("sharePercent", "Others take part too: choose a share below 100.")
    others_total = sum((p["share_percent"] for p in others), Decimal(0))
    if share is not None:
        weights = [p["share_percent"] * (100 - share) / others_total for p in others] + [share]
        new_value = value * 100 / (100 - share) if others and value > 0 else value
    elif volume * unit > 0:
        weights = [p["share_percent"] * value / others_total for p in others] + [volume * unit]
        new_value = value + volume * unit
    else:
        weights = [p["estimated_volume"] for p in others] + [volume]
        new_value = value
    shares = rules.split_shares(weights)
    await scope.connection.execute(
        """INSERT INTO procurement_participant (federation_id, procurement_id, municipality_id, share_percent,
                                                estimated_volume, joined_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (federation_id, procurement_id, municipality_id) DO UPDATE
           SET share_percent = EXCLUDED.share_percent, estimated_volume = EXCLUDED.estimated_volume,
               joined_at = CASE WHEN procurement_participant.withdrawn_at IS NULL
                                THEN procurement_participant.joined_at ELSE EXCLUDED.joined_at END,
               need_id = CASE WHEN procurement_participant.withdrawn_at IS NULL
                              THEN procurement_participant.need_id END,
               withdrawn_at = NULL""",
        scope.federation_id,
        pid,
        municipality,
        shares[-1],
        volume,
        now,
    )
    await _set_shares(scope, pid, {p["municipality_id"]: s for p, s in zip(others, shares, strict=False)})
    await _revalue(scope, row, new_value, now)
    await federation.log(
        scope,
        c,
        "procurement.participation_changed" if mine is not None else "procurement.joined",
        procurement_id=pid,
        details={"municipality_id": municipality, "estimated_volume": volume, "share_percent": shares[-1]},
    )
    return await load(scope, pid)


async def withdraw(scope: api.Scope, c: Caller, pid: UUID, *, now: datetime) -> Any:
    """The caller's municipality leaves a procurement before the award; the others' shares grow
    in proportion (and, while it is planned, the estimated value loses its part)."""
    municipality = _municipality(c)
    row = await load(scope, pid, lock=True)
    if row["status"] in AWARDED:
        raise api.Conflict(
            "The procurement is awarded: a participant can no longer withdraw. "
            "Talk to the lead buyer about your part of the contract."
        )
    if row["status"] == "cancelled":
        raise api.Conflict("The procurement is cancelled: there is nothing to withdraw from.")
    active = await active_participants(scope, pid)
    mine = next((p for p in active if p["municipality_id"] == municipality), None)
    if mine is None:
        raise api.Conflict("This municipality does not take part in the procurement.")
    if row["lead_municipality_id"] == municipality:
        raise api.Conflict(
            "The lead municipality cannot withdraw from the procurement it leads: "
            "ask a federation administrator to take over or cancel it."
        )
    others = [p for p in active if p["municipality_id"] != municipality]
    if not others and row["status"] != "planning":
        raise api.Conflict(
            "This is the last participant of a published procurement: ask a federation administrator to cancel it."
        )
    await scope.connection.execute(
        """UPDATE procurement_participant SET withdrawn_at = $4
           WHERE federation_id = $1 AND procurement_id = $2 AND municipality_id = $3""",
        scope.federation_id,
        pid,
        municipality,
        now,
    )
    shares = rules.split_shares([p["share_percent"] for p in others])
    await _set_shares(scope, pid, {p["municipality_id"]: s for p, s in zip(others, shares, strict=True)})
    if row["status"] == "planning":
        value = row["estimated_value_sek"]
        await _revalue(scope, row, max(value - value * mine["share_percent"] / 100, Decimal(0)), now)
    await federation.log(
        scope,
        c,
        "procurement.withdrawn",
        procurement_id=pid,
        details={"municipality_id": municipality, "share_percent": mine["share_percent"]},
    )
    return await load(scope, pid)


async def join_procurement(
    db: Database, c: Caller, pid: UUID, volume: Decimal, share: Decimal | None, *, now: datetime
) -> Any:
    """``join`` in the federation's transaction, then the municipality's own audit entry."""
    municipality = _municipality(c)
    async with db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        row = await join(scope, c, pid, volume, share, now=now)
    async with db.tenant(municipality) as scope:
        await audit.record(
            scope,
            actor=c.principal.actor,
            action="procurement.joined",
            target_kind="procurement",
            target_id=pid,
            details={"estimated_volume": volume, "share_percent": share},
        )
    return row


async def withdraw_from_procurement(db: Database, c: Caller, pid: UUID, *, now: datetime) -> Any:
    """``withdraw`` in the federation's transaction, then the municipality's needs in it are open again."""
    municipality = _municipality(c)
    async with db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        row = await withdraw(scope, c, pid, now=now)
    await needs.release(db, municipality, pid, actor=c.principal.actor, reason="withdrawn from the procurement")
    async with db.tenant(municipality) as scope:
        await audit.record(
            scope, actor=c.principal.actor, action="procurement.withdrawn", target_kind="procurement", target_id=pid
        )
    return row


def _municipality(c: Caller) -> UUID:
    if c.municipality_id is None:
        raise api.PermissionDenied(
            "No municipality chosen: send the header 'X-Samverka-Tenant: <slug>' for one you belong to."
        )
    return c.municipality_id
