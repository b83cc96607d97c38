"""Enqueue dramatiq jobs by actor name, after commit, without importing actor modules."""

from __future__ import annotations

import asyncio
from typing import Any

import dramatiq


class JobQueue:
    def __init__(self, broker: dramatiq.Broker) -> None:
        self.broker = broker

    async def enqueue(self, actor_name: str, *args: Any, queue: str = "default", delay_ms: int | None = None) -> str:
        """``delay_ms``: run no earlier than that many milliseconds from now (dramatiq's delay queue)."""
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=queue, actor_name=actor_name, args=args, kwargs={}, options={}
        )
        await asyncio.to_thread(self.broker.enqueue, message, delay=delay_ms)
        return str(message.message_id)
