"""GraphQL types of cost allocation: cost keys, their parameters as typed input, the report."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import strawberry
from strawberry.scalars import JSON

from backend import plugin_api as api
from plugins.procurement.costs import CostKeyRecord
from plugins.procurement.costs_report import Allocation, Line, SegmentCost
from plugins.procurement.costs_rules import Method, Use

# The domain enums themselves are the GraphQL enums (strawberry.enum registers and returns the class).
strawberry.enum(Method, name="CostKeyMethod", description="How a contract's cost is split.")
strawberry.enum(Use, name="CostUse", description="What use a per-use key counts.")


@strawberry.input
class MunicipalityShareInput:
    municipality_id: strawberry.ID
    percent: Decimal = strawberry.field(description="Above 0, at most 100, two decimals; all shares sum to 100.")


@strawberry.input
class MethodWeightInput:
    method: Method
    percent: Decimal = strawberry.field(description="The weight of this method; the weights sum to 100.")


@strawberry.input(description="FIXED: shares. PER_USE: use. MIX: weights, and the shares/use its methods need.")
class CostKeyParametersInput:
    shares: list[MunicipalityShareInput] | None = None
    use: Use | None = None
    weights: list[MethodWeightInput] | None = None

    def as_dict(self) -> dict[str, Any]:
        """The stored form, {"shares": {id: percent}, "use": ..., "weights": {method: percent}}."""
        out: dict[str, Any] = {}
        if self.shares is not None:
            ids = [str(s.municipality_id) for s in self.shares]
            if len(set(ids)) != len(ids):
                raise api.ValidationFailed.on("parameters.shares", "List each municipality once.")
            out["shares"] = {str(s.municipality_id): str(s.percent) for s in self.shares}
        if self.use is not None:
            out["use"] = self.use.value
        if self.weights is not None:
            methods = [w.method for w in self.weights]
            if len(set(methods)) != len(methods):
                raise api.ValidationFailed.on("parameters.weights", "List each method once.")
            out["weights"] = {w.method.value: str(w.percent) for w in self.weights}
        return out


@strawberry.type
class CostKey:
    id: strawberry.ID
    contract_id: strawberry.ID
    valid_from: date
    method: Method
    parameters: JSON
    annual_cost_sek: Decimal
    created_at: datetime

    @classmethod
    def of(cls, r: CostKeyRecord) -> CostKey:
        return cls(
            id=strawberry.ID(str(r.id)),
            contract_id=strawberry.ID(str(r.contract_id)),
            valid_from=r.valid_from,
            method=r.method,
            parameters=JSON(r.parameters),
            annual_cost_sek=r.annual_cost_sek,
            created_at=r.created_at,
        )


@strawberry.type(description="One municipality's part: its cost, its use and, with the deliveries plugin, savings.")
class CostLine:
    municipality_id: strawberry.ID
    municipality: str
    cost_sek: Decimal
    share_percent: Decimal | None = strawberry.field(description="Of the period's total cost.")
    deliveries: int | None = strawberry.field(description="Received through lockers; null without the plugin.")
    lockers: int | None = strawberry.field(description="Registered by the period's end; null without the plugin.")
    call_off_quantity: Decimal
    minutes_per_delivery: Decimal | None
    staff_hours_saved: Decimal | None = strawberry.field(description="Deliveries times minutes per delivery, in hours.")

    @classmethod
    def of(cls, x: Line) -> CostLine:
        return cls(
            municipality_id=strawberry.ID(str(x.municipality_id)),
            municipality=x.municipality,
            cost_sek=x.cost_sek,
            share_percent=x.share_percent,
            deliveries=x.deliveries,
            lockers=x.lockers,
            call_off_quantity=x.call_off_quantity,
            minutes_per_delivery=x.minutes_per_delivery,
            staff_hours_saved=x.staff_hours_saved,
        )


@strawberry.type(description="Days under one cost key, and what they cost.")
class CostSegment:
    valid_from: date
    method: Method
    parameters: JSON
    starts_on: date
    ends_on: date
    days: int
    annual_cost_sek: Decimal
    cost_sek: Decimal
    notes: list[str]

    @classmethod
    def of(cls, s: SegmentCost) -> CostSegment:
        return cls(
            valid_from=s.valid_from,
            method=s.method,
            parameters=JSON(s.parameters),
            starts_on=s.start,
            ends_on=s.end,
            days=s.days,
            annual_cost_sek=s.annual_cost_sek,
            cost_sek=s.cost_sek,
            notes=list(s.notes),
        )


@strawberry.type
class CostAllocation:
    contract_id: strawberry.ID
    contract: str
    starts_on: date
    ends_on: date
    total_cost_sek: Decimal
    lines: list[CostLine]
    segments: list[CostSegment]

    @classmethod
    def of(cls, a: Allocation) -> CostAllocation:
        return cls(
            contract_id=strawberry.ID(str(a.contract_id)),
            contract=a.contract,
            starts_on=a.start,
            ends_on=a.end,
            total_cost_sek=a.total_cost_sek,
            lines=[CostLine.of(x) for x in a.lines],
            segments=[CostSegment.of(s) for s in a.segments],
        )
