"""The OCDS releases of one procurement's own ocid, one per event, each dated when it happened.

Release ids are ``<ocid>-<event>[-<row id>]``, so they are unique and stable: exporting again
gives the same releases (plus any for events that happened since). Each release states what was
known at its date: the parties and their roles by then, the tender as published, the bids once
the deadline has passed (``bids_visible``), each award, the standstill's end, each contract, each
month of follow-up as implementation milestones.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from plugins.procurement import ocds_bids, ocds_contract
from plugins.procurement import ocds_format as f
from plugins.procurement.ocds_format import release
from plugins.procurement.ocds_load import Row, Snapshot

URI_SAFE = ":/?#[]@!$&'()*+,;=%~"


def releases(snap: Snapshot, *, bids_visible: bool) -> list[dict[str, Any]]:
    """Every release of the procurement's ocid, oldest first."""
    p = snap.procurement
    v = bids_visible
    out = [
        release(
            snap,
            "planning",
            p["created_at"],
            ["planning"],
            bids_visible=v,
            planning=_planning(snap),
            tender=_planning_tender(snap),
        )
    ]
    published = p["published_at"]
    if published is not None:
        out.append(release(snap, "tender", published, ["tender"], bids_visible=v, tender=_tender(snap)))
        for d in snap.documents:
            if d["published_at"] > published:
                out.append(
                    release(
                        snap,
                        "document",
                        d["published_at"],
                        ["tenderUpdate"],
                        f"-{d['id']}",
                        bids_visible=v,
                        tender={"id": str(p["id"]), "documents": [_document(d)]},
                    )
                )
    deadline = p["tender_deadline"]
    if bids_visible and published is not None and deadline is not None and deadline <= snap.now:
        out.append(
            release(
                snap,
                "bids",
                deadline,
                ["tenderUpdate"],
                bids_visible=v,
                tender=ocds_bids.tenderers(snap),
                bids=ocds_bids.bids(snap),
            )
        )
        if p["evaluated_at"] is not None and snap.evaluation:
            out.append(
                release(
                    snap,
                    "evaluation",
                    p["evaluated_at"],
                    ["tenderUpdate"],
                    bids_visible=v,
                    bids=ocds_bids.evaluation(snap),
                )
            )
    out += ocds_contract.awards(snap, bids_visible)
    out += ocds_contract.contracts(snap, bids_visible)
    if p["status"] == "cancelled":
        at = snap.cancelled_at or published or p["created_at"]
        out.append(
            release(
                snap,
                "cancellation",
                at,
                ["tenderCancellation"],
                bids_visible=v,
                tender={"id": str(p["id"]), "status": "cancelled"},
            )
        )
    return sorted(out, key=lambda r: (r["date"], f.RANK[_event(r)]))


def _event(r: dict[str, Any]) -> str:
    return str(r["id"][len(r["ocid"]) + 1 :].split("-", 1)[0])


def _planning(snap: Snapshot) -> dict[str, Any]:
    p, fed = snap.procurement, snap.federation["name"]
    members = ", ".join(f"{m['name']} ({f.pct(m['share_percent'])} %)" for m in snap.participants)
    rationale = (
        f"Samordnad upphandling inom {fed} för {len(snap.participants)} kommuner: {members}."
        if snap.participants
        else f"Upphandling inom {fed}."
    )
    return {
        "rationale": rationale,
        "budget": {
            "id": "estimate",
            "description": f"Uppskattat värde för hela avtalstiden ({p['duration_months']} månader), alla deltagare.",
            "amount": f.money(p["estimated_value_sek"]),
        },
    }


def _planning_tender(snap: Snapshot) -> dict[str, Any]:
    p = snap.procurement
    tender = {
        "id": str(p["id"]),
        "title": p["title"],
        "description": p["description"] or p["title"],
        "status": "planning",
        "value": f.money(p["estimated_value_sek"]),
        "mainProcurementCategory": f.CATEGORIES[p["contract_kind"]],
    }
    items = _items(snap)
    if items:
        tender["items"] = items
    return tender


def _items(snap: Snapshot) -> list[dict[str, Any]]:
    """Each participant's volume, described by the need it joined with."""
    items = []
    for m in snap.participants:
        need = snap.needs.get(m["municipality_id"])
        item: dict[str, Any] = {
            "id": str(m["municipality_id"]),
            "description": f"{m['name']}: {need['title'] if need else 'uppskattad volym'}",
            "quantity": f.number(m["estimated_volume"]),
        }
        if need is not None:
            item["unit"] = {"name": need["volume_unit"]}
        items.append(item)
    return items


def _tender(snap: Snapshot) -> dict[str, Any]:
    p = snap.procurement
    method, _ = f.METHODS[p["procedure"]]
    lead = f.lead_party(snap, f.Parties())
    tender = _planning_tender(snap) | {
        "status": "active",
        "procuringEntity": f.ref(lead),
        "procurementMethod": method,
        "procurementMethodDetails": f.method_details(p),
        "awardCriteria": f.AWARD_CRITERIA[p["evaluation_model"]],
        "awardCriteriaDetails": f.award_criteria_details(p, snap.requirements),
        "submissionMethod": ["electronicSubmission" if p["electronic"] else "written"],
        "tenderPeriod": {"startDate": f.when(p["published_at"]), "endDate": f.when(p["tender_deadline"])},
        "lots": [_lot(lot) for lot in snap.lots],
        "documents": [_document(d) for d in snap.documents if d["published_at"] <= p["published_at"]],
    }
    return {k: v for k, v in tender.items() if v != []}


def _lot(lot: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"id": str(lot["number"]), "title": lot["title"], "status": "active"}
    if lot["description"]:
        out["description"] = lot["description"]
    if lot["estimated_value_sek"]:
        out["value"] = f.money(lot["estimated_value_sek"])
    return out


def _document(d: Row) -> dict[str, Any]:
    out = {
        "id": str(d["id"]),
        "documentType": d["document_type"],
        "title": d["title"],
        "description": f"SHA-256: {d['sha256']}",
        "datePublished": f.when(d["published_at"]),
        "language": "sv",
    }
    if d["url"]:  # a link as given, with anything a URI may not hold (e.g. spaces) percent-encoded
        out["url"] = quote(d["url"], safe=URI_SAFE)
    elif d["body"]:
        out["description"] += " (texten publiceras i upphandlingen, inte som fil)"
    return out
