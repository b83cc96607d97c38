"""The ``lockers.events`` extension point: other plugins (deliveries, medicine cabinets) see
each newly stored locker event inside the ingest's own tenant transaction.

A hook is ``async fn(scope, events, now) -> Sequence[AfterCommit]``: it runs after the batch's
events, state and samples are stored (so it reads the compartments' new state), its writes
commit or roll back together with the batch, and duplicates never reach it (idempotent ingest
filters them first). What must wait for the commit (a command to the gateway, a live message,
a job) it returns as ``AfterCommit`` callables, which the ingest awaits after commit. A hook
that raises fails the batch like any storage error: the entries are retried, then isolated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from redis.asyncio import Redis

from backend import plugin_api as api
from opcua_gateway.contracts import LockerEvent
from plugins.contract import Plugin

HOOK = "lockers.events"


@dataclass(frozen=True)
class PlacedEvent:
    """A new event with the locker and compartment it was stored against (None: unknown here)."""

    event: LockerEvent
    locker_id: UUID | None
    compartment_id: UUID | None


AfterCommit = Callable[[Redis], Awaitable[None]]
EventHook = Callable[[api.Scope, Sequence[PlacedEvent], datetime], Awaitable[Sequence[AfterCommit]]]


@dataclass(frozen=True)
class Subscriber:
    plugin_id: str
    fn: EventHook


def subscribers(plugins: Iterable[Plugin]) -> tuple[Subscriber, ...]:
    """The plugins in this process that hook into stored locker events."""
    return tuple(Subscriber(p.id, p.hooks[HOOK]) for p in plugins if HOOK in p.hooks)
