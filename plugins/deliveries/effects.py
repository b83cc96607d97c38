"""What a delivery change leaves for after its transaction commits: live messages for the
``deliveryUpdates`` subscription, unlock commands for the gateway, and notifications to hand to
the job queue. Collected during the transaction, carried out after commit, so nothing is said
or sent about work that rolled back."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from redis.asyncio import Redis

from backend import plugin_api as api
from opcua_gateway import contracts
from plugins.lockers.commands import COMMANDS_MAXLEN

log = logging.getLogger(__name__)

TOPIC = "deliveries"

Dispatch = Callable[[UUID, list[UUID]], Awaitable[None]]


@dataclass
class Effects:
    tenant: UUID
    live: list[dict[str, Any]] = field(default_factory=list)
    commands: list[contracts.UnlockCompartment] = field(default_factory=list)
    notifications: list[UUID] = field(default_factory=list)

    def update(self, row: Any, kind: str, at: datetime, **extra: Any) -> None:
        self.live.append(
            {
                "kind": kind,
                "delivery_id": str(row["id"]),
                "integrator_id": str(row["integrator_id"]),
                "reference": row["reference"],
                "status": row["status"],
                "at": at.isoformat(),
                **{k: (str(v) if isinstance(v, UUID | datetime) else v) for k, v in extra.items()},
            }
        )

    def notified(self, notification_id: UUID | None) -> None:
        if notification_id is not None:
            self.notifications.append(notification_id)

    async def run(self, redis: Redis, dispatch: Dispatch | None) -> None:
        """Carry everything out; a failure is logged (the notification sweeper and the gateway's
        own timeout cover what a lost Redis write leaves undone)."""
        for command in self.commands:
            try:
                await redis.xadd(
                    contracts.commands_stream(command.endpoint_id),
                    {"m": contracts.encode(command)},
                    maxlen=COMMANDS_MAXLEN,
                    approximate=True,
                )
            except Exception:  # the command's row times out and is audited; the person tries again
                log.exception("deliveries: could not send unlock %s", command.request_id)
        if self.live:
            channel = api.live_channel(self.tenant, TOPIC)
            async with redis.pipeline(transaction=False) as pipe:
                for payload in self.live:
                    pipe.publish(channel, json.dumps(payload))
                await pipe.execute()
        if self.notifications and dispatch is not None:
            await dispatch(self.tenant, self.notifications)
