"""The ingest consumer of the worker process: gateway events and command results from the
Redis streams into each tenant's tables.

Each batch is decoded, grouped by the tenant its endpoint id names, and stored in one
transaction per tenant (``ingest_store``); its entries are acknowledged only after commit, so a
crash re-delivers them and idempotent storage makes that harmless. Entries that can never be
stored (not the contract, an endpoint not registered in the tenant it names) go to the dead
letters; a tenant that has not enabled the plugin has its entries dropped with a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

import asyncpg
import msgspec
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from backend import plugin_api as api
from backend.lib import utcnow
from opcua_gateway import contracts
from plugins.lockers import alarms, config, domain, ingest_store, live
from plugins.lockers.hooks import AfterCommit, Subscriber, subscribers
from plugins.lockers.streams import Entry, StreamGroup, Streams, consumer_name
from tenants.database import Database
from tenants.provisioning import all_municipalities

log = logging.getLogger(__name__)

# Errors after which the same work may well succeed later: leave the entries pending.
TRANSIENT_DB = (
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,
)
STORE_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError)  # the database refused the work
TRANSIENT = (*TRANSIENT_DB, asyncpg.InterfaceError, OSError, RedisConnectionError, RedisTimeoutError)


def transient(exc: BaseException) -> bool:
    """asyncpg's client-side DataError is an InterfaceError too, but the data's own fault."""
    return isinstance(exc, TRANSIENT) and not isinstance(exc, ValueError)


@dataclass(frozen=True)
class Tuning:
    batch: int = 500  # entries per stream and read
    block_ms: int = 1000
    claim_every_s: float = 5.0
    claim_idle_ms: int = 30_000  # pending this long: its consumer is taken for dead
    max_deliveries: int = 5  # delivered this often without being acknowledged: a dead letter
    sweep_every_s: float = 2.0  # alarm timers of tenants with open doors or excursions
    rescan_every_s: float = 60.0  # alarm timers of every tenant (after a restart, or another worker's)
    forget_consumers_after_ms: int = 3_600_000


@dataclass
class _Work:
    events: list[tuple[contracts.LockerEvent, str]] = field(default_factory=list)
    event_entries: list[Entry] = field(default_factory=list)
    results: list[contracts.CommandResult] = field(default_factory=list)
    result_entries: list[Entry] = field(default_factory=list)
    duplicates: list[Entry] = field(default_factory=list)

    @property
    def entries(self) -> list[Entry]:
        return [*self.event_entries, *self.result_entries, *self.duplicates]


class Ingest:
    def __init__(
        self,
        db: Database,
        redis: Redis,
        *,
        streams: Streams | None = None,
        tuning: Tuning | None = None,
        consumer: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        hooks: Sequence[Subscriber] = (),
    ) -> None:
        self.db = db
        self.hooks = tuple(hooks)
        self.redis = redis
        self.tuning = tuning or Tuning()
        self.group = StreamGroup(redis, streams or Streams(), consumer or consumer_name())
        self.clock = clock
        self.watch: set[UUID] = set()  # tenants whose alarm timers run
        self._next = {"claim": 0.0, "sweep": 0.0, "rescan": 0.0}

    async def run(self) -> None:
        await self.group.create()
        log.info("lockers ingest: consumer %s reading %s", self.group.consumer, self.group.names)
        while True:
            await self.step(self.tuning.block_ms)

    async def step(self, block_ms: int | None) -> int:
        """Re-claim (when due), read and store one batch, run alarm timers (when due)."""
        handled = 0
        if self._due("claim", self.tuning.claim_every_s):
            handled += await self.claim()
        entries = await self.group.read(self.tuning.batch, block_ms)
        if entries:
            await self.process(entries)
            handled += len(entries)
        if self._due("sweep", self.tuning.sweep_every_s):
            await self.sweep(everyone=self._due("rescan", self.tuning.rescan_every_s))
        return handled

    async def drain(self) -> int:
        """Store everything waiting now, without blocking (tests, tools)."""
        total = 0
        while handled := await self.step(None):
            total += handled
        return total

    def _due(self, what: str, every_s: float) -> bool:
        now = time.monotonic()
        if now < self._next[what]:
            return False
        self._next[what] = now + every_s
        return True

    async def claim(self) -> int:
        """Re-claim entries a dead consumer left pending. Claiming counts a delivery, so nothing is
        claimed while the database is unreachable: an outage must not turn good events into dead letters."""
        if not await self._database_reachable():
            return 0
        again, poison = await self.group.claim(self.tuning.batch, self.tuning.claim_idle_ms, self.tuning.max_deliveries)
        await self.group.dead_letter([(e, f"not stored after {self.tuning.max_deliveries} deliveries") for e in poison])
        if again:
            log.info("lockers ingest: re-claimed %d pending entries", len(again))
            try:
                await self.process(again)
            except Exception as exc:  # re-raised unless it is the entries' own fault
                if transient(exc):
                    raise
                await self._park(again)
        await self.group.trim()
        await self.group.forget_idle_consumers(self.tuning.forget_consumers_after_ms)
        return len(again) + len(poison)

    async def _database_reachable(self) -> bool:
        try:
            async with self.db.shared() as scope:
                await scope.connection.fetchval("SELECT 1")
        except Exception as exc:  # only the outage kinds are swallowed; anything else is a bug
            if not transient(exc):
                raise
            log.warning("lockers ingest: database unreachable (%r); not re-claiming pending entries now", exc)
            return False
        return True

    async def _park(self, entries: Sequence[Entry]) -> None:
        """Re-delivered entries failed together again: store them one by one, and put aside
        (dead letters) each one that still fails, so one bad entry holds back no other."""
        for entry in entries:
            try:
                await self.process([entry])
            except Exception as exc:  # logged with its trace and parked, never dropped
                if transient(exc):
                    raise
                log.exception("lockers ingest: %s %s fails every time", entry.stream, entry.id)
                await self.group.dead_letter([(entry, f"failed again after re-delivery: {exc!r}")])

    async def process(self, entries: Sequence[Entry]) -> None:
        work, dead = self._decode(entries)
        await self.group.dead_letter(dead)
        for tenant, share in work.items():
            await self._tenant(tenant, share)

    def _decode(self, entries: Sequence[Entry]) -> tuple[dict[UUID, _Work], list[tuple[Entry, str]]]:
        work: dict[UUID, _Work] = {}
        dead: list[tuple[Entry, str]] = []
        seen: set[tuple[UUID, str]] = set()
        for entry in entries:
            if entry.data is None:
                dead.append((entry, "the entry has no field 'm'"))
                continue
            try:
                raw = entry.data.decode()
                message: contracts.LockerEvent | contracts.CommandResult = (
                    contracts.decode_event(raw)
                    if entry.stream == self.group.streams.events
                    else contracts.decode_result(raw)
                )
            except (contracts.ContractError, msgspec.DecodeError, UnicodeDecodeError) as exc:
                dead.append((entry, f"not a contract message: {exc}"))
                continue
            tenant = domain.tenant_of(message.endpoint_id)
            problem = None if isinstance(message, contracts.CommandResult) else domain.problem_with(message)
            if tenant is None or problem:
                dead.append((entry, problem or f"'{message.endpoint_id}' is not an endpoint id"))
                continue
            share = work.setdefault(tenant, _Work())
            if isinstance(message, contracts.CommandResult):
                share.results.append(message)
                share.result_entries.append(entry)
            elif (tenant, message.event_id) in seen:
                share.duplicates.append(entry)
            else:
                seen.add((tenant, message.event_id))
                share.events.append((message, raw))
                share.event_entries.append(entry)
        return work, dead

    async def _tenant(self, tenant: UUID, work: _Work) -> None:
        try:
            stored = await self._store(tenant, work.events, work.results)
        except STORE_ERRORS as exc:
            if transient(exc):
                raise
            log.warning("lockers ingest: a batch of tenant %s failed (%s); storing it entry by entry", tenant, exc)
            await self._one_by_one(tenant, work)
            return
        if stored is None:
            log.info("lockers ingest: tenant %s has not enabled lockers; dropped %d entries", tenant, len(work.entries))
            await self.group.ack(work.entries)
            return
        rejected = {id(work.event_entries[i]) for i in stored.rejected_events}
        rejected |= {id(work.result_entries[i]) for i in stored.rejected_results}
        await self.group.dead_letter(
            [(e, f"endpoint not registered in tenant {tenant}") for e in work.entries if id(e) in rejected]
        )
        await self.group.ack([e for e in work.entries if id(e) not in rejected])
        await self._after_commit(tenant, stored.live, stored.results, stored.timers_running, stored.after)

    async def _one_by_one(self, tenant: UUID, work: _Work) -> None:
        """Isolate the entry that cannot be stored, so it does not hold back the rest."""
        singles: list[tuple[list[tuple[contracts.LockerEvent, str]], list[contracts.CommandResult], Entry]]
        singles = [([ev], [], entry) for ev, entry in zip(work.events, work.event_entries, strict=True)]
        singles += [([], [r], entry) for r, entry in zip(work.results, work.result_entries, strict=True)]
        for events, results, entry in singles:
            try:
                stored = await self._store(tenant, events, results)
            except STORE_ERRORS as exc:
                if transient(exc):
                    raise
                await self.group.dead_letter([(entry, f"cannot be stored: {exc}")])
                continue
            if stored is not None and (stored.rejected_events or stored.rejected_results):
                await self.group.dead_letter([(entry, f"endpoint not registered in tenant {tenant}")])
                continue
            await self.group.ack([entry])
            if stored is not None:
                await self._after_commit(tenant, stored.live, stored.results, stored.timers_running, stored.after)
        await self.group.ack(work.duplicates)

    async def _store(
        self,
        tenant: UUID,
        events: Sequence[tuple[contracts.LockerEvent, str]],
        results: Sequence[contracts.CommandResult],
    ) -> ingest_store.Stored | None:
        async with self.db.tenant(tenant) as scope:
            if not await api.plugin_enabled(scope, config.PLUGIN_ID):
                return None
            settings = await config.load(scope)
            now = self.clock()
            stored = await ingest_store.store(scope, events, results, settings, now)
            if stored.new and self.hooks:
                for hook in self.hooks:
                    if await api.plugin_enabled(scope, hook.plugin_id):
                        stored.after.extend(await hook.fn(scope, stored.new, now))
            return stored

    async def _after_commit(
        self,
        tenant: UUID,
        payloads: list[dict[str, object]],
        results: list[UUID],
        timers_running: bool,
        after: Sequence[AfterCommit] = (),
    ) -> None:
        (self.watch.add if timers_running else self.watch.discard)(tenant)
        await live.publish(self.redis, tenant, payloads)
        for request_id in results:
            await self.redis.publish(live.command_channel(tenant, request_id), b"1")
        for step in after:
            try:
                await step(self.redis)
            except Exception:  # committed work stays committed; the hook's own sweeps retry what matters
                log.exception("lockers ingest: an after-commit step of tenant %s failed", tenant)

    async def sweep(self, *, everyone: bool = False) -> None:
        """Run the alarm timers: a door left open or a temperature outside its band raises an
        alarm once its limit has passed, even when no event arrives."""
        tenants = [m.id for m in await all_municipalities(self.db)] if everyone else sorted(self.watch)
        for tenant in tenants:
            now = self.clock()
            async with self.db.tenant(tenant) as scope:
                if not await api.plugin_enabled(scope, config.PLUGIN_ID):
                    self.watch.discard(tenant)
                    continue
                changes = await alarms.evaluate(scope, await config.load(scope), now)
            payloads = [live.backend_payload("alarm_raised", now, r) for r in changes.raised]
            payloads += [live.backend_payload("alarm_cleared", now, r) for r in changes.cleared]
            await self._after_commit(tenant, payloads, [], changes.timers_running)


async def consume(rt: api.Runtime) -> None:
    """The worker's consumer (``Plugin.consumers``)."""
    try:
        await Ingest(rt.db, rt.redis, hooks=subscribers(rt.plugins)).run()
    except asyncio.CancelledError:
        log.info("lockers ingest: stopped")
        raise
