"""The ``lockers.events`` hook: a cabinet door that opens with no authorised request in the last
``authorised_window_s`` seconds (forced, or opened with a key) is logged as an unauthorised
opening, audited, and raised as an alarm (``alarms``). (Doors left ajar: ``timers``.)"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from backend import plugin_api as api
from opcua_gateway.contracts import StateChanged
from plugins.lockers.hooks import AfterCommit, PlacedEvent
from plugins.medicine_cabinets import alarms, config, log
from plugins.medicine_cabinets.config import PLUGIN_ID
from tenants import audit
from tenants.access import Actor

SYSTEM = Actor.system("medicine_cabinets")

CABINET = """
SELECT cab.id AS cabinet_id, cab.recipient_id, cab.responsible_nurse_id, c.compartment_key
FROM lockers_compartment c
JOIN medicine_cabinets_cabinet cab ON cab.tenant_id = c.tenant_id AND cab.locker_id = c.locker_id
WHERE c.tenant_id = $1 AND c.id = $2
"""

AUTHORISED = """
SELECT request_id, requested_by_id FROM lockers_command
WHERE tenant_id = $1 AND compartment_id = $2 AND command = 'unlock' AND requested_at >= $3
  AND (outcome IS NULL OR outcome = 'confirmed')
ORDER BY requested_at DESC LIMIT 1
"""


def _door_opened(p: PlacedEvent) -> bool:
    e = p.event
    return isinstance(e, StateChanged) and e.state.door_open is True and (not e.changed or "door_open" in e.changed)


async def on_locker_events(scope: api.Scope, events: Sequence[PlacedEvent], now: datetime) -> list[AfterCommit]:
    """The hook: called for tenants that enabled this plugin, in the ingest's transaction."""
    relevant = [p for p in events if p.compartment_id is not None and _door_opened(p)]
    if not relevant or not await api.plugin_enabled(scope, PLUGIN_ID):
        return []
    settings = await config.load(scope)
    for p in sorted(relevant, key=lambda p: (p.event.at, p.event.seq)):
        cab = await scope.connection.fetchrow(CABINET, scope.tenant, p.compartment_id)
        if cab is None:
            continue
        since = p.event.at - timedelta(seconds=settings.authorised_window_s)
        if await scope.connection.fetchrow(AUTHORISED, scope.tenant, p.compartment_id, since) is None:
            await _unauthorised(scope, p, cab)
    return []


async def _unauthorised(scope: api.Scope, p: PlacedEvent, cab: Any) -> None:
    assert p.compartment_id is not None
    seq = await log.append(
        scope,
        kind="unauthorised_opening",
        at=p.event.at,
        cabinet_id=cab["cabinet_id"],
        compartment_id=p.compartment_id,
        recipient_id=cab["recipient_id"],
        detail="door opened without an authorised request",
    )
    notified = await alarms.raise_alarm(scope, seq, cab, p.event.at)
    await audit.record(
        scope,
        actor=SYSTEM,
        action="medicine_cabinets.unauthorised_opening",
        target_kind="locker_compartment",
        target_id=p.compartment_id,
        details={"log_seq": seq, "notified": notified},
    )
