"""Procurement as OCDS 1.1.5 open data, on the real database: a whole joint procurement is built
with SQL rows (planning, tender, sealed bids, evaluation, award, contract, follow-up, call-offs
by two municipalities) and its release and record packages validate against the vendored
schemas with jsonschema; a broken release does not; bids appear only once the database opens
them, and for the public only after the award decision."""

from __future__ import annotations

import copy
import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.procurement import ocds_validate
from plugins.procurement.ocds import View, export
from plugins.procurement.ocds_record import compile_releases
from plugins.procurement.ocds_validate import OcdsInvalid, PackageKind, problems
from tenants.database import Database
from tests.conftest import World, make_world

BASE = "https://samverka.example"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Built:
    federation: uuid.UUID
    procurement: uuid.UUID
    ocid: str
    lots: tuple[uuid.UUID, uuid.UUID]
    vendors: tuple[uuid.UUID, uuid.UUID]
    bids: tuple[uuid.UUID, uuid.UUID, uuid.UUID]
    contract: uuid.UUID
    call_offs: tuple[str, str]  # ocids, municipality A's then B's


async def _need(db: Database, tenant: uuid.UUID, title: str, volume: int) -> uuid.UUID:
    nid = uuid.uuid4()
    async with db.tenant(tenant) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_need (tenant_id, id, category, title, estimated_volume, volume_unit,
                                             estimated_value_sek, wanted_start, status)
               VALUES ($1, $2, 'lockers', $3, $4, 'skåp', 500000, '2027-01-01', 'in_procurement')""",
            tenant,
            nid,
            title,
            volume,
        )
    return nid


async def _vendor(db: Database, fed: uuid.UUID, name: str) -> uuid.UUID:
    vid = uuid.uuid4()
    async with db.federation(fed) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
               VALUES ($1, $2, $3, $4, 'anbud@example.se')""",
            fed,
            vid,
            name,
            f"55{uuid.uuid4().int % 10**4:04d}-{uuid.uuid4().int % 10**4:04d}",
        )
    return vid


async def _bid(
    db: Database,
    fed: uuid.UUID,
    vendor: uuid.UUID,
    pid: uuid.UUID,
    lot: uuid.UUID,
    price: int,
    answers: str,
    submitted: datetime,
) -> uuid.UUID:
    bid = uuid.uuid4()
    async with db.federation(fed, vendor_id=vendor) as scope:  # as the vendor, before the deadline
        await scope.connection.execute(
            """INSERT INTO procurement_bid (federation_id, id, procurement_id, lot_id, vendor_id, deadline, price_sek,
                                            answers, submitted_at)
               VALUES ($1, $2, $3, $4, $5, now(), $6, $7::jsonb, $8)""",
            fed,
            bid,
            pid,
            lot,
            vendor,
            price,
            answers,
            submitted,
        )
    return bid


async def tendering(db: Database, world: World, now: datetime) -> Built:
    """A published framework procurement led by the federation, A and B participating, two lots,
    three bids submitted before a deadline that is still ahead."""
    fed, pid = world.federation_id, uuid.uuid4()
    ocid = f"ocds-samverka-{pid}"
    lots = (uuid.uuid4(), uuid.uuid4())
    need_a = await _need(db, world.a.id, "Tempererade leveransskåp, hemtjänst", 12)
    need_b = await _need(db, world.b.id, "Leveransskåp för hemleverans", 8)
    async with db.federation(fed) as scope:
        c = scope.connection
        await c.execute(
            """INSERT INTO procurement (federation_id, id, ocid, title, description, category, contract_kind,
                   estimated_value_sek, procedure, framework, duration_months, evaluation_model, quality_method,
                   status, published_at, tender_deadline, created_at)
               VALUES ($1, $2, $3, 'Tempererade leveransskåp som tjänst', 'Skåp, drift och service i 48 månader.',
                       'lockers', 'services', 3000000, 'open', true, 48, 'best_price_quality', 'deduction',
                       'published', $4, $5, $6)""",
            fed,
            pid,
            ocid,
            now - 60 * DAY,
            now + DAY,
            now - 90 * DAY,
        )
        for mid, share, volume, need in ((world.a.id, 60, 12, need_a), (world.b.id, 40, 8, need_b)):
            await c.execute(
                """INSERT INTO procurement_participant (federation_id, procurement_id, municipality_id, share_percent,
                                                       estimated_volume, need_id, joined_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7)""",
                fed,
                pid,
                mid,
                share,
                volume,
                need,
                now - 80 * DAY,
            )
        for n, (lot, title) in enumerate(zip(lots, ("Skåp och drift", "Service på plats"), strict=True), start=1):
            await c.execute(
                """INSERT INTO procurement_lot (federation_id, id, procurement_id, number, title, estimated_value_sek)
                   VALUES ($1, $2, $3, $4, $5, 1500000)""",
                fed,
                lot,
                pid,
                n,
                title,
            )
        await c.execute(
            """INSERT INTO procurement_requirement (federation_id, id, procurement_id, lot_id, kind, text,
                                                   deduction_sek)
               VALUES ($1, $2, $3, NULL, 'mandatory', 'Kylkedjan loggas per fack.', NULL),
                      ($1, $4, $3, $5, 'deduction', 'Frysfack som fryser aktivt till -22 °C.', 50000)""",
            fed,
            uuid.uuid4(),
            pid,
            uuid.uuid4(),
            lots[0],
        )
        for title, kind, at in (
            ("Förfrågningsunderlag", "biddingDocuments", now - 60 * DAY),
            ("Svar på frågor", "clarifications", now - 30 * DAY),
        ):
            await c.execute(
                """INSERT INTO procurement_document (federation_id, id, procurement_id, title, document_type, url,
                                                    sha256, published_at)
                   VALUES ($1, $2, $3, $4, $5, 'https://samverka.example/docs/1.pdf', $6, $7)""",
                fed,
                uuid.uuid4(),
                pid,
                title,
                kind,
                hashlib.sha256(title.encode()).hexdigest(),
                at,
            )
    vendors = (await _vendor(db, fed, "Kylbox Service AB"), await _vendor(db, fed, "Frostlogik Drift AB"))
    async with db.federation(fed) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_question (federation_id, id, procurement_id, vendor_id, question)
               VALUES ($1, $2, $3, $4, 'Ingår installation?')""",
            fed,
            uuid.uuid4(),
            pid,
            vendors[0],
        )
    bids = (
        await _bid(db, fed, vendors[0], pid, lots[0], 1_400_000, "{}", now - 25 * DAY),
        await _bid(db, fed, vendors[1], pid, lots[0], 1_300_000, "{}", now - 24 * DAY),
        await _bid(db, fed, vendors[0], pid, lots[1], 900_000, "{}", now - 23 * DAY),
    )
    return Built(fed, pid, ocid, lots, vendors, bids, uuid.uuid4(), (f"{ocid}-avrop-a", f"{ocid}-avrop-b"))


async def close_tender(db: Database, b: Built, now: datetime) -> None:
    """The deadline passes (moved into the past for the test: the bids' deadline moves with it)."""
    async with db.federation(b.federation) as scope:
        await scope.connection.execute(
            "UPDATE procurement SET tender_deadline = $2 WHERE id = $1", b.procurement, now - 20 * DAY
        )


async def award_and_contract(db: Database, b: Built, world: World, now: datetime) -> None:
    """Evaluation (Frostlogik's lot-1 bid fails a mandatory requirement), awards, a framework
    contract for lot 1 with a service level followed up, and call-offs by A and B."""
    fed, c_lot1 = b.federation, b.contract
    awards = (uuid.uuid4(), uuid.uuid4())
    async with db.federation(fed) as scope:
        c = scope.connection
        for lot, bid, vendor, qualified, rank in (
            (b.lots[0], b.bids[0], b.vendors[0], True, 1),
            (b.lots[0], b.bids[1], b.vendors[1], False, None),
            (b.lots[1], b.bids[2], b.vendors[0], True, 1),
        ):
            await c.execute(
                """INSERT INTO procurement_evaluation (federation_id, procurement_id, lot_id, bid_id, vendor_id,
                                                      qualified, rank, compared_value, explanation, evaluated_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, 0, '{}', $8)""",
                fed,
                b.procurement,
                lot,
                bid,
                vendor,
                qualified,
                rank,
                now - 18 * DAY,
            )
        for award, lot, bid, value in (
            (awards[0], b.lots[0], b.bids[0], 1_400_000),
            (awards[1], b.lots[1], b.bids[2], 900_000),
        ):
            await c.execute(
                """INSERT INTO procurement_award (federation_id, id, procurement_id, lot_id, vendor_id, bid_id,
                                                 value_sek, decided_at, standstill_ends_at)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
                fed,
                award,
                b.procurement,
                lot,
                b.vendors[0],
                bid,
                value,
                now - 15 * DAY,
                now - 5 * DAY,
            )
        await c.execute(
            """UPDATE procurement SET status = 'contracted', evaluated_at = $2, award_decided_at = $3,
                                      standstill_ends_at = $4 WHERE id = $1""",
            b.procurement,
            now - 18 * DAY,
            now - 15 * DAY,
            now - 5 * DAY,
        )
        await c.execute(
            """INSERT INTO procurement_contract (federation_id, id, procurement_id, lot_id, award_id, vendor_id, title,
                   value_sek, signed_at, starts_on, ends_on, framework, covers_lockers)
               VALUES ($1, $2, $3, $4, $5, $6, 'Ramavtal leveransskåp som tjänst', 1400000, $7, $8, $9, true, true)""",
            fed,
            c_lot1,
            b.procurement,
            b.lots[0],
            awards[0],
            b.vendors[0],
            now - 4 * DAY,
            date(2027, 1, 1),
            date(2030, 12, 31),
        )
        level = uuid.uuid4()
        await c.execute(
            """INSERT INTO procurement_service_level (federation_id, id, contract_id, metric, target, unit, penalty_sek)
               VALUES ($1, $2, $3, 'availability', 99, 'percent', 5000)""",
            fed,
            level,
            c_lot1,
        )
        for mid, measured in ((world.a.id, Decimal("99.5")), (world.b.id, Decimal("97.25"))):
            await c.execute(
                """INSERT INTO procurement_followup (federation_id, contract_id, municipality_id, month,
                       service_level_id, measured, target, breached, penalty_sek, computed_at)
                   VALUES ($1, $2, $3, '2027-01-01', $4, $5, 99, $6, $7, $8)""",
                fed,
                c_lot1,
                mid,
                level,
                measured,
                measured < 99,
                5000 if measured < 99 else 0,
                now - DAY,
            )
        for mid, ocid, qty, days in ((world.a.id, b.call_offs[0], 12, 3), (world.b.id, b.call_offs[1], 8, 2)):
            await c.execute(
                """INSERT INTO procurement_call_off (federation_id, id, contract_id, municipality_id, ocid,
                                                    description, quantity, value_sek, ordered_at, ordered_by)
                   VALUES ($1, $2, $3, $4, $5, 'Skåp till hemtjänstens grupper', $6, $7, $8, 'admin@kommun.example')""",
                fed,
                uuid.uuid4(),
                c_lot1,
                mid,
                ocid,
                qty,
                qty * 70_000,
                now - days * DAY,
            )


async def complete(db: Database, world: World, now: datetime) -> Built:
    built = await tendering(db, world, now)
    await close_tender(db, built, now)
    await award_and_contract(db, built, world, now)
    return built


async def package(db: Database, b: Built, kind: PackageKind, view: View, now: datetime) -> dict[str, Any]:
    return await export(db, b.federation, b.procurement, kind, view=view, base_uri=BASE, now=now)


def own(pkg: dict[str, Any], ocid: str) -> list[dict[str, Any]]:
    return [r for r in pkg["releases"] if r["ocid"] == ocid]


async def test_a_complete_procurement_validates_as_release_and_record_package(db: Database, world: World) -> None:
    now = utcnow()
    b = await complete(db, world, now)
    releases = await package(db, b, PackageKind.RELEASE_PACKAGE, View.MEMBER, now)
    records = await package(db, b, PackageKind.RECORD_PACKAGE, View.MEMBER, now)
    assert problems(releases, PackageKind.RELEASE_PACKAGE) == []
    assert problems(records, PackageKind.RECORD_PACKAGE) == []

    mine = own(releases, b.ocid)
    tags = [t for r in mine for t in r["tag"]]
    for stage in ("planning", "tender", "tenderUpdate", "award", "awardUpdate", "contract", "implementation"):
        assert stage in tags
    ids = [r["id"] for r in releases["releases"]]
    assert len(ids) == len(set(ids))
    assert [r["date"] for r in mine] == sorted(r["date"] for r in mine)
    assert releases == await package(db, b, PackageKind.RELEASE_PACKAGE, View.MEMBER, now)  # stable

    compiled = records["records"][0]["compiledRelease"]
    assert records["records"][0]["ocid"] == b.ocid and compiled["tag"] == ["compiled"]
    tender = compiled["tender"]
    assert tender["procurementMethod"] == "open" and tender["procurementMethodDetails"].startswith("Öppet förfarande")
    assert "ramavtal om 48 månader" in tender["procurementMethodDetails"]
    assert tender["status"] == "complete" and tender["numberOfTenderers"] == 2
    assert tender["awardCriteria"] == "ratedCriteria" and "Mervärdesavdrag 50 000 kr" in tender["awardCriteriaDetails"]
    assert [(lot["id"], lot["status"]) for lot in tender["lots"]] == [("1", "complete"), ("2", "complete")]
    assert {d["title"] for d in tender["documents"]} == {"Förfrågningsunderlag", "Svar på frågor"}
    assert tender["tenderPeriod"]["endDate"].endswith("Z")
    assert {i["description"].split(": ", 1)[1] for i in tender["items"]} == {
        "Tempererade leveransskåp, hemtjänst",
        "Leveransskåp för hemleverans",
    }

    roles = {p["name"]: p["roles"] for p in compiled["parties"]}
    lead = next(p for p in compiled["parties"] if p["id"] == f"samverka-federation-{world.federation_id}")
    assert lead["roles"] == ["buyer", "procuringEntity"] and compiled["buyer"]["id"] == lead["id"]
    assert sorted(n for n in roles if roles[n] == ["buyer"]) == sorted(n for n in roles if n.startswith("Kommun"))
    assert len([n for n in roles if n.startswith("Kommun")]) == 2
    assert roles["Kylbox Service AB"] == ["tenderer", "supplier"] and roles["Frostlogik Drift AB"] == ["tenderer"]

    bids = {d["id"]: d for d in compiled["bids"]["details"]}
    assert bids[str(b.bids[0])]["status"] == "valid" and bids[str(b.bids[1])]["status"] == "disqualified"
    assert bids[str(b.bids[0])]["value"] == {"amount": 1400000, "currency": "SEK"}
    assert bids[str(b.bids[2])]["relatedLots"] == ["2"]
    stats = {s["id"]: s["value"] for s in compiled["bids"]["statistics"]}
    assert stats["bids"] == 3 and stats["bidders"] == 2 and stats["lowestValidBidValue-lot-1"] == 1400000

    awards = compiled["awards"]
    assert {a["status"] for a in awards} == {"active"}  # the standstill is over
    assert sorted(a["relatedLots"][0] for a in awards) == ["1", "2"]
    contract = compiled["contracts"][0]
    assert contract["status"] == "active" and contract["value"]["amount"] == 1400000
    assert contract["period"]["startDate"].startswith("2027-01-01T00:00:00+01:00")
    milestones = contract["implementation"]["milestones"]
    assert sorted(m["status"] for m in milestones) == ["met", "notMet"]
    assert any("vite 5 000 kr" in m["description"] for m in milestones)


async def test_each_call_off_is_its_own_process_linked_to_the_framework(db: Database, world: World) -> None:
    now = utcnow()
    b = await complete(db, world, now)
    records = await package(db, b, PackageKind.RECORD_PACKAGE, View.MEMBER, now)
    by_ocid = {r["ocid"]: r for r in records["records"]}
    assert list(by_ocid) == [b.ocid, *b.call_offs]
    for ocid, municipality in zip(b.call_offs, ("A", "B"), strict=True):
        call_off = by_ocid[ocid]["compiledRelease"]
        assert call_off["relatedProcesses"] == [
            {
                "id": "framework",
                "relationship": ["framework"],
                "title": "Tempererade leveransskåp som tjänst",
                "scheme": "ocid",
                "identifier": b.ocid,
            }
        ]
        assert call_off["buyer"]["name"].startswith(f"Kommun {municipality}")
        assert call_off["tender"]["procurementMethod"] == "direct"
        assert call_off["awards"][0]["suppliers"][0]["name"] == "Kylbox Service AB"
        assert "admin@kommun.example" not in str(call_off)  # who ordered is not published


async def test_bids_are_absent_until_the_database_opens_them(db: Database, world: World) -> None:
    now = utcnow()
    b = await tendering(db, world, now)
    async with db.federation(b.federation) as scope:  # a link with a space in it, as a buyer may type it
        await scope.connection.execute(
            "UPDATE procurement_document SET url = 'https://samverka.example/docs/krav v2.pdf'"
            " WHERE procurement_id = $1",
            b.procurement,
        )
    before = await package(db, b, PackageKind.RELEASE_PACKAGE, View.MEMBER, now)
    assert problems(before, PackageKind.RELEASE_PACKAGE) == []
    assert "https://samverka.example/docs/krav%20v2.pdf" in str(before)
    assert all("bids" not in r for r in before["releases"])
    assert all("tenderer" not in p["roles"] for r in before["releases"] for p in r["parties"])
    assert "Kylbox" not in str(before)

    await close_tender(db, b, now)
    member = await package(db, b, PackageKind.RELEASE_PACKAGE, View.MEMBER, now)
    assert [len(r["bids"]["details"]) for r in member["releases"] if "bids" in r] == [3]
    public = await package(db, b, PackageKind.RELEASE_PACKAGE, View.PUBLIC, now)  # secret until the award decision
    assert problems(public, PackageKind.RELEASE_PACKAGE) == []
    assert all("bids" not in r for r in public["releases"]) and "Kylbox" not in str(public)

    await award_and_contract(db, b, world, now)
    public = await package(db, b, PackageKind.RELEASE_PACKAGE, View.PUBLIC, now)
    opened = next(r for r in public["releases"] if r["id"] == f"{b.ocid}-bids")
    assert len(opened["bids"]["details"]) == 3 and opened["tender"]["numberOfTenderers"] == 2


async def test_a_broken_release_fails_validation(db: Database, world: World) -> None:
    now = utcnow()
    b = await complete(db, world, now)
    good = await package(db, b, PackageKind.RELEASE_PACKAGE, View.MEMBER, now)
    breakages = [
        lambda r: r.pop("ocid"),
        lambda r: r.__setitem__("tag", ["finished"]),
        lambda r: r.__setitem__("date", "26 november 2026"),
        lambda r: r.setdefault("tender", {}).__setitem__("procurementMethod", "negotiated"),
        lambda r: r.setdefault("tender", {}).__setitem__("lots", [{"id": "1", "status": "open"}]),
        lambda r: r.__setitem__("bids", {"details": [{"id": "x", "status": "opened"}]}),
    ]
    for breakage in breakages:
        broken = copy.deepcopy(good)
        breakage(broken["releases"][0])
        assert problems(broken, PackageKind.RELEASE_PACKAGE), breakage
        with pytest.raises(OcdsInvalid):
            ocds_validate.check(broken, PackageKind.RELEASE_PACKAGE)
    record = await package(db, b, PackageKind.RECORD_PACKAGE, View.MEMBER, now)
    record["records"][0]["compiledRelease"]["awards"][0]["value"]["amount"] = "1 400 000"
    assert problems(record, PackageKind.RECORD_PACKAGE)


async def test_the_public_does_not_see_a_procurement_before_it_is_published(db: Database, world: World) -> None:
    """Members see its planning (here led by a member municipality); vendors see nothing yet."""
    now = utcnow()
    b = await tendering(db, world, now)
    async with db.federation(b.federation) as scope:
        await scope.connection.execute(
            "UPDATE procurement SET status = 'planning', published_at = NULL WHERE id = $1", b.procurement
        )
    with pytest.raises(api.NotFound):
        await package(db, b, PackageKind.RELEASE_PACKAGE, View.PUBLIC, now)
    async with db.federation(b.federation) as scope:  # a member municipality leads it
        await scope.connection.execute(
            "UPDATE procurement SET lead_municipality_id = $2 WHERE id = $1", b.procurement, world.a.id
        )
    planning = await package(db, b, PackageKind.RELEASE_PACKAGE, View.MEMBER, now)
    assert problems(planning, PackageKind.RELEASE_PACKAGE) == []
    lead = planning["releases"][0]["buyer"]
    assert lead["id"] == f"samverka-municipality-{world.a.id}"
    assert [p["roles"] for p in planning["releases"][0]["parties"] if p["id"] == lead["id"]] == [
        ["buyer", "procuringEntity"]
    ]
    assert not any(p["id"].startswith("samverka-federation-") for p in planning["releases"][0]["parties"])
    assert [r["tag"] for r in planning["releases"]] == [["planning"]]
    assert planning["releases"][0]["tender"]["status"] == "planning"
    assert planning["releases"][0]["planning"]["budget"]["amount"] == {"amount": 3000000, "currency": "SEK"}


async def test_another_federation_cannot_export_the_procurement(db: Database, world: World) -> None:
    now = utcnow()
    b = await tendering(db, world, now)
    other = await make_world(db)
    with pytest.raises(api.NotFound):
        await export(
            db, other.federation_id, b.procurement, PackageKind.RECORD_PACKAGE, view=View.MEMBER, base_uri=BASE, now=now
        )


def test_compiling_merges_arrays_of_objects_by_id_and_replaces_the_rest() -> None:
    first = {
        "ocid": "o",
        "id": "1",
        "date": "2026-01-01T00:00:00Z",
        "tag": ["tender"],
        "parties": [{"id": "p", "roles": ["tenderer"]}],
        "awards": [{"id": "a", "status": "pending"}],
    }
    second = {
        "ocid": "o",
        "id": "2",
        "date": "2026-02-01T00:00:00Z",
        "tag": ["awardUpdate"],
        "parties": [{"id": "p", "roles": ["tenderer", "supplier"]}, {"id": "q", "roles": ["buyer"]}],
        "awards": [{"id": "a", "status": "active"}, {"id": "b", "status": "pending"}],
    }
    compiled = compile_releases([second, first])
    assert compiled["id"] == "o-2026-02-01T00:00:00Z" and compiled["tag"] == ["compiled"]
    assert compiled["parties"] == [{"id": "p", "roles": ["tenderer", "supplier"]}, {"id": "q", "roles": ["buyer"]}]
    assert compiled["awards"] == [{"id": "a", "status": "active"}, {"id": "b", "status": "pending"}]


async def _log(db: Database, b: Built, action: str, details: str) -> None:
    async with db.federation(b.federation) as scope:
        await scope.connection.execute(
            """INSERT INTO procurement_log (federation_id, procurement_id, actor_kind, action, details)
               VALUES ($1, $2, 'system', $3, $4::jsonb)""",
            b.federation,
            b.procurement,
            action,
            details,
        )


async def test_a_terminated_contract_and_a_cancelled_direct_procurement_say_so(db: Database, world: World) -> None:
    now = utcnow()
    b = await complete(db, world, now)
    async with db.federation(b.federation) as scope:
        await scope.connection.execute(
            "UPDATE procurement_contract SET status = 'terminated' WHERE id = $1", b.contract
        )
    await _log(db, b, "procurement.contract_terminated", f'{{"contract_id": "{b.contract}"}}')
    records = await package(db, b, PackageKind.RECORD_PACKAGE, View.MEMBER, now)
    assert problems(records, PackageKind.RECORD_PACKAGE) == []
    record = records["records"][0]
    assert record["releases"][-1]["tag"] == ["contractTermination"]
    assert record["compiledRelease"]["contracts"][0]["status"] == "terminated"

    direct = await tendering(db, world, now)
    async with db.federation(direct.federation) as scope:
        await scope.connection.execute(
            "UPDATE procurement SET procedure = 'direct', status = 'cancelled' WHERE id = $1", direct.procurement
        )
    await _log(db, direct, "procurement.cancelled", "{}")
    records = await package(db, direct, PackageKind.RECORD_PACKAGE, View.MEMBER, now)
    assert problems(records, PackageKind.RECORD_PACKAGE) == []
    tender = records["records"][0]["compiledRelease"]["tender"]
    assert tender["status"] == "cancelled" and tender["procurementMethod"] == "limited"
    assert tender["procurementMethodDetails"].startswith("Direktupphandling (LOU 19 kap.)")
