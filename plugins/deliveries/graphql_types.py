"""GraphQL types of the deliveries plugin, mapped from database rows."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import strawberry

import plugins.lockers.graphql_types  # noqa: F401  # registers the canonical enums (TemperatureClass, SizeClass)
from backend import plugin_api as api
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.deliveries import queries, service
from plugins.deliveries.domain import RecipientKind, Status
from tenants.access import require_tenant

strawberry.enum(
    Status,
    name="DeliveryStatus",
    description="reserved -> dropped_off -> pickup_code_sent -> picked_up; expired -> returned; cancelled.",
)
strawberry.enum(RecipientKind, name="RecipientKind")


def _id(value: Any) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="Who the goods are for. Erased (kept only as a count) after the retention period.")
class DeliveryRecipient:
    kind: RecipientKind
    name: str | None
    phone: str | None
    email: str | None
    erased_at: datetime | None


@strawberry.type(description="The goods' temperatures while they were in the compartment.")
class ColdChainRecord:
    limit_c: float | None = strawberry.field(description="The class limit: chilled 8 °C, frozen -18 °C, ambient none.")
    min_c: float | None
    max_c: float | None
    minutes_above_limit: float
    broken: bool = strawberry.field(description="Longer above the limit than the municipality allows.")
    broken_at: datetime | None


@strawberry.type
class DeliveryTransition:
    from_status: Status | None
    to_status: Status
    at: datetime
    actor: str = strawberry.field(description="Who or what made the change (a person, a token, the locker, a timer).")
    detail: str

    @classmethod
    def of(cls, r: Any) -> DeliveryTransition:
        return cls(
            from_status=Status(r["from_status"]) if r["from_status"] else None,
            to_status=Status(r["to_status"]),
            at=r["at"],
            actor=r["actor_label"] or r["actor_kind"],
            detail=r["detail"],
        )


@strawberry.type
class Delivery:
    id: strawberry.ID
    reference: str = strawberry.field(description="The integrator's own order reference (unique per integrator).")
    status: Status
    status_at: datetime
    site_id: strawberry.ID
    compartment_id: strawberry.ID
    temperature_class: TemperatureClass
    size_class: SizeClass
    recipient: DeliveryRecipient
    window_start: datetime
    window_end: datetime
    pickup_deadline: datetime | None
    created_at: datetime
    dropped_off_at: datetime | None
    picked_up_at: datetime | None
    picked_up_by: str
    expired_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None
    cold_chain: ColdChainRecord

    @classmethod
    def of(cls, r: Any) -> Delivery:
        return cls(
            id=_id(r["id"]),
            reference=r["reference"],
            status=Status(r["status"]),
            status_at=r["status_at"],
            site_id=_id(r["site_id"]),
            compartment_id=_id(r["compartment_id"]),
            temperature_class=TemperatureClass(r["temperature_class"]),
            size_class=SizeClass(r["size_class"]),
            recipient=DeliveryRecipient(
                kind=RecipientKind(r["recipient_kind"]),
                name=r["recipient_name"],
                phone=r["recipient_phone"],
                email=r["recipient_email"],
                erased_at=r["recipient_erased_at"],
            ),
            window_start=r["window_start"],
            window_end=r["window_end"],
            pickup_deadline=r["pickup_deadline"],
            created_at=r["created_at"],
            dropped_off_at=r["dropped_off_at"],
            picked_up_at=r["picked_up_at"],
            picked_up_by=r["picked_up_by"],
            expired_at=r["expired_at"],
            returned_at=r["returned_at"],
            cancelled_at=r["cancelled_at"],
            cold_chain=ColdChainRecord(
                limit_c=r["cold_limit_c"],
                min_c=r["cold_min_c"],
                max_c=r["cold_max_c"],
                minutes_above_limit=round(r["cold_seconds_above"] / 60, 2),
                broken=r["cold_chain_broken"],
                broken_at=r["cold_broken_at"],
            ),
        )

    @api.field(description="Every status change, oldest first, with its time and actor.")
    async def transitions(self, info: api.Info) -> list[DeliveryTransition]:
        tenant = require_tenant(info.context.principal)
        async with api.database(info).tenant(tenant) as scope:
            rows = await queries.transitions(scope, service.parse_id(self.id, "Delivery"))
        return [DeliveryTransition.of(r) for r in rows]

    @api.field(description="Messages and webhooks about this delivery, each with its delivery attempts.")
    async def notifications(self, info: api.Info) -> list[api.Notification]:
        tenant = require_tenant(info.context.principal)
        async with api.database(info).tenant(tenant) as scope:
            entries = await api.log_for(scope, "delivery", service.parse_id(self.id, "Delivery"))
        return [api.Notification.of(e) for e in entries]


@strawberry.type(description="A new delivery: its compartment is held and the courier's drop-off code is shown once.")
class DeliveryCreated:
    delivery: Delivery
    drop_off_code: str = strawberry.field(description="Single use; typed on the locker's keypad. Shown only now.")
    drop_off_code_expires_at: datetime


@strawberry.type
class DeliveryWindowChanged:
    delivery: Delivery
    drop_off_code: str | None = strawberry.field(
        description="Set when the delivery moved to another locker: the old code no longer works."
    )
    drop_off_code_expires_at: datetime | None


@strawberry.type
class DropOffCodeIssued:
    delivery: Delivery
    drop_off_code: str
    drop_off_code_expires_at: datetime


@strawberry.type(description="A change to one of the caller's deliveries, as it happens.")
class DeliveryUpdate:
    kind: str = strawberry.field(description="created, status, window_changed, code_accepted or cold_chain_broken.")
    delivery_id: strawberry.ID
    reference: str
    status: Status
    at: datetime

    @classmethod
    def of(cls, payload: dict[str, Any]) -> DeliveryUpdate:
        return cls(
            kind=payload["kind"],
            delivery_id=_id(payload["delivery_id"]),
            reference=payload["reference"],
            status=Status(payload["status"]),
            at=datetime.fromisoformat(payload["at"]),
        )


@strawberry.type
class RouteVisit:
    order: int
    site_id: strawberry.ID
    site_name: str
    address: str
    latitude: float
    longitude: float
    parcels: int
    delivery_ids: list[strawberry.ID]
    leg_km: float
    cumulative_km: float
    arrival_minutes: float = strawberry.field(description="Estimated minutes from leaving the depot.")


@strawberry.type(description="The order to visit a day's sites from a depot (great-circle estimate, no road network).")
class RoutePlan:
    day: date
    visits: list[RouteVisit]
    total_km: float
    total_minutes: float
    method: str
    optimal: bool
    unplaced_site_ids: list[strawberry.ID] = strawberry.field(description="Sites without coordinates: not planned.")


@strawberry.type(description="Deliveries received through lockers in a month and the staff time they saved.")
class DeliverySavings:
    municipality_id: strawberry.ID
    municipality: str
    month: date
    deliveries: int
    cold_chain_broken: int
    minutes_per_delivery: float
    staff_hours_saved: float


TYPES: tuple[type, ...] = (DeliveryCreated, DeliveryWindowChanged, DropOffCodeIssued)
