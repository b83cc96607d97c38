"""Fault reports (felanmälan) at the service layer on real PostgreSQL, and through GraphQL on a
running server: stored with the photo checked by content, audited, never across municipalities."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from backend import plugin_api as api
from backend.lib import utcnow
from plugins import state as plugin_state
from plugins.fault_reports import service
from plugins.fault_reports.domain import MAX_PHOTO_BYTES, Category, NewFaultReport
from plugins.registry import PluginRegistry
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import Server, World, login
from tests.integration.test_lockers_ingest import Installed, install

STAFF = Actor("user", uuid.uuid4(), "Stina Personal <stina@test.example>")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


async def installed(db: Database, tenant: uuid.UUID) -> Installed:
    """Lockers with a registered locker, and fault reports enabled."""
    where = await install(db, tenant)
    async with db.tenant(tenant) as scope:
        await plugin_state.enable(scope, PluginRegistry.discover(), "fault_reports", config={}, actor=STAFF)
    return where


def fault(where: Installed, **change: Any) -> NewFaultReport:
    values: dict[str, Any] = {
        "locker_id": str(where.locker_id),
        "compartment_id": str(where.compartments["1"]),
        "category": Category.DOOR_OR_LOCK,
        "description": "  Dörren går inte att stänga.  ",
        "photo": None,
        **change,
    }
    return NewFaultReport(**values)


async def report(db: Database, where: Installed, **change: Any) -> Any:
    async with db.tenant(where.tenant) as scope:
        return await service.report(scope, fault(where, **change), actor=STAFF, now=utcnow())


async def test_a_fault_with_a_photo_is_stored_typed_by_its_content_and_audited(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where, photo=PNG)
    assert (row["category"], row["description"], row["status"]) == (
        "door_or_lock",
        "Dörren går inte att stänga.",
        "reported",
    )
    assert (row["has_photo"], row["photo_type"], row["photo_bytes"]) == (True, "image/png", len(PNG))
    assert row["reported_by"] == STAFF.label and row["compartment_id"] == where.compartments["1"]
    async with db.tenant(where.tenant) as scope:
        [listed] = await service.reports(scope, locker_id=where.locker_id, first=10)
        assert "photo" not in listed.keys() and listed["has_photo"] is True
        assert await service.photo(scope, row["id"]) == (PNG, "image/png")
        entry = await scope.connection.fetchrow(
            "SELECT * FROM audit_log WHERE tenant_id = $1 AND action = 'fault_reports.reported'", where.tenant
        )
    assert entry["target_id"] == str(row["id"]) and entry["actor_label"] == STAFF.label
    assert json.loads(entry["details"])["photo_bytes"] == len(PNG)


async def test_a_fault_on_the_whole_locker_needs_no_compartment_nor_photo(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    row = await report(db, where, compartment_id=None, category=Category.DAMAGE, photo=None)
    assert row["compartment_id"] is None and row["has_photo"] is False and row["photo_type"] is None
    async with db.tenant(where.tenant) as scope:
        with pytest.raises(api.NotFound):
            await service.photo(scope, row["id"])


@pytest.mark.parametrize(
    ("change", "fields"),
    [
        ({"description": "   "}, {"description"}),
        ({"description": "x" * 2001}, {"description"}),
        ({"photo": b"GIF89a" + b"\x00" * 64}, {"photo"}),
        ({"photo": b"<script>alert(1)</script>"}, {"photo"}),
        ({"photo": JPEG + b"\x00" * MAX_PHOTO_BYTES}, {"photo"}),
        ({"description": "", "photo": b"not an image"}, {"description", "photo"}),
    ],
)
async def test_a_bad_report_names_every_bad_field_and_saves_nothing(
    db: Database, world: World, change: dict[str, Any], fields: set[str]
) -> None:
    where = await installed(db, world.a.id)
    with pytest.raises(api.ValidationFailed) as failed:
        await report(db, where, **change)
    assert {f.field for f in failed.value.fields} == fields
    async with db.tenant(where.tenant) as scope:
        assert await service.reports(scope, locker_id=None, first=10) == []


async def test_a_jpeg_of_exactly_five_megabytes_is_accepted(db: Database, world: World) -> None:
    where = await installed(db, world.a.id)
    photo = JPEG + b"\x00" * (MAX_PHOTO_BYTES - len(JPEG))
    row = await report(db, where, photo=photo)
    assert (row["photo_type"], row["photo_bytes"]) == ("image/jpeg", MAX_PHOTO_BYTES)


async def test_another_municipalitys_locker_or_a_compartment_of_another_locker_is_not_found(
    db: Database, world: World
) -> None:
    a = await installed(db, world.a.id)
    b = await installed(db, world.b.id)
    for change in (
        {"locker_id": str(b.locker_id), "compartment_id": None},
        {"compartment_id": str(b.compartments["1"])},
        {"locker_id": "not-an-id"},
        {"compartment_id": str(uuid.uuid4())},
    ):
        with pytest.raises(api.NotFound):
            await report(db, a, **change)
    await report(db, b)
    async with db.tenant(world.a.id) as scope:
        assert await service.reports(scope, locker_id=None, first=10) == []
    async with db.tenant(world.b.id) as scope:
        [theirs] = await service.reports(scope, locker_id=None, first=10)
    async with db.tenant(world.a.id) as scope:
        with pytest.raises(api.NotFound):
            await service.photo(scope, theirs["id"])


REPORT = """mutation($input: ReportFaultInput!) { reportFault(input: $input) {
  __typename ... on FaultReport { id category description hasPhoto reportedBy status compartmentId }
  ... on Error { code message } ... on ValidationFailedError { fields { field message } } } }"""
LIST = "query($locker: ID) { faultReports(lockerId: $locker) { id category hasPhoto reportedBy } }"


async def test_staff_report_and_list_faults_through_graphql_where_the_plugin_is_enabled(
    server: Server, db: Database, world: World
) -> None:
    where = await installed(db, world.a.id)
    staff = await login(server, world.a.staff_email)
    given = {
        "lockerId": str(where.locker_id),
        "compartmentId": str(where.compartments["2"]),
        "category": "TEMPERATURE",
        "description": "Facket känns varmt.",
    }
    answer = (await staff(REPORT, {"input": given}))["data"]["reportFault"]  # type: ignore[index]
    assert (answer["__typename"], answer["category"], answer["hasPhoto"], answer["status"]) == (
        "FaultReport",
        "TEMPERATURE",
        False,
        "REPORTED",
    )
    assert answer["reportedBy"] == world.a.staff_email
    bad = (await staff(REPORT, {"input": {**given, "description": " "}}))["data"]["reportFault"]  # type: ignore[index]
    assert bad["__typename"] == "ValidationFailedError" and [f["field"] for f in bad["fields"]] == ["description"]
    listed = (await staff(LIST, {"locker": str(where.locker_id)}))["data"]["faultReports"]  # type: ignore[index]
    assert [r["id"] for r in listed] == [answer["id"]]
    other = await login(server, world.b.staff_email)
    refused = await other(LIST, {"locker": None})
    assert refused["errors"][0]["extensions"]["code"] == "PLUGIN_NOT_ENABLED"  # type: ignore[index]
