"""GraphQL types of the fault reports plugin, mapped from rows (never the photo's bytes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from plugins.fault_reports.domain import Category, Status

strawberry.enum(Category, name="FaultCategory")
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

    @classmethod
    def of(cls, r: Any) -> FaultReport:
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
        )
