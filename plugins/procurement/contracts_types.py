"""GraphQL types of awards, contracts, service levels and call-offs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry

from plugins.procurement.award import AwardRecord, Decision
from plugins.procurement.contracts import ContractRecord
from plugins.procurement.contracts_calloffs import CallOffRecord


def _id(value: UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.enum(description="What a service level measures.")
class ServiceLevelMetric(str, Enum):
    AVAILABILITY = "availability"
    FAULT_RESPONSE = "fault_response"
    FAULT_FIX = "fault_fix"
    TEMPERATURE_COMPLIANCE = "temperature_compliance"


@strawberry.enum(description="percent: availability and temperature compliance; hours: fault response and fix.")
class ServiceLevelUnit(str, Enum):
    PERCENT = "percent"
    HOURS = "hours"


@strawberry.enum(description="The severity a fault time applies to (fault metrics only; none: every fault).")
class FaultSeverity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


@strawberry.type(description="The decision for one lot: the winning bid and when the standstill ends.")
class ProcurementAward:
    id: strawberry.ID
    procurement_id: strawberry.ID
    lot_id: strawberry.ID
    lot_number: int
    lot_title: str
    vendor_id: strawberry.ID
    vendor: str
    bid_id: strawberry.ID
    value_sek: Decimal
    decided_at: datetime
    standstill_ends_at: datetime = strawberry.field(description="Avtalsspärr: no contract before this.")

    @classmethod
    def of(cls, a: AwardRecord) -> ProcurementAward:
        return cls(
            id=_id(a.id),
            procurement_id=_id(a.procurement_id),
            lot_id=_id(a.lot_id),
            lot_number=a.lot_number,
            lot_title=a.lot_title,
            vendor_id=_id(a.vendor_id),
            vendor=a.vendor,
            bid_id=_id(a.bid_id),
            value_sek=a.value_sek,
            decided_at=a.decided_at,
            standstill_ends_at=a.standstill_ends_at,
        )


@strawberry.type(description="The award decision (tilldelningsbeslut); every bidding vendor is told by e-mail.")
class AwardDecision:
    procurement_id: strawberry.ID
    decided_at: datetime
    standstill_ends_at: datetime
    awards: list[ProcurementAward]
    unawarded_lot_ids: list[strawberry.ID] = strawberry.field(description="Lots without a qualified bid.")
    notified_vendor_ids: list[strawberry.ID]

    @classmethod
    def of(cls, d: Decision) -> AwardDecision:
        return cls(
            procurement_id=_id(d.procurement_id),
            decided_at=d.decided_at,
            standstill_ends_at=d.standstill_ends_at,
            awards=[ProcurementAward.of(a) for a in d.awards],
            unawarded_lot_ids=[_id(x) for x in d.unawarded_lots],
            notified_vendor_ids=[_id(n.vendor_id) for n in d.notices],
        )


@strawberry.input
class SignContractInput:
    award_id: strawberry.ID
    starts_on: date
    ends_on: date = strawberry.field(description="A framework agreement runs at most 48 months.")
    covers_lockers: bool = strawberry.field(default=False, description="Followed up from the lockers' own data.")


@strawberry.input
class ServiceLevelInput:
    metric: ServiceLevelMetric
    severity: FaultSeverity | None = None
    target: Decimal = strawberry.field(description="Percent 0-100 (at least), or hours > 0 (at most).")
    unit: ServiceLevelUnit
    penalty_sek: Decimal = strawberry.field(default=Decimal(0), description="Per breach and month; 0: a KPI only.")


@strawberry.input
class PlaceCallOffInput:
    contract_id: strawberry.ID
    quantity: Decimal
    value_sek: Decimal
    description: str = ""
    locker_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="This municipality's own lockers the call-off covers."
    )


@strawberry.type
class ProcurementServiceLevel:
    id: strawberry.ID
    metric: ServiceLevelMetric
    severity: FaultSeverity | None
    target: Decimal
    unit: ServiceLevelUnit
    penalty_sek: Decimal
    kind: str = strawberry.field(description="SLA when a breach costs a penalty, KPI when it is only followed.")

    @classmethod
    def of(cls, r: Any) -> ProcurementServiceLevel:
        return cls(
            id=_id(r["id"]),
            metric=ServiceLevelMetric(r["metric"]),
            severity=FaultSeverity(r["severity"]) if r["severity"] else None,
            target=r["target"],
            unit=ServiceLevelUnit(r["unit"]),
            penalty_sek=r["penalty_sek"],
            kind="SLA" if r["penalty_sek"] > 0 else "KPI",
        )


@strawberry.type(description="A call-off (avrop) from a framework contract, its own OCDS process.")
class ProcurementCallOff:
    id: strawberry.ID
    contract_id: strawberry.ID
    municipality_id: strawberry.ID
    ocid: str
    description: str
    quantity: Decimal
    value_sek: Decimal
    locker_ids: list[strawberry.ID]
    ordered_at: datetime
    ordered_by: str

    @classmethod
    def of(cls, x: CallOffRecord) -> ProcurementCallOff:
        return cls(
            id=_id(x.id),
            contract_id=_id(x.contract_id),
            municipality_id=_id(x.municipality_id),
            ocid=x.ocid,
            description=x.description,
            quantity=x.quantity,
            value_sek=x.value_sek,
            locker_ids=[_id(i) for i in x.locker_ids],
            ordered_at=x.ordered_at,
            ordered_by=x.ordered_by,
        )


@strawberry.type(description="A signed contract of a joint procurement.")
class ProcurementContract:
    id: strawberry.ID
    ocid: str = strawberry.field(description="The procurement's OCDS ocid.")
    procurement_id: strawberry.ID
    lot_id: strawberry.ID
    award_id: strawberry.ID
    vendor_id: strawberry.ID
    vendor: str
    title: str
    value_sek: Decimal
    signed_at: datetime
    starts_on: date
    ends_on: date
    framework: bool
    covers_lockers: bool
    status: str = strawberry.field(description="active, terminated or ended.")
    service_levels: list[ProcurementServiceLevel]
    call_offs: list[ProcurementCallOff]

    @classmethod
    def of(cls, ct: ContractRecord, levels: list[Any], call_offs: list[CallOffRecord]) -> ProcurementContract:
        return cls(
            id=_id(ct.id),
            ocid=ct.ocid,
            procurement_id=_id(ct.procurement_id),
            lot_id=_id(ct.lot_id),
            award_id=_id(ct.award_id),
            vendor_id=_id(ct.vendor_id),
            vendor=ct.vendor,
            title=ct.title,
            value_sek=ct.value_sek,
            signed_at=ct.signed_at,
            starts_on=ct.starts_on,
            ends_on=ct.ends_on,
            framework=ct.framework,
            covers_lockers=ct.covers_lockers,
            status=ct.status,
            service_levels=[ProcurementServiceLevel.of(r) for r in levels],
            call_offs=[ProcurementCallOff.of(x) for x in call_offs],
        )
