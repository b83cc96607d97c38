"""What ingest records beside state: the gateway's own alarms, every opening (in the audit
log, naming who asked when the backend sent the command), and command results."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from backend import plugin_api as api
from opcua_gateway.contracts import AlarmCleared, AlarmRaised, CommandResult, Opened
from tenants import audit
from tenants.access import Actor

ALARM_RAISED = """
INSERT INTO lockers_alarm (tenant_id, id, alarm_key, source, kind, severity, message, value, endpoint_id,
                           locker_id, compartment_id, raised_at)
VALUES ($1, gen_random_uuid(), $2, 'gateway', $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (tenant_id, alarm_key) DO UPDATE SET
  kind = EXCLUDED.kind, severity = EXCLUDED.severity, message = EXCLUDED.message, value = EXCLUDED.value,
  raised_at = COALESCE(lockers_alarm.raised_at, EXCLUDED.raised_at)
RETURNING id
"""

ALARM_CLEARED = """
INSERT INTO lockers_alarm (tenant_id, id, alarm_key, source, kind, severity, message, endpoint_id, locker_id,
                           compartment_id, cleared_at)
VALUES ($1, gen_random_uuid(), $2, 'gateway', $3, 'warning', '', $4, $5, $6, $7)
ON CONFLICT (tenant_id, alarm_key) DO UPDATE SET cleared_at = COALESCE(lockers_alarm.cleared_at, EXCLUDED.cleared_at)
RETURNING id
"""

COMMAND_RESULT = """
UPDATE lockers_command SET outcome = $4, detail = $5, completed_at = $6
WHERE tenant_id = $1 AND request_id = $2 AND endpoint_id = $3 AND (outcome IS NULL OR outcome = 'timeout')
RETURNING request_id, compartment_id, command
"""

REQUESTERS = """
SELECT request_id, requested_by_kind, requested_by_id, requested_by_label FROM lockers_command
WHERE tenant_id = $1 AND request_id = ANY($2::uuid[])
"""

GATEWAY = Actor.system("lockers-gateway")


async def gateway_alarm(
    scope: api.Scope, event: AlarmRaised | AlarmCleared, locker_id: UUID | None, compartment_id: UUID | None
) -> None:
    """Raised and cleared by alarm_id, in either order (a clear that overtook its raise is kept)."""
    key = f"gateway:{event.endpoint_id}:{event.alarm_id}"
    if isinstance(event, AlarmRaised):
        await scope.connection.fetchval(
            ALARM_RAISED,
            scope.tenant,
            key,
            event.alarm.value,
            event.severity.value,
            event.message[:500],
            event.value,
            event.endpoint_id,
            locker_id,
            compartment_id,
            event.at,
        )
    else:
        await scope.connection.fetchval(
            ALARM_CLEARED,
            scope.tenant,
            key,
            event.alarm.value,
            event.endpoint_id,
            locker_id,
            compartment_id,
            event.at,
        )


async def openings(scope: api.Scope, opened: list[tuple[Opened, UUID | None]]) -> None:
    """Every opening goes to the audit log; one the backend asked for names the person who asked."""
    if not opened:
        return
    request_ids = [rid for e, _ in opened if (rid := _uuid(e.request_id))]
    requesters = {
        r["request_id"]: Actor(r["requested_by_kind"], r["requested_by_id"], r["requested_by_label"])
        for r in await scope.connection.fetch(REQUESTERS, scope.tenant, request_ids)
    }
    for event, compartment_id in opened:
        request_id = _uuid(event.request_id)
        actor = requesters.get(request_id, GATEWAY) if request_id else GATEWAY
        await audit.record(
            scope,
            actor=actor,
            action="lockers.opened",
            target_kind="locker_compartment",
            target_id=compartment_id or f"{event.locker}/{event.compartment}",
            details={
                "by": event.by,
                "request_id": event.request_id,
                "endpoint_id": event.endpoint_id,
                "locker": event.locker,
                "compartment": event.compartment,
                "at": event.at.isoformat(),
                "event_id": event.event_id,
            },
        )


def _uuid(value: str | None) -> UUID | None:
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


async def command_result(scope: api.Scope, result: CommandResult) -> dict[str, Any] | None:
    """Record the outcome of a command this tenant sent; a redelivered result changes nothing."""
    request_id = _uuid(result.request_id)
    if request_id is None:
        return None
    row = await scope.connection.fetchrow(
        COMMAND_RESULT, scope.tenant, request_id, result.endpoint_id, result.outcome, result.detail[:1000], result.at
    )
    if row is None:
        return None  # not ours, or answered already
    await audit.record(
        scope,
        actor=GATEWAY,
        action="lockers.command_completed",
        target_kind="locker_compartment",
        target_id=row["compartment_id"],
        details={
            "request_id": str(request_id),
            "command": row["command"],
            "outcome": result.outcome,
            "detail": result.detail[:1000],
        },
    )
    return {
        "request_id": request_id,
        "compartment_id": row["compartment_id"],
        "outcome": result.outcome,
        "detail": result.detail[:1000],
    }
