"""Reporting a fault: check the report, make sure the locker (and compartment) are this
municipality's, store it with its photo, and audit it, all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from backend.lib import FieldError
from plugins.fault_reports import workflow
from plugins.fault_reports.domain import NewFaultReport, Status, check_photo, problems_with
from plugins.fault_reports.workflow import COLUMNS
from tenants import audit
from tenants.access import Actor

INSERT = f"""
INSERT INTO fault_report (tenant_id, id, locker_id, compartment_id, category, description, photo, photo_type,
                          reported_by_kind, reported_by_id, reported_by, reported_at, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
RETURNING {COLUMNS}
"""


def parse_id(value: object, kind: str) -> UUID:
    """An id from a caller; one that is not even a UUID is simply not found."""
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(kind, value) from None


async def _target(scope: api.Scope, new: NewFaultReport) -> tuple[UUID, UUID | None]:
    """The locker and compartment ids, once both are this municipality's (NotFound alike otherwise)."""
    locker = parse_id(new.locker_id, "Locker")
    if not await scope.connection.fetchval(
        "SELECT 1 FROM lockers_locker WHERE tenant_id = $1 AND id = $2", scope.tenant, locker
    ):
        raise api.NotFound("Locker", locker)
    if new.compartment_id is None:
        return locker, None
    compartment = parse_id(new.compartment_id, "Compartment")
    if not await scope.connection.fetchval(
        "SELECT 1 FROM lockers_compartment WHERE tenant_id = $1 AND id = $2 AND locker_id = $3",
        scope.tenant,
        compartment,
        locker,
    ):
        raise api.NotFound("Compartment", compartment)
    return locker, compartment


async def report(scope: api.Scope, new: NewFaultReport, *, actor: Actor, now: datetime) -> Any:
    """Store a fault report (status 'reported') and audit it; returns the row without the photo."""
    problems: list[FieldError] = problems_with(new)
    if problems:
        raise api.ValidationFailed("The fault report is not complete; nothing was saved.", problems)
    locker, compartment = await _target(scope, new)
    photo = check_photo(new.photo)
    row = await scope.connection.fetchrow(
        INSERT,
        scope.tenant,
        uuid4(),
        locker,
        compartment,
        new.category.value,
        new.description.strip(),
        photo.content if photo else None,
        photo.content_type if photo else None,
        actor.kind,
        actor.id,
        actor.label[:320],
        now,
        Status.REPORTED.value,
    )
    await workflow.record(scope, row["id"], None, Status.REPORTED, actor, now)
    await audit.record(
        scope,
        actor=actor,
        action="fault_reports.reported",
        target_kind="fault_report",
        target_id=row["id"],
        details={
            "locker_id": str(locker),
            "compartment_id": str(compartment) if compartment else None,
            "category": new.category.value,
            "photo_bytes": row["photo_bytes"] or 0,
        },
    )
    return row


async def reports(scope: api.Scope, *, locker_id: UUID | None, first: int) -> list[Any]:
    """Newest first, without the photos' bytes."""
    if not 1 <= first <= 500:
        raise api.ValidationFailed.on("first", "'first' must be between 1 and 500.")
    return list(
        await scope.connection.fetch(
            f"""SELECT {COLUMNS} FROM fault_report WHERE tenant_id = $1 AND ($2::uuid IS NULL OR locker_id = $2)
                ORDER BY reported_at DESC, id LIMIT $3""",
            scope.tenant,
            locker_id,
            first,
        )
    )


async def photo(scope: api.Scope, report_id: UUID) -> tuple[bytes, str]:
    """A report's photo and its content type; NotFound when it has none or is not this municipality's."""
    row = await scope.connection.fetchrow(
        "SELECT photo, photo_type FROM fault_report WHERE tenant_id = $1 AND id = $2 AND photo IS NOT NULL",
        scope.tenant,
        report_id,
    )
    if row is None:
        raise api.NotFound("Photo", report_id)
    return bytes(row["photo"]), row["photo_type"]
