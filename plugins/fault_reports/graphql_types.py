"""GraphQL types of the fault reports plugin, mapped from rows (never the photo's bytes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

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


@strawberry.type(description="A fault (felanmälan) reported on a locker or one of its compartments.")
class FaultReport:
    id: strawberry.ID
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

    @classmethod
    def of(cls, r: Any, times: Times | None = None) -> FaultReport:
        return cls(
            id=strawberry.ID(str(r["id"])),
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
