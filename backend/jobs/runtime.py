"""What async actors need, started on dramatiq's own event loop by a middleware.

asyncpg pools belong to the loop that made them, so the worker's pool is made
on the AsyncIO middleware's loop thread after the worker boots.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from redis.asyncio import Redis

from backend.database import open_database
from backend.jobs.queue import JobQueue
from backend.live import audit_publisher
from backend.settings import Settings
from plugins.contract import ConsumerSpec
from plugins.registry import PluginRegistry
from tenants.database import Database

log = logging.getLogger(__name__)

RESTART_PAUSE_S = 5.0
STOP_TIMEOUT_S = 10.0


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: Redis
    plugins: PluginRegistry
    consumers: list[asyncio.Task[None]] = field(default_factory=list)
    jobs: JobQueue | None = None  # the worker's own broker, for jobs that enqueue jobs


async def supervise(spec: ConsumerSpec, rt: Runtime) -> None:
    """Run a plugin's consumer until cancelled; log and restart it when it fails."""
    while True:
        try:
            await spec.fn(rt)
            log.warning("consumer %s returned; starting it again in %.0f s", spec.name, RESTART_PAUSE_S)
        except asyncio.CancelledError:
            raise
        except Exception:  # a consumer must outlive a broken message or a lost connection
            log.exception("consumer %s failed; starting it again in %.0f s", spec.name, RESTART_PAUSE_S)
        await asyncio.sleep(RESTART_PAUSE_S)


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the worker runtime is not started (DatabaseMiddleware missing?)")
    return _current


class DatabaseMiddleware(dramatiq.Middleware):
    """Opens the app role's pool on the worker's event loop; closes it on shutdown.

    ``consumers``: the kernel's own long-running tasks, started with the plugins' ones.
    """

    def __init__(self, settings: Settings, registry: PluginRegistry, consumers: Sequence[ConsumerSpec] = ()) -> None:
        self.settings = settings
        self.registry = registry
        self.kernel_consumers = tuple(consumers)

    def _consumer_specs(self) -> list[ConsumerSpec]:
        return [*self.kernel_consumers, *(c for p in self.registry for c in p.consumers)]

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Before the worker threads start, so no job runs without the pool (AsyncIO's loop runs by now)."""
        global _current
        loop_thread = get_event_loop_thread()
        assert loop_thread is not None, "add the AsyncIO middleware before DatabaseMiddleware"
        _current = loop_thread.run_coroutine(self._open(broker))

    async def _open(self, broker: dramatiq.Broker) -> Runtime:
        assert self.settings.redis_url
        db = open_database(self.settings, self.registry)
        await db.start(max_size=4 + len(self._consumer_specs()))  # one each for consumers
        redis = Redis.from_url(self.settings.redis_url)
        db.on_audit(audit_publisher(redis))
        return Runtime(self.settings, db, redis, self.registry, jobs=JobQueue(broker))

    def after_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Start the long-running consumers on the same loop (they share the pool)."""
        loop_thread = get_event_loop_thread()
        specs = self._consumer_specs()
        if _current is None or loop_thread is None or not specs:
            return
        rt = _current

        async def start() -> None:
            rt.consumers = [asyncio.create_task(supervise(spec, rt), name=spec.name) for spec in specs]

        loop_thread.run_coroutine(start())
        log.info("started consumers %s", [s.name for s in specs])

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Stop the consumers first; jobs still running keep the pool until they finish."""
        loop_thread = get_event_loop_thread()
        if _current is not None and loop_thread is not None:
            loop_thread.run_coroutine(_stop_consumers(_current))

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Once the worker threads have finished their jobs (and before AsyncIO stops the loop:
        ``emit_after`` runs middleware in reverse order), close the pool and Redis."""
        global _current
        loop_thread = get_event_loop_thread()
        if _current is not None and loop_thread is not None:
            loop_thread.run_coroutine(_current.db.close())
            loop_thread.run_coroutine(_current.redis.aclose())
        _current = None


async def _stop_consumers(rt: Runtime) -> None:
    for task in rt.consumers:
        task.cancel()
    if rt.consumers:
        await asyncio.wait(rt.consumers, timeout=STOP_TIMEOUT_S)
    rt.consumers = []
