"""The lockers plugin's GraphQL roots; the registry guards every field with the plugin's
enablement, and each resolver checks the caller's role or token scope."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.lockers import alarms, commands, config, live, queries, registration
from plugins.lockers.access import ADMINS, ALARMS_SCOPE, MANAGE_SCOPE, OPEN_SCOPE, READ_SCOPE, STAFF
from plugins.lockers.graphql_types import (
    CommandFailed,
    Compartment,
    CompartmentOpened,
    Locker,
    LockerAlarm,
    LockerEndpoint,
    LockerEventInfo,
    LockerRegistered,
    Site,
    TemperatureSample,
)


@strawberry.input
class RegisterSiteInput:
    name: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None


@strawberry.input
class RegisterEndpointInput:
    name: str = strawberry.field(description="1-40 of a-z, 0-9 and '-'; the endpoint id is '<tenant hex>.<name>'.")
    vendor: str = strawberry.field(description="The gateway's vendor profile, e.g. kylbox, frostlogik, nordlas.")
    url: str = strawberry.field(description="opc.tcp://host:port")


@strawberry.input
class CompartmentInput:
    key: str = strawberry.field(description="The compartment's key within its locker, as the gateway reports it.")
    temperature_class: TemperatureClass
    size_class: SizeClass


@strawberry.input
class RegisterLockerInput:
    site_id: strawberry.ID
    endpoint_id: strawberry.ID
    vendor_locker_id: str = strawberry.field(description="The locker's id at its endpoint (from the vendor profile).")
    name: str
    compartments: list[CompartmentInput]


RegisterSiteResult = Annotated[Site | api.Errors, strawberry.union("RegisterSiteResult")]
RegisterEndpointResult = Annotated[LockerEndpoint | api.Errors, strawberry.union("RegisterEndpointResult")]
RegisterLockerResult = Annotated[LockerRegistered | api.Errors, strawberry.union("RegisterLockerResult")]
AcknowledgeAlarmResult = Annotated[LockerAlarm | api.Errors, strawberry.union("AcknowledgeAlarmResult")]
OpenCompartmentResult = Annotated[
    CompartmentOpened | CommandFailed | api.Errors, strawberry.union("OpenCompartmentResult")
]


@strawberry.type
class LockersQuery:
    @api.field(description="Locker sites of this municipality.")
    async def sites(self, info: api.Info) -> list[Site]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            return [Site.of(r) for r in await queries.sites(scope)]

    @api.field(description="Gateway endpoints registered in this municipality.")
    async def locker_endpoints(self, info: api.Info) -> list[LockerEndpoint]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            return [LockerEndpoint.of(r) for r in await queries.endpoints(scope)]

    @api.field(description="Lockers, of one site or all, with their health.")
    async def lockers(self, info: api.Info, site_id: strawberry.ID | None = None) -> list[Locker]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        site = queries.parse_id(site_id, "Site") if site_id is not None else None
        async with api.database(info).tenant(tenant) as scope:
            return [Locker.of(r) for r in await queries.lockers(scope, site)]

    @api.field(description="A locker's compartments: state, health, latest temperature, open alarms.")
    async def compartments(self, info: api.Info, locker_id: strawberry.ID) -> list[Compartment]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            rows, open_alarms = await queries.compartments(scope, queries.parse_id(locker_id, "Locker"))
        return [Compartment.of(r, open_alarms.get(r["id"], [])) for r in rows]

    @api.field(description="Alarms, newest first: open ones (default) or all.")
    async def locker_alarms(
        self, info: api.Info, only_open: bool = True, locker_id: strawberry.ID | None = None, first: int = 100
    ) -> list[LockerAlarm]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        locker = queries.parse_id(locker_id, "Locker") if locker_id is not None else None
        async with api.database(info).tenant(tenant) as scope:
            rows = await queries.alarms(scope, only_open=only_open, locker_id=locker, first=first)
        return [LockerAlarm.of(r) for r in rows]

    @api.field(description="A compartment's temperature samples in [since, until), oldest first.")
    async def temperature_history(
        self, info: api.Info, compartment_id: strawberry.ID, since: datetime, until: datetime, limit: int = 1000
    ) -> list[TemperatureSample]:
        tenant = api.require_access(info, roles=STAFF, scope=READ_SCOPE)
        compartment = queries.parse_id(compartment_id, "Compartment")
        async with api.database(info).tenant(tenant) as scope:
            rows = await queries.temperature_history(scope, compartment, since, until, limit)
        return [TemperatureSample(at=r["at"], temperature_c=r["temperature_c"]) for r in rows]


@strawberry.type
class LockersMutation:
    @api.mutation(description="Register a locker site (a place with lockers).")
    @api.errors_as_data
    async def register_site(self, info: api.Info, input: RegisterSiteInput) -> RegisterSiteResult:
        tenant = api.require_access(info, roles=ADMINS, scope=MANAGE_SCOPE)
        new = registration.NewSite(input.name, input.address, input.latitude, input.longitude)
        async with api.database(info).tenant(tenant) as scope:
            return Site.of(await registration.register_site(scope, new, actor=info.context.principal.actor))

    @api.mutation(description="Register a gateway endpoint; configure the gateway with the returned id.")
    @api.errors_as_data
    async def register_endpoint(self, info: api.Info, input: RegisterEndpointInput) -> RegisterEndpointResult:
        tenant = api.require_access(info, roles=ADMINS, scope=MANAGE_SCOPE)
        new = registration.NewEndpoint(input.name, input.vendor, input.url)
        async with api.database(info).tenant(tenant) as scope:
            return LockerEndpoint.of(
                await registration.register_endpoint(scope, new, actor=info.context.principal.actor)
            )

    @api.mutation(description="Register a locker at a site, served by an endpoint, with its compartments.")
    @api.errors_as_data
    async def register_locker(self, info: api.Info, input: RegisterLockerInput) -> RegisterLockerResult:
        tenant = api.require_access(info, roles=ADMINS, scope=MANAGE_SCOPE)
        new = registration.NewLocker(
            str(input.site_id),
            str(input.endpoint_id),
            input.vendor_locker_id,
            input.name,
            tuple(registration.NewCompartment(c.key, c.temperature_class, c.size_class) for c in input.compartments),
        )
        async with api.database(info).tenant(tenant) as scope:
            row = await registration.register_locker(scope, new, actor=info.context.principal.actor)
            rows, _ = await queries.compartments(scope, row["id"])
            locker = await queries.locker(scope, row["id"])
        return LockerRegistered(locker=Locker.of(locker), compartments=[Compartment.of(r, []) for r in rows])

    @api.mutation(description="Acknowledge an alarm (again changes nothing).")
    @api.errors_as_data
    async def acknowledge_alarm(self, info: api.Info, alarm_id: strawberry.ID) -> AcknowledgeAlarmResult:
        tenant = api.require_access(info, roles=STAFF, scope=ALARMS_SCOPE)
        alarm_uuid = queries.parse_id(alarm_id, "Alarm")
        async with api.database(info).tenant(tenant) as scope:
            await alarms.acknowledge(scope, alarm_uuid, actor=info.context.principal.actor, now=utcnow())
            row = await queries.alarm(scope, alarm_uuid)
        await live.publish(api.redis(info), tenant, [live.backend_payload("alarm_acknowledged", utcnow(), dict(row))])
        return LockerAlarm.of(row)

    @api.mutation(description="Unlock a compartment; answers once the locker confirmed, failed or timed out.")
    @api.errors_as_data
    async def open_compartment(self, info: api.Info, compartment_id: strawberry.ID) -> OpenCompartmentResult:
        tenant = api.require_access(info, roles=STAFF, scope=OPEN_SCOPE)
        actor, db = info.context.principal.actor, api.database(info)
        target = queries.parse_id(compartment_id, "Compartment")
        async with db.tenant(tenant) as scope:
            settings = await config.load(scope)
            command = await commands.request_unlock(scope, target, actor=actor, timeout_s=settings.open_timeout_s)
        outcome = await commands.send_and_wait(db, api.redis(info), tenant, command, actor=actor)
        if outcome.outcome != "confirmed":
            return CommandFailed.of(outcome)
        async with db.tenant(tenant) as scope:
            row, open_alarms = await queries.compartment(scope, target)
        return CompartmentOpened(
            request_id=strawberry.ID(str(outcome.request_id)),
            compartment=Compartment.of(row, open_alarms),
            confirmed_at=outcome.completed_at,
        )


@strawberry.type
class LockersSubscription:
    @api.subscription(description="Events at this municipality's lockers as they arrive (one locker, or all).")
    async def locker_events(
        self, info: api.Info, locker_id: strawberry.ID | None = None
    ) -> AsyncGenerator[LockerEventInfo, None]:
        only = str(queries.parse_id(locker_id, "Locker")) if locker_id is not None else None
        async for payload in api.subscribe(info, config.PLUGIN_ID, live.TOPIC, roles=STAFF, scope=READ_SCOPE):
            event = json.loads(payload)
            if only is None or event["locker_id"] == only:
                yield LockerEventInfo.of(event)
