"""Awards, contracts and their follow-up in a procurement's releases: each award when decided
(pending through the standstill, then active), each contract when signed and when it ends, and
each month of follow-up as implementation milestones (one per service level and municipality)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

from plugins.procurement import ocds_format as f
from plugins.procurement.ocds_bids import bid_ref
from plugins.procurement.ocds_format import release
from plugins.procurement.ocds_load import Row, Snapshot


def awards(snap: Snapshot, bids_visible: bool) -> list[dict[str, Any]]:
    p = snap.procurement
    out = []
    lots_awarded: set[UUID] = set()
    for a in snap.awards:
        lots_awarded.add(a["lot_id"])
        award: dict[str, Any] = {
            "id": str(a["id"]),
            "title": f"Delområde {a['lot_number']}: {a['lot_title']}",
            "status": "pending",
            "date": f.when(a["decided_at"]),
            "value": f.money(a["value_sek"]),
            "suppliers": [bid_ref(snap, a["vendor_id"])],
            "relatedLots": [str(a["lot_number"])],
        }
        if bids_visible:
            award["relatedBid"] = str(a["bid_id"])
        tender: dict[str, Any] = {"id": str(p["id"]), "lots": [{"id": str(a["lot_number"]), "status": "complete"}]}
        if len(lots_awarded) == len(snap.lots):  # every lot decided: the tender is complete
            tender |= {
                "status": "complete",
                "awardPeriod": {"startDate": f.when(p["tender_deadline"]), "endDate": f.when(a["decided_at"])},
            }
        sections = {"awards": [award], "tender": tender}
        out.append(
            release(snap, "award", a["decided_at"], ["award"], f"-{a['id']}", bids_visible=bids_visible, **sections)
        )
        if a["standstill_ends_at"] <= snap.now:  # the standstill is over: the award is in force
            out.append(
                release(
                    snap,
                    "standstill",
                    a["standstill_ends_at"],
                    ["awardUpdate"],
                    f"-{a['id']}",
                    bids_visible=bids_visible,
                    awards=[{"id": str(a["id"]), "status": "active"}],
                )
            )
    return out


def contracts(snap: Snapshot, bids_visible: bool) -> list[dict[str, Any]]:
    out = []
    for k in snap.contracts:
        cid = str(k["id"])
        contract = {
            "id": cid,
            "awardID": str(k["award_id"]),
            "title": k["title"],
            "status": "active",
            "period": {"startDate": f.day_start(k["starts_on"]), "endDate": f.day_end(k["ends_on"])},
            "value": f.money(k["value_sek"]),
            "dateSigned": f.when(k["signed_at"]),
        }
        out.append(
            release(
                snap,
                "contract",
                k["signed_at"],
                ["contract"],
                f"-{cid}",
                bids_visible=bids_visible,
                contracts=[contract],
            )
        )
        out += _implementation(snap, k, bids_visible)
        if k["status"] in ("ended", "terminated"):
            at = snap.terminations.get(k["id"]) or f.day_end_moment(k["ends_on"])
            out.append(
                release(
                    snap,
                    "termination",
                    at,
                    ["contractTermination"],
                    f"-{cid}",
                    bids_visible=bids_visible,
                    contracts=[{"id": cid, "awardID": str(k["award_id"]), "status": "terminated"}],
                )
            )
    return out


def _implementation(snap: Snapshot, k: Row, bids_visible: bool) -> list[dict[str, Any]]:
    """One release per month of follow-up: each service level in each municipality a milestone."""
    months: dict[Any, list[Row]] = defaultdict(list)
    for row in snap.followups:
        if row["contract_id"] == k["id"]:
            months[row["month"]].append(row)
    out = []
    for month, rows in sorted(months.items()):
        milestones = []
        for row in rows:
            title, description = f.milestone_text(row)
            milestone: dict[str, Any] = {
                "id": f"{month:%Y-%m}/{row['municipality_id']}/{row['service_level_id']}",
                "title": title,
                "type": "reporting",
                "description": description,
                "dueDate": f.month_end(month),
                "dateModified": f.when(row["computed_at"]),
            }
            if row["measured"] is not None:
                milestone["status"] = "notMet" if row["breached"] else "met"
            milestones.append(milestone)
        at = max(r["computed_at"] for r in rows)
        contract = {"id": str(k["id"]), "awardID": str(k["award_id"]), "implementation": {"milestones": milestones}}
        out.append(
            release(
                snap,
                "implementation",
                at,
                ["implementation"],
                f"-{k['id']}-{month:%Y-%m}",
                bids_visible=bids_visible,
                contracts=[contract],
            )
        )
    return out
