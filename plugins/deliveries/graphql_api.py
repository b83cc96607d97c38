"""The deliveries plugin's GraphQL roots. Integrators (tokens with ``deliveries:*`` scopes, or
users with the integrator role) create and follow their own deliveries; tenant admins and
staff see every delivery of their municipality; federation admins see savings per member."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.deliveries import config, queries, service
from plugins.deliveries.access import PEOPLE, READ_SCOPE, WRITE_SCOPE, WRITERS
from plugins.deliveries.domain import NewDelivery, Recipient, RecipientKind, Status
from plugins.deliveries.effects import TOPIC, Effects
from plugins.deliveries.graphql_types import (
    Delivery,
    DeliveryCreated,
    DeliverySavings,
    DeliveryUpdate,
    DeliveryWindowChanged,
    DropOffCodeIssued,
    RoutePlan,
    RouteVisit,
)
from tenants.database import Database
from tenants.provisioning import all_municipalities

READERS = PEOPLE | {api.Role.INTEGRATOR}


@strawberry.input
class RecipientInput:
    kind: RecipientKind
    name: str = strawberry.field(description="A staff unit (e.g. 'Hemtjänst Norr') or the citizen's name.")
    phone: str | None = strawberry.field(default=None, description="Gets the pickup code by SMS.")
    email: str | None = strawberry.field(default=None, description="Gets the pickup code by e-mail (if no phone).")


@strawberry.input
class CreateDeliveryInput:
    reference: str = strawberry.field(description="Your own order reference; unique among your deliveries.")
    site_id: strawberry.ID
    temperature_class: TemperatureClass
    size_class: SizeClass
    recipient: RecipientInput
    window_start: datetime = strawberry.field(description="When the courier may arrive (with a time zone offset).")
    window_end: datetime


@strawberry.input
class DepotInput:
    latitude: float
    longitude: float


CreateDeliveryResult = Annotated[DeliveryCreated | api.Errors, strawberry.union("CreateDeliveryResult")]
CancelDeliveryResult = Annotated[Delivery | api.Errors, strawberry.union("CancelDeliveryResult")]
UpdateWindowResult = Annotated[DeliveryWindowChanged | api.Errors, strawberry.union("UpdateDeliveryWindowResult")]
ReissueResult = Annotated[DropOffCodeIssued | api.Errors, strawberry.union("ReissueDropOffCodeResult")]


def _reader(info: api.Info) -> tuple[UUID, UUID | None]:
    """The tenant, and the integrator whose deliveries alone the caller may see (None: all)."""
    tenant = api.require_access(info, roles=READERS, scope=READ_SCOPE)
    return tenant, _own(info, tenant)


def _writer(info: api.Info) -> tuple[UUID, UUID | None]:
    tenant = api.require_access(info, roles=WRITERS, scope=WRITE_SCOPE)
    return tenant, _own(info, tenant)


def _own(info: api.Info, tenant: UUID) -> UUID | None:
    p = info.context.principal
    if p.actor.kind != "token" and (p.is_federation_admin or p.roles_in(tenant) & PEOPLE):
        return None
    return api.integrator_id(p)


async def _after(info: api.Info, effects: Effects) -> None:
    async def dispatch(tenant: UUID, ids: list[UUID]) -> None:
        await api.dispatch_after_commit(info.context.services, tenant, ids)

    await effects.run(api.redis(info), dispatch)


@strawberry.type
class DeliveriesQuery:
    @api.field(description="Deliveries, newest first: an integrator's own, or all of the municipality for its staff.")
    async def deliveries(
        self,
        info: api.Info,
        status: Status | None = None,
        site_id: strawberry.ID | None = None,
        cold_chain_broken: bool | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> api.Connection[Delivery]:
        tenant, own = _reader(info)
        where = queries.Filter(
            own, status, service.parse_id(site_id, "Site") if site_id is not None else None, cold_chain_broken
        )
        async with api.database(info).tenant(tenant) as scope:
            result = await queries.page(scope, where, api.PageRequest(first, after))
        return api.connection(result, Delivery.of)

    @api.field(description="One delivery with its transitions, cold-chain record and notification log.")
    async def delivery(self, info: api.Info, id: strawberry.ID) -> Delivery:
        tenant, own = _reader(info)
        async with api.database(info).tenant(tenant) as scope:
            return Delivery.of(await service.load(scope, service.parse_id(id, "Delivery"), integrator=own))

    @api.field(
        description="The order to visit the sites of a day's deliveries (window starting that day), from a depot."
    )
    async def delivery_route(self, info: api.Info, day: date, depot: DepotInput) -> RoutePlan:
        import plugins.deliveries.routing as routing  # OR-Tools loads only when a route is planned

        tenant, own = _reader(info)
        try:
            start = routing.Point(depot.latitude, depot.longitude)
        except ValueError as exc:
            raise api.ValidationFailed.on("depot", str(exc)) from None
        async with api.database(info).tenant(tenant) as scope:
            sites = await queries.day_stops(scope, own, day)
        placed = [s for s in sites if s["latitude"] is not None and s["longitude"] is not None]
        stops = [
            routing.Stop(str(s["id"]), routing.Point(s["latitude"], s["longitude"]), parcels=s["parcels"])
            for s in placed
        ]
        plan = await asyncio.to_thread(routing.plan_route, start, stops)  # OR-Tools releases the GIL
        by_id = {str(s["id"]): s for s in placed}
        return RoutePlan(
            day=day,
            visits=[
                RouteVisit(
                    order=v.order,
                    site_id=strawberry.ID(v.key),
                    site_name=by_id[v.key]["name"],
                    address=by_id[v.key]["address"],
                    latitude=by_id[v.key]["latitude"],
                    longitude=by_id[v.key]["longitude"],
                    parcels=by_id[v.key]["parcels"],
                    delivery_ids=[strawberry.ID(str(d)) for d in by_id[v.key]["deliveries"]],
                    leg_km=round(v.leg_km, 3),
                    cumulative_km=round(v.cumulative_km, 3),
                    arrival_minutes=round(v.arrival_minutes, 1),
                )
                for v in plan.visits
            ],
            total_km=round(plan.total_km, 3),
            total_minutes=round(plan.total_minutes, 1),
            method=plan.method,
            optimal=plan.optimal,
            unplaced_site_ids=[strawberry.ID(str(s["id"])) for s in sites if s not in placed],
        )

    @api.field(description="Deliveries received through lockers and staff hours saved, per month (this municipality).")
    async def delivery_savings(self, info: api.Info, months: list[date]) -> list[DeliverySavings]:
        tenant = api.require_access(info, roles=PEOPLE, scope=READ_SCOPE)
        if not 1 <= len(months) <= 24:
            raise api.ValidationFailed.on("months", "Ask for 1 to 24 months.")
        return await _savings(api.database(info), tenant, months)


@strawberry.type
class DeliveriesFederationQuery:
    @api.field(description="Federation admins: deliveries through lockers and staff hours saved per member and month.")
    async def federation_delivery_savings(self, info: api.Info, months: list[date]) -> list[DeliverySavings]:
        p = info.context.principal
        if not p.is_federation_admin or p.federation_id is None:
            raise api.PermissionDenied("Only federation administrators see every member's savings.")
        if not 1 <= len(months) <= 24:
            raise api.ValidationFailed.on("months", "Ask for 1 to 24 months.")
        db = api.database(info)
        result: list[DeliverySavings] = []
        for m in await all_municipalities(db, federation_id=p.federation_id):
            result += await _savings(db, m.id, months, name=m.name)
        return result


async def _savings(db: Database, tenant: UUID, months: list[date], name: str | None = None) -> list[DeliverySavings]:
    async with db.tenant(tenant) as scope:
        if not await api.plugin_enabled(scope, config.PLUGIN_ID):
            return []
        settings = await config.load(scope)
        rows = await queries.savings(scope, months, settings.minutes_saved_per_delivery)
        if name is None:
            name = await scope.connection.fetchval("SELECT name FROM municipality WHERE id = $1", tenant) or ""
    return [
        DeliverySavings(
            municipality_id=strawberry.ID(str(tenant)),
            municipality=name or "",
            month=r.month,
            deliveries=r.deliveries,
            cold_chain_broken=r.cold_chain_broken,
            minutes_per_delivery=r.minutes_per_delivery,
            staff_hours_saved=r.staff_hours_saved,
        )
        for r in rows
    ]


@strawberry.type
class DeliveriesMutation:
    @api.mutation(description="Book a delivery: a fitting compartment is held and a drop-off code returned (once).")
    @api.errors_as_data
    async def create_delivery(self, info: api.Info, input: CreateDeliveryInput) -> CreateDeliveryResult:
        tenant, _ = _writer(info)
        p = info.context.principal
        r = input.recipient
        new = NewDelivery(
            reference=input.reference,
            site_id=str(input.site_id),
            temperature_class=input.temperature_class,
            size_class=input.size_class,
            recipient=Recipient(r.kind, r.name, r.phone or None, (r.email or "").strip().lower() or None),
            window_start=input.window_start,
            window_end=input.window_end,
        )
        effects = Effects(tenant)
        async with api.database(info).tenant(tenant) as scope:
            settings = await config.load(scope)
            created = await service.create(
                scope,
                new,
                integrator=api.integrator_id(p),
                actor=p.actor,
                settings=settings,
                now=utcnow(),
                effects=effects,
            )
        await _after(info, effects)
        return DeliveryCreated(
            delivery=Delivery.of(created.row),
            drop_off_code=created.dropoff.code,
            drop_off_code_expires_at=created.dropoff.expires_at,
        )

    @api.mutation(description="Cancel a delivery that is not dropped off yet; its compartment is freed.")
    @api.errors_as_data
    async def cancel_delivery(self, info: api.Info, id: strawberry.ID, reason: str = "") -> CancelDeliveryResult:
        tenant, own = _writer(info)
        effects = Effects(tenant)
        async with api.database(info).tenant(tenant) as scope:
            row = await service.cancel(
                scope,
                service.parse_id(id, "Delivery"),
                integrator=own,
                actor=info.context.principal.actor,
                reason=reason or "cancelled by the sender",
                now=utcnow(),
                effects=effects,
            )
        await _after(info, effects)
        return Delivery.of(row)

    @api.mutation(description="Move the delivery window (before the drop-off).")
    @api.errors_as_data
    async def update_delivery_window(
        self, info: api.Info, id: strawberry.ID, window_start: datetime, window_end: datetime
    ) -> UpdateWindowResult:
        tenant, own = _writer(info)
        effects = Effects(tenant)
        async with api.database(info).tenant(tenant) as scope:
            settings = await config.load(scope)
            row, issued = await service.update_window(
                scope,
                service.parse_id(id, "Delivery"),
                window_start,
                window_end,
                integrator=own,
                actor=info.context.principal.actor,
                settings=settings,
                now=utcnow(),
                effects=effects,
            )
        await _after(info, effects)
        return DeliveryWindowChanged(
            delivery=Delivery.of(row),
            drop_off_code=issued.code if issued else None,
            drop_off_code_expires_at=issued.expires_at if issued else None,
        )

    @api.mutation(description="A new drop-off code (the old one stops working), e.g. after the door was closed empty.")
    @api.errors_as_data
    async def reissue_drop_off_code(self, info: api.Info, id: strawberry.ID) -> ReissueResult:
        tenant, own = _writer(info)
        async with api.database(info).tenant(tenant) as scope:
            settings = await config.load(scope)
            row, issued = await service.reissue_dropoff(
                scope,
                service.parse_id(id, "Delivery"),
                integrator=own,
                actor=info.context.principal.actor,
                settings=settings,
                now=utcnow(),
            )
        return DropOffCodeIssued(
            delivery=Delivery.of(row), drop_off_code=issued.code, drop_off_code_expires_at=issued.expires_at
        )


@strawberry.type
class DeliveriesSubscription:
    @api.subscription(description="Changes to deliveries as they happen: an integrator's own, or all for staff.")
    async def delivery_updates(self, info: api.Info) -> AsyncGenerator[DeliveryUpdate, None]:
        _, own = _reader(info)
        async for payload in api.subscribe(info, config.PLUGIN_ID, TOPIC, roles=READERS, scope=READ_SCOPE):
            update = json.loads(payload)
            if own is None or update["integrator_id"] == str(own):
                yield DeliveryUpdate.of(update)
