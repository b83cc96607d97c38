"""The bids section of a procurement's releases (the OCDS bids extension, modelled from its
documentation): once the deadline has passed, every bid with its tenderer, price and lot and the
counts; after the evaluation, each bid valid or disqualified and the valid bids' spread per lot."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from plugins.procurement import ocds_format as f
from plugins.procurement.ocds_load import Row, Snapshot


def tenderers(snap: Snapshot) -> dict[str, Any]:
    vendors = list(dict.fromkeys(b["vendor_id"] for b in snap.bids))
    refs = [{"id": f.vendor_party_id(snap.vendors[v]), "name": snap.vendors[v]["name"]} for v in vendors]
    tender: dict[str, Any] = {
        "id": str(snap.procurement["id"]),
        "numberOfTenderers": len(vendors),
        "hasEnquiries": snap.questions > 0,
    }
    if refs:
        tender["tenderers"] = refs
    return tender


def bid_ref(snap: Snapshot, vendor_id: UUID) -> dict[str, Any]:
    v = snap.vendors[vendor_id]
    return {"id": f.vendor_party_id(v), "name": v["name"]}


def bids(snap: Snapshot) -> dict[str, Any]:
    p = snap.procurement
    at = f.when(p["tender_deadline"])
    stats: list[dict[str, Any]] = [
        {"id": "bids", "measure": "bids", "value": len(snap.bids), "date": at},
        {"id": "bidders", "measure": "bidders", "value": len({b["vendor_id"] for b in snap.bids}), "date": at},
    ]
    if p["electronic"]:
        stats.append({"id": "electronicBids", "measure": "electronicBids", "value": len(snap.bids), "date": at})
    for lot in snap.lots:
        count = sum(1 for b in snap.bids if b["lot_id"] == lot["id"])
        stats.append(
            {
                "id": f"bids-lot-{lot['number']}",
                "measure": "bids",
                "value": count,
                "date": at,
                "relatedLot": str(lot["number"]),
            }
        )
    details = [
        {
            "id": str(b["id"]),
            "date": f.when(b["submitted_at"]),
            "status": "pending",
            "tenderers": [bid_ref(snap, b["vendor_id"])],
            "value": f.money(b["price_sek"]),
            "relatedLots": [str(b["lot_number"])],
        }
        for b in snap.bids
    ]
    return {"statistics": stats, "details": details}


def evaluation(snap: Snapshot) -> dict[str, Any]:
    """Each bid found valid or disqualified, and the valid bids' spread per lot."""
    at = f.when(snap.procurement["evaluated_at"])
    price = {b["id"]: b["price_sek"] for b in snap.bids}
    number = {lot["id"]: str(lot["number"]) for lot in snap.lots}
    stats: list[dict[str, Any]] = []
    by_lot: dict[UUID, list[Row]] = defaultdict(list)
    for e in snap.evaluation:
        by_lot[e["lot_id"]].append(e)
    for lot_id, rows in by_lot.items():
        n = number.get(lot_id, str(lot_id))
        valid = [price[e["bid_id"]] for e in rows if e["qualified"] and e["bid_id"] in price]
        stats.append(
            {"id": f"validBids-lot-{n}", "measure": "validBids", "value": len(valid), "date": at, "relatedLot": n}
        )
        stats.append(
            {
                "id": f"disqualifiedBidders-lot-{n}",
                "measure": "disqualifiedBidders",
                "value": len({e["vendor_id"] for e in rows if not e["qualified"]}),
                "date": at,
                "relatedLot": n,
            }
        )
        if valid:
            for measure, value in (("lowestValidBidValue", min(valid)), ("highestValidBidValue", max(valid))):
                stats.append(
                    {
                        "id": f"{measure}-lot-{n}",
                        "measure": measure,
                        "value": f.number(value),
                        "currency": f.CURRENCY,
                        "date": at,
                        "relatedLot": n,
                    }
                )
    details = [
        {"id": str(e["bid_id"]), "status": "valid" if e["qualified"] else "disqualified"} for e in snap.evaluation
    ]
    return {"statistics": stats, "details": details}
