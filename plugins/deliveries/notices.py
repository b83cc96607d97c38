"""What recipients, integrators and the municipality are told, written to the kernel's
notification outbox inside the delivery's own transaction (sent by the job queue after commit).

Texts to recipients are Swedish first with English after, as they go to citizens and staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from backend import plugin_api as api
from plugins.deliveries.effects import Effects

SUBJECT_KIND = "delivery"
LOCAL = ZoneInfo("Europe/Stockholm")


def _local(at: datetime) -> str:
    return at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M")


async def _to_recipient(scope: api.Scope, row: Any, topic: str, subject: str, body: str, effects: Effects) -> None:
    """By SMS and by e-mail, as far as the recipient gave them (erased details: nobody to tell)."""
    channels: list[tuple[Literal["email", "sms"], str | None]] = [
        ("sms", row["recipient_phone"]),
        ("email", row["recipient_email"]),
    ]
    for channel, to in channels:
        if not to:
            continue
        effects.notified(
            await api.notify(
                scope,
                channel=channel,
                to=to,
                subject=subject,
                body=body,
                topic=topic,
                subject_kind=SUBJECT_KIND,
                subject_id=row["id"],
            )
        )


async def pickup_code(scope: api.Scope, row: Any, place: str, code: str, effects: Effects) -> None:
    deadline = _local(row["pickup_deadline"])
    body = (
        f"Hej {row['recipient_name']}! Din leverans {row['reference']} finns i skåpet vid {place}. "
        f"Hämtkod: {code}. Hämta senast {deadline}.\n"
        f"Your delivery {row['reference']} is in the locker at {place}. Pickup code: {code}. "
        f"Collect it by {deadline}."
    )
    await _to_recipient(scope, row, "deliveries.pickup_code", "Din leverans finns i skåpet", body, effects)


async def reminder(scope: api.Scope, row: Any, place: str, effects: Effects) -> None:
    deadline = _local(row["pickup_deadline"])
    body = (
        f"Påminnelse: leveransen {row['reference']} väntar i skåpet vid {place}. Hämta senast {deadline} "
        f"med koden i det första meddelandet.\n"
        f"Reminder: delivery {row['reference']} is waiting in the locker at {place}. Collect it by {deadline} "
        f"with the code from the first message."
    )
    await _to_recipient(scope, row, "deliveries.reminder", "Påminnelse: din leverans väntar", body, effects)


async def expired_to_recipient(scope: api.Scope, row: Any, place: str, effects: Effects) -> None:
    body = (
        f"Leveransen {row['reference']} hämtades inte i tid och går tillbaka till avsändaren.\n"
        f"Delivery {row['reference']} was not collected in time and goes back to the sender."
    )
    await _to_recipient(scope, row, "deliveries.expired", "Leveransen går tillbaka", body, effects)


async def to_integrator(scope: api.Scope, row: Any, event: str, effects: Effects, **extra: Any) -> None:
    """A signed webhook to the integrator that owns the delivery (if it registered an endpoint)."""
    payload = {
        "event": event,
        "delivery": {
            "id": str(row["id"]),
            "reference": row["reference"],
            "status": row["status"],
            "statusAt": row["status_at"].isoformat(),
            "siteId": str(row["site_id"]),
            "compartmentId": str(row["compartment_id"]),
            "coldChainBroken": row["cold_chain_broken"],
        },
        **extra,
    }
    effects.notified(
        await api.webhook(
            scope,
            owner_id=row["integrator_id"],
            event=event,
            payload=payload,
            subject_kind=SUBJECT_KIND,
            subject_id=row["id"],
        )
    )


async def cold_chain_to_municipality(scope: api.Scope, row: Any, address: str, effects: Effects) -> None:
    if not address:
        return
    minutes = row["cold_seconds_above"] / 60
    body = (
        f"Kylkedjan bröts för leverans {row['reference']} (fack {row['compartment_id']}): {minutes:.0f} min över "
        f"{row['cold_limit_c']:g} °C, högst {row['cold_max_c']:.1f} °C. Kontrollera varan innan den används.\n"
        f"The cold chain broke for delivery {row['reference']}: {minutes:.0f} min above {row['cold_limit_c']:g} °C, "
        f"at most {row['cold_max_c']:.1f} °C. Check the goods before use."
    )
    effects.notified(
        await api.notify(
            scope,
            channel="email",
            to=address,
            subject=f"Kylkedjan bruten: leverans {row['reference']}",
            body=body,
            topic="deliveries.cold_chain_broken",
            subject_kind=SUBJECT_KIND,
            subject_id=row["id"],
        )
    )
