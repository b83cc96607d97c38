"""A call-off (avrop) as its own OCDS contracting process.

Each call-off has its own ocid (``procurement_call_off.ocid``) and one release, dated when it was
placed: the municipality is the buyer and procuring entity, the framework's supplier is awarded
directly (the codelist's 'direct': no new competition), and ``relatedProcesses`` points to the
framework's ocid with the relationship 'framework' and the scheme 'ocid'. Who placed it (a
person) is not published.
"""

from __future__ import annotations

from typing import Any

from plugins.procurement import ocds_format as f
from plugins.procurement.ocds_load import Row, Snapshot


def releases(snap: Snapshot) -> list[dict[str, Any]]:
    contracts = {k["id"]: k for k in snap.contracts}
    return [_release(snap, o, contracts[o["contract_id"]]) for o in snap.call_offs if o["contract_id"] in contracts]


def _release(snap: Snapshot, o: Row, framework: Row) -> dict[str, Any]:
    p = snap.procurement
    parties = f.Parties()
    buyer = parties.add(f.municipality_party_id(o["municipality_id"]), o["municipality"], "buyer")
    parties.add(buyer["id"], buyer["name"], "procuringEntity")
    supplier = f.vendor_party(snap, parties, framework["vendor_id"], "supplier")
    oid, ordered = str(o["id"]), f.when(o["ordered_at"])
    title = f"Avrop: {framework['title']}"
    description = o["description"] or title
    item = {"id": "1", "description": description, "quantity": f.number(o["quantity"])}
    return {
        "ocid": o["ocid"],
        "id": f"{o['ocid']}-calloff",
        "date": ordered,
        "tag": ["award", "contract"],
        "initiationType": "tender",
        "language": "sv",
        "parties": parties.all(),
        "buyer": f.ref(buyer),
        "tender": {
            "id": oid,
            "title": title,
            "description": description,
            "status": "complete",
            "procuringEntity": f.ref(buyer),
            "procurementMethod": "direct",
            "procurementMethodDetails": "Avrop från ramavtal utan förnyad konkurrensutsättning (LOU 7 kap.)",
            "mainProcurementCategory": f.CATEGORIES[p["contract_kind"]],
            "items": [item],
        },
        "awards": [
            {
                "id": oid,
                "title": title,
                "status": "active",
                "date": ordered,
                "value": f.money(o["value_sek"]),
                "suppliers": [f.ref(supplier)],
                "items": [item],
            }
        ],
        "contracts": [
            {
                "id": oid,
                "awardID": oid,
                "title": title,
                "status": "active",
                "value": f.money(o["value_sek"]),
                "dateSigned": ordered,
                "period": {"startDate": ordered, "endDate": f.day_end(framework["ends_on"])},
            }
        ],
        "relatedProcesses": [
            {
                "id": "framework",
                "relationship": ["framework"],
                "title": p["title"],
                "scheme": "ocid",
                "identifier": p["ocid"],
            }
        ],
    }
