"""The medicine cabinet demo of ``samverka up``: a simulated Kylbox locker in a care recipient's
home in Götene, set up through the public GraphQL API as Götene's admin would (ADR 0011).

The admin enables lockers, fault reports and medicine cabinets, registers the locker at the home,
adds the care recipient GOT-0001, makes the locker their cabinet with the last compartment
nurse-only, marks the seeded nurse a nurse and assigns her and the seeded home-care staff member
to GOT-0001. The set-up runs once (``cabinet.json`` in the demo directory keeps what it made); the
assignments are renewed on every start for the Swedish local day and the six after it, so an old
data directory still has today's visit. With a plugin left out (``SAMVERKA_PLUGINS``) there is no
cabinet demo. No procurement contract covers the cabinet (there is no procurement demo data), so a
fault stays with Götene rather than being routed to a vendor (ADR 0012).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from backend.demo import ENDPOINT, SITE, Api, DemoError, register_locker
from backend.lib import local_day
from backend.seed import DEMO_PASSWORD

SLUG = "gotene"
ADMIN, STAFF, NURSE = (f"{who}@{SLUG}.example" for who in ("admin", "personal", "sjukskoterska"))
RECIPIENT = "GOT-0001"
HOME = ("Hemma hos GOT-0001, Götene", 58.5276, 13.4927)
LOCKER_NAME = "Läkemedelsskåp"
PLUGINS = ("lockers", "fault_reports", "medicine_cabinets")
SETTINGS: dict[str, dict[str, Any]] = {"fault_reports": {"offline_minutes": 5}}  # a fault soon, for the demo
DAYS = 7  # today and the next six
SAVED = "cabinet.json"

PLUGINS_QUERY = "{ plugins { id } }"
ENABLE = """mutation($id: String!, $c: JSON) { enablePlugin(pluginId: $id, config: $c) { __typename
  ... on Error { code message } } }"""
ME = "{ me { user { id } } }"
ADD_RECIPIENT = """mutation($ref: String!) { addCareRecipient(reference: $ref) { __typename
  ... on MedicineCreated { id } ... on Error { code message } } }"""
ADD_CABINET = """mutation($locker: ID!, $recipient: ID!, $nurse: ID) {
  addMedicineCabinet(lockerId: $locker, careRecipientId: $recipient, responsibleNurseId: $nurse) { __typename
  ... on MedicineCreated { id } ... on Error { code message } } }"""
RESTRICT = """mutation($id: ID!) { restrictCabinetCompartment(compartmentId: $id) { __typename
  ... on Error { code message } } }"""
QUALIFY = """mutation($user: ID!) { setStaffQualification(userId: $user, nurse: true) { __typename
  ... on Error { code message } } }"""
ASSIGN = """mutation($user: ID!, $recipient: ID!, $day: Date!, $last: Date) {
  assignStaff(userId: $user, careRecipientId: $recipient, day: $day, lastDay: $last) { __typename
  ... on Error { code message } } }"""


def user_id(api: Api, email: str) -> str | None:
    """The id of the seeded account ``email`` (asked as that account); None where it was never seeded
    (the nurse, in a data directory seeded before she was added)."""
    try:
        api.sign_in(email)
    except DemoError:
        return None
    return str(api(ME, {})["me"]["user"]["id"])


def set_up(api: Api, sim: dict[str, Any]) -> dict[str, Any] | None:
    """The whole cabinet set-up as Götene's admin; what ``assign_week`` needs, or None without the plugins."""
    api.sign_in(ADMIN)
    installed = {p["id"] for p in api(PLUGINS_QUERY, {})["plugins"]}
    if not installed.issuperset(PLUGINS):
        return None
    nurse, staff = user_id(api, NURSE), user_id(api, STAFF)
    api.sign_in(ADMIN)
    for plugin in PLUGINS:
        api.result(ENABLE, {"id": plugin, "c": SETTINGS.get(plugin)}, "enablePlugin")
    name, lat, lon = HOME
    site = api.result(SITE, {"i": {"name": name, "latitude": lat, "longitude": lon}}, "registerSite")
    endpoint_name = f"{sim['vendor']}-{RECIPIENT.lower()}"
    endpoint = api.result(
        ENDPOINT, {"i": {"name": endpoint_name, "vendor": sim["vendor"], "url": sim["url"]}}, "registerEndpoint"
    )
    [locker] = sim["lockers"]
    registered = register_locker(api, site["id"], endpoint["id"], locker, LOCKER_NAME)
    if nurse is not None:
        api.result(QUALIFY, {"user": nurse}, "setStaffQualification")
    recipient = api.result(ADD_RECIPIENT, {"ref": RECIPIENT}, "addCareRecipient")["id"]
    cabinet = {"locker": registered["locker"], "recipient": recipient, "nurse": nurse}
    api.result(ADD_CABINET, cabinet, "addMedicineCabinet")
    nurse_only = max(registered["compartments"], key=int)
    api.result(RESTRICT, {"id": registered["compartments"][nurse_only]}, "restrictCabinetCompartment")
    staff_ids = [user for user in (staff, nurse) if user is not None]
    return {"endpoint": endpoint["id"], "recipient": recipient, "staff": staff_ids, "nurse_only": nurse_only}


def assign_week(api: Api, cabinet: dict[str, Any]) -> None:
    """As Götene's admin: the staff member and the nurse visit GOT-0001 today and the next six days
    (Swedish local days; assigning a day twice changes nothing)."""
    api.sign_in(ADMIN)
    today = local_day()
    days = {"day": today.isoformat(), "last": (today + timedelta(days=DAYS - 1)).isoformat()}
    for user in cabinet["staff"]:
        api.result(ASSIGN, {"user": user, "recipient": cabinet["recipient"], **days}, "assignStaff")


def prepare(directory: Path, api: Api, sim: dict[str, Any]) -> dict[str, Any] | None:
    """The cabinet set up once (kept in ``directory``) and assigned for the week ahead; None without it."""
    path = directory / SAVED
    cabinet = json.loads(path.read_text()) if path.exists() else set_up(api, sim)
    if cabinet is None:
        return None
    path.write_text(json.dumps(cabinet, indent=2))
    assign_week(api, cabinet)
    return dict(cabinet)


def guide(url: str, cabinet: dict[str, Any], say: Callable[[str], None]) -> None:
    """``demo:`` lines: where to sign in and what to try."""
    fack = cabinet["nurse_only"]
    pages = f"{url}/web/plugins"
    for line in (
        f"medicine cabinet in the home of {RECIPIENT} in Götene (a simulated Kylbox); sign in at {url}/login "
        f"with password {DEMO_PASSWORD}",
        f"as {STAFF}: {pages}/medicine_cabinets/today opens a compartment; fack {fack} is nurse-only, refused",
        f"as {NURSE}: the same page opens fack {fack} too; the log: {pages}/medicine_cabinets/log",
        f"as {ADMIN}: the set-up (cabinets, nurse-only, who visits whom): {pages}/medicine_cabinets/setup",
        f"as {STAFF}: report a fault at {pages}/fault_reports/report; the gateway reports one itself when the "
        f"cabinet is offline over {SETTINGS['fault_reports']['offline_minutes']} min; no procurement contract "
        "covers it, so faults stay with Götene",
    ):
        say(f"demo: {line}")
