"""The small pieces of an OCDS release: amounts, dates, organisation references, the parties
known at a point in time, and the Swedish texts the standard leaves to the publisher."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from plugins.procurement.ocds_load import Row, Snapshot

LOCAL = ZoneInfo("Europe/Stockholm")
CURRENCY = "SEK"

# Our procedure -> OCDS method (closed codelist) and the details in Swedish. The standard's
# 'selective' (restricted procedures) does not occur: we run no restricted procedure. A Swedish
# direct procurement invites suppliers of the buyer's choosing (here: the federation's
# registered vendors), which is the codelist's 'limited'; 'direct' (one supplier, no competition)
# is what a call-off from a framework is (see ocds_calloff).
METHODS = {
    "open": ("open", "Öppet förfarande (LOU 6 kap.)"),
    "below_threshold": ("open", "Förenklat förfarande under EU:s tröskelvärden (LOU 19 kap.)"),
    "direct": ("limited", "Direktupphandling (LOU 19 kap.)"),
}
CATEGORIES = {"services": "services", "supplies": "goods", "works": "works", "social": "services"}
AWARD_CRITERIA = {"lowest_price": "priceOnly", "lowest_cost": "costOnly", "best_price_quality": "ratedCriteria"}
METRICS = {
    "availability": "Tillgänglighet",
    "temperature_compliance": "Temperatur inom gränsvärdet",
    "fault_response": "Inställelsetid vid fel",
    "fault_fix": "Åtgärdstid vid fel",
}
SEVERITIES = {"critical": "kritiskt fel", "high": "allvarligt fel", "normal": "normalt fel"}


def money(amount: Decimal | int) -> dict[str, Any]:
    """An OCDS Value. JSON has one number type: Decimal öre amounts become exact JSON numbers here,
    at the edge, and nowhere earlier."""
    return {"amount": number(amount), "currency": CURRENCY}


def number(value: Decimal | int) -> int | float:
    d = Decimal(value)
    return int(d) if d == d.to_integral_value() else float(d)


def when(moment: datetime) -> str:
    """ISO 8601 / RFC 3339 in UTC, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def day_start(day: date) -> str:
    return datetime.combine(day, time(0, 0), LOCAL).isoformat()


def day_end(day: date) -> str:
    return datetime.combine(day, time(23, 59, 59), LOCAL).isoformat()


def day_end_moment(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), LOCAL)


def month_end(month: date) -> str:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return day_end(nxt - timedelta(days=1))


def kr(amount: Decimal) -> str:
    """Swedish money text: 1 250 000 kr, 1 250,50 kr."""
    whole = f"{int(amount):,}".replace(",", " ")
    cents = abs(amount) % 1
    return f"{whole},{int(cents * 100):02d} kr" if cents else f"{whole} kr"


def pct(value: Decimal) -> str:
    return f"{number(value)}".replace(".", ",")


def federation_party_id(fid: UUID) -> str:
    return f"samverka-federation-{fid}"


def municipality_party_id(mid: UUID) -> str:
    return f"samverka-municipality-{mid}"


def vendor_party_id(vendor: Row) -> str:
    """Org-id.guide style: the Swedish companies registry (SE-BLV) and the organisation number."""
    return f"SE-BLV-{vendor['org_number'].replace('-', '')}"


def ref(party: dict[str, Any]) -> dict[str, Any]:
    return {"id": party["id"], "name": party["name"]}


class Parties:
    """Parties with their roles accumulated in the order they arise (roles replace on merge, so
    each release states every role a party has by then)."""

    def __init__(self) -> None:
        self._by_id: dict[str, dict[str, Any]] = {}

    def add(self, pid: str, name: str, role: str, identifier: dict[str, str] | None = None) -> dict[str, Any]:
        party = self._by_id.setdefault(pid, {"id": pid, "name": name, "roles": []})
        if identifier:
            party["identifier"] = identifier
        if role not in party["roles"]:
            party["roles"].append(role)
        return party

    def all(self) -> list[dict[str, Any]]:
        return [dict(p, roles=list(p["roles"])) for p in self._by_id.values()]


def lead_party(snap: Snapshot, parties: Parties) -> dict[str, Any]:
    """The lead buyer (a municipality or the federation) is the procuring entity and a buyer."""
    if snap.lead is not None:
        pid, name = municipality_party_id(snap.lead["id"]), snap.lead["name"]
    else:
        pid, name = federation_party_id(snap.federation["id"]), snap.federation["name"]
    parties.add(pid, name, "buyer")
    return parties.add(pid, name, "procuringEntity")


def parties_at(snap: Snapshot, at: datetime, *, bids_visible: bool) -> tuple[Parties, dict[str, Any]]:
    """Every party known at ``at``: the lead, the participating municipalities (buyers), the
    tenderers once bids are open, the suppliers of the awards decided by then."""
    parties = Parties()
    lead = lead_party(snap, parties)
    for p in snap.participants:
        parties.add(municipality_party_id(p["municipality_id"]), p["name"], "buyer")
    deadline = snap.procurement["tender_deadline"]
    if bids_visible and deadline is not None and deadline <= at:
        for b in snap.bids:
            vendor_party(snap, parties, b["vendor_id"], "tenderer")
    for a in snap.awards:
        if a["decided_at"] <= at:
            vendor_party(snap, parties, a["vendor_id"], "supplier")
    return parties, lead


def vendor_party(snap: Snapshot, parties: Parties, vendor_id: UUID, role: str) -> dict[str, Any]:
    v = snap.vendors[vendor_id]
    return parties.add(vendor_party_id(v), v["name"], role, {"scheme": "SE-BLV", "id": v["org_number"]})


def method_details(p: Row) -> str:
    details = METHODS[p["procedure"]][1]
    if p["framework"]:
        details += f"; ramavtal om {p['duration_months']} månader"
    else:
        details += f"; avtalstid {p['duration_months']} månader"
    return details


def award_criteria_details(p: Row, requirements: list[Row]) -> str:
    """The evaluation model and every requirement, in Swedish, as bidders read them."""
    if p["evaluation_model"] == "lowest_price":
        lines = ["Lägsta pris."]
    elif p["evaluation_model"] == "lowest_cost":
        lines = ["Lägsta kostnad: pris och den livscykelkostnad anbudet anger."]
    elif p["quality_method"] == "weighted":
        weight = pct(p["price_weight"] or Decimal(0))
        lines = [
            f"Bästa förhållande mellan pris och kvalitet, viktade kriterier: pris {weight} %, "
            "kvalitet enligt de viktade kraven nedan; högst poäng vinner."
        ]
    else:
        lines = [
            "Bästa förhållande mellan pris och kvalitet med mervärdesavdrag: jämförelsepris = pris minus "
            "avdraget för varje uppfyllt krav nedan; lägst jämförelsepris vinner."
        ]
    for r in requirements:
        where = f"Delområde {r['lot_number']}: " if r["lot_number"] is not None else ""
        if r["kind"] == "mandatory":
            lines.append(f"{where}Ska-krav: {r['text']}")
        elif r["kind"] == "deduction":
            lines.append(f"{where}Mervärdesavdrag {kr(r['deduction_sek'])}: {r['text']}")
        else:
            lines.append(f"{where}Viktat krav ({pct(r['weight'])} %): {r['text']}")
    lines.append(
        "Anbud som inte uppfyller alla ska-krav utvärderas inte. Vid lika utfall går det först inlämnade anbudet före."
    )
    return "\n".join(lines)


def milestone_text(f: Row) -> tuple[str, str]:
    """Title and description of one month's follow-up of one service level in one municipality."""
    name = METRICS.get(f["metric"]) or str(f["metric"])
    if f["severity"]:
        name += f" ({SEVERITIES.get(f['severity'], f['severity'])})"
    unit = "%" if f["unit"] == "percent" else "h"
    bound = "minst" if f["unit"] == "percent" else "högst"
    target = f"mål {bound} {pct(f['target'])} {unit}"
    title = f"{name}, {f['municipality']}, {f['month']:%Y-%m}"
    if f["measured"] is None:
        return title, f"Ingen mätdata för månaden ({target})."
    measured = pct(Decimal(f["measured"]).quantize(Decimal("0.01")))
    text = f"Uppmätt {measured} {unit} ({target})."
    if f["breached"]:
        text += f" Servicenivån uppfylldes inte; vite {kr(f['penalty_sek'])}."
    return title, text


# Order of events that share a timestamp.
RANK = {
    "planning": 0,
    "tender": 1,
    "document": 2,
    "bids": 3,
    "evaluation": 4,
    "award": 5,
    "standstill": 6,
    "contract": 7,
    "implementation": 8,
    "termination": 9,
    "cancellation": 10,
}


def release(
    snap: Snapshot, event: str, at: datetime, tags: list[str], suffix: str = "", *, bids_visible: bool, **sections: Any
) -> dict[str, Any]:
    ocid = snap.procurement["ocid"]
    parties, lead = parties_at(snap, at, bids_visible=bids_visible)
    return {
        "ocid": ocid,
        "id": f"{ocid}-{event}{suffix}",
        "date": when(at),
        "tag": tags,
        "initiationType": "tender",
        "language": "sv",
        "parties": parties.all(),
        "buyer": ref(lead),
        **sections,
    }
