"""GraphQL types of the fault reports plugin, mapped from rows (never the photo's bytes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from backend import plugin_api as api
from plugins.fault_reports import workflow
from plugins.fault_reports.domain import Category, Severity, Source, Status
from plugins.fault_reports.service_levels import Measure, Times

strawberry.enum(Category, name="FaultCategory")
strawberry.enum(Severity, name="FaultReportSeverity")
strawberry.enum(Source, name="FaultReportSource", description="STAFF reported it, or the GATEWAY raised it by itself.")


@strawberry.type(description="One time of a fault against its contract's service level (hours).")
class FaultMeasure:
    hours: float | None = strawberry.field(description="None while the step is not yet done.")
    target_hours: float | None = strawberry.field(description="None when no service level applies.")
    breached: bool = strawberry.field(description="Over the target (also while still open and already late).")

    @classmethod
    def of(cls, m: Measure) -> FaultMeasure:
        return cls(hours=m.hours, target_hours=m.target_hours, breached=m.breached)


strawberry.enum(
    Status, name="FaultReportStatus", description="REPORTED, ACKNOWLEDGED, IN_PROGRESS, then RESOLVED; or REJECTED."
)


@strawberry.type(description="One step of a fault, with who made it and when (append-only).")
class FaultTransition:
    from_status: Status | None = strawberry.field(description="None for the report itself.")
    to_status: Status
    at: datetime
    actor_kind: str = strawberry.field(description="user, token or system (the gateway, routing).")
    actor_label: str
    note: str

    @classmethod
    def of(cls, r: Any) -> FaultTransition:
        before = r["from_status"]
        return cls(
            from_status=Status(before) if before else None,
            to_status=Status(r["to_status"]),
            at=r["at"],
            actor_kind=r["actor_kind"],
            actor_label=r["actor_label"],
            note=r["note"],
        )


@strawberry.type(description="A fault (felanmälan) reported on a locker or one of its compartments.")
class FaultReport:
    id: strawberry.ID
    municipality_id: strawberry.ID = strawberry.field(description="The municipality whose locker it is.")
    locker_id: strawberry.ID
    compartment_id: strawberry.ID | None
    category: Category
    description: str
    has_photo: bool = strawberry.field(description="A photo came with the report (not served through the API).")
    reported_by: str
    reported_at: datetime
    status: Status
    severity: Severity
    source: Source
    vendor_id: strawberry.ID | None = strawberry.field(description="The vendor the fault is routed to, if any.")
    acknowledged_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    rejected_at: datetime | None
    response: FaultMeasure | None = strawberry.field(description="Acknowledged minus reported.")
    fix: FaultMeasure | None = strawberry.field(description="Resolved minus reported.")

    @api.field(description="Its steps, oldest first, each with its actor, time and note.")
    async def transitions(self, info: api.Info) -> list[FaultTransition]:
        async with api.database(info).tenant(UUID(str(self.municipality_id))) as scope:
            rows = await workflow.transitions(scope, UUID(str(self.id)))
        return [FaultTransition.of(r) for r in rows]

    @classmethod
    def of(cls, r: Any, times: Times | None = None) -> FaultReport:
        return cls(
            id=strawberry.ID(str(r["id"])),
            municipality_id=strawberry.ID(str(r["tenant_id"])),
            locker_id=strawberry.ID(str(r["locker_id"])),
            compartment_id=strawberry.ID(str(r["compartment_id"])) if r["compartment_id"] else None,
            category=Category(r["category"]),
            description=r["description"],
            has_photo=r["has_photo"],
            reported_by=r["reported_by"],
            reported_at=r["reported_at"],
            status=Status(r["status"]),
            severity=Severity(r["severity"]),
            source=Source(r["source"]),
            vendor_id=strawberry.ID(str(r["vendor_id"])) if r["vendor_id"] else None,
            acknowledged_at=r["acknowledged_at"],
            started_at=r["started_at"],
            resolved_at=r["resolved_at"],
            rejected_at=r["rejected_at"],
            response=FaultMeasure.of(times.response) if times else None,
            fix=FaultMeasure.of(times.fix) if times else None,
        )
