"""Opening a compartment: record the request, send ``UnlockCompartment`` to the endpoint's
command stream, and wait for the gateway's ``CommandResult`` (stored by the ingest consumer,
which then notifies on a per-request channel) or give up after the timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

from redis.asyncio import Redis

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway import contracts
from plugins.lockers import live
from tenants import audit
from tenants.access import Actor
from tenants.database import Database

COMMANDS_MAXLEN = 10_000
RESULT_GRACE_S = 2.0  # beyond the gateway's own timeout, for the result's way back
POLL_S = 1.0

TARGET = """
SELECT c.id, c.compartment_key, l.vendor_locker_id, l.endpoint_id FROM lockers_compartment c
JOIN lockers_locker l ON l.tenant_id = c.tenant_id AND l.id = c.locker_id
WHERE c.tenant_id = $1 AND c.id = $2
"""


@dataclass(frozen=True)
class Outcome:
    request_id: UUID
    compartment_id: UUID
    outcome: str | None  # confirmed | failed | timeout | rejected; None while waiting
    detail: str
    completed_at: datetime | None


async def request_unlock(
    scope: api.Scope, compartment_id: UUID, *, actor: Actor, timeout_s: float
) -> contracts.UnlockCompartment:
    """Record (and audit) the request; the command is sent after commit."""
    row = await scope.connection.fetchrow(TARGET, scope.tenant, compartment_id)
    if row is None:
        raise api.NotFound("Compartment", compartment_id)
    request_id = uuid4()
    await scope.connection.execute(
        """INSERT INTO lockers_command (tenant_id, request_id, command, endpoint_id, compartment_id,
                                        requested_by_kind, requested_by_id, requested_by_label, timeout_s)
           VALUES ($1, $2, 'unlock', $3, $4, $5, $6, $7, $8)""",
        scope.tenant,
        request_id,
        row["endpoint_id"],
        compartment_id,
        actor.kind,
        actor.id,
        actor.label[:320],
        timeout_s,
    )
    await audit.record(
        scope,
        actor=actor,
        action="lockers.open_requested",
        target_kind="locker_compartment",
        target_id=compartment_id,
        details={
            "request_id": str(request_id),
            "endpoint_id": row["endpoint_id"],
            "locker": row["vendor_locker_id"],
            "compartment": row["compartment_key"],
        },
    )
    return contracts.UnlockCompartment(
        request_id=str(request_id),
        endpoint_id=row["endpoint_id"],
        locker=row["vendor_locker_id"],
        compartment=row["compartment_key"],
        requested_by=actor.label,
        timeout_s=timeout_s,
    )


async def stored_outcome(db: Database, tenant: UUID, request_id: UUID) -> Outcome:
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            "SELECT * FROM lockers_command WHERE tenant_id = $1 AND request_id = $2", tenant, request_id
        )
    return Outcome(row["request_id"], row["compartment_id"], row["outcome"], row["detail"], row["completed_at"])


async def send_and_wait(
    db: Database, redis: Redis, tenant: UUID, command: contracts.UnlockCompartment, *, actor: Actor
) -> Outcome:
    """Send the command and wait for its result, at most the gateway's timeout plus a grace."""
    request_id = UUID(command.request_id)
    stream = contracts.commands_stream(command.endpoint_id)
    pubsub = redis.pubsub()
    await pubsub.subscribe(live.command_channel(tenant, request_id))  # before sending: no result is missed
    try:
        entry_id = await redis.xadd(stream, {"m": contracts.encode(command)}, maxlen=COMMANDS_MAXLEN, approximate=True)
        deadline = time.monotonic() + command.timeout_s + RESULT_GRACE_S
        while (remaining := deadline - time.monotonic()) > 0:
            outcome = await stored_outcome(db, tenant, request_id)
            if outcome.outcome is not None:
                return outcome
            await pubsub.get_message(ignore_subscribe_messages=True, timeout=min(remaining, POLL_S))
        # No answer: withdraw the command if the gateway has not read it, so it is never run late.
        await redis.xdel(stream, entry_id)
        return await _timed_out(db, tenant, request_id, command, actor)
    finally:
        await pubsub.unsubscribe()
        await pubsub.aclose()


async def _timed_out(
    db: Database, tenant: UUID, request_id: UUID, command: contracts.UnlockCompartment, actor: Actor
) -> Outcome:
    detail = f"Inget svar från skåpet inom {command.timeout_s:g} s / no answer from the locker in time."
    async with db.tenant(tenant) as scope:
        row = await scope.connection.fetchrow(
            """UPDATE lockers_command SET outcome = 'timeout', detail = $3, completed_at = $4
               WHERE tenant_id = $1 AND request_id = $2 AND outcome IS NULL RETURNING compartment_id""",
            tenant,
            request_id,
            detail,
            utcnow(),
        )
        if row is not None:
            await audit.record(
                scope,
                actor=actor,
                action="lockers.open_timed_out",
                target_kind="locker_compartment",
                target_id=row["compartment_id"],
                details={"request_id": str(request_id)},
            )
    return await stored_outcome(db, tenant, request_id)  # a result that won the race stays the answer
