"""Names the deliveries' pages show for the plugin's values, translated when shown, and where a
delivery is (site, locker, compartment) for a page of deliveries in one read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from backend.web.i18n import N_, gettext

STATUS = {
    "reserved": N_("Booked"),
    "dropped_off": N_("Dropped off"),
    "pickup_code_sent": N_("Pickup code sent"),
    "picked_up": N_("Picked up"),
    "expired": N_("Not picked up in time"),
    "returned": N_("Returned to the sender"),
    "cancelled": N_("Cancelled"),
}
RECIPIENT_KIND = {"staff_unit": N_("Staff unit"), "citizen": N_("Citizen")}
CHANNEL = {"sms": N_("SMS"), "email": N_("E-mail"), "webhook": N_("Webhook to the sender")}
NOTIFICATION_STATUS = {"pending": N_("Waiting to be sent"), "sent": N_("Sent"), "failed": N_("Failed")}
TOPIC = {
    "deliveries.pickup_code": N_("Pickup code to the recipient"),
    "deliveries.reminder": N_("Reminder to the recipient"),
    "deliveries.expired": N_("Not picked up: notice to the recipient"),
    "deliveries.cold_chain_broken": N_("Broken cold chain: alert to the municipality"),
}
LABELS = {
    "status": STATUS,
    "recipient_kind": RECIPIENT_KIND,
    "channel": CHANNEL,
    "notification_status": NOTIFICATION_STATUS,
    "topic": TOPIC,
}


def label(kind: str, value: Any) -> str:
    """The translated name of a value (an enum's value is used); a webhook topic names its status."""
    raw = str(getattr(value, "value", value))
    if kind == "topic" and raw.startswith("delivery."):
        return gettext("Sender told: %(status)s", status=label("status", raw.removeprefix("delivery.")))
    found = LABELS[kind].get(raw)
    return gettext(found) if found else raw


@dataclass(frozen=True)
class Place:
    site_id: UUID
    site: str
    address: str
    locker_id: UUID
    locker: str
    compartment: str


PLACES = """
SELECT c.id, c.compartment_key, l.id AS locker_id, l.name AS locker, s.id AS site_id, s.name AS site, s.address
FROM lockers_compartment c
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
JOIN lockers_site s ON s.tenant_id = l.tenant_id AND s.id = l.site_id
WHERE c.tenant_id = $1 AND c.id = ANY($2::uuid[])
"""


async def places(scope: api.Scope, compartment_ids: list[UUID]) -> dict[UUID, Place]:
    """Where each compartment is, by its id (this municipality's only)."""
    rows = await scope.connection.fetch(PLACES, scope.tenant, list(set(compartment_ids)))
    return {
        r["id"]: Place(r["site_id"], r["site"], r["address"], r["locker_id"], r["locker"], r["compartment_key"])
        for r in rows
    }
