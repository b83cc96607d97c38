"""What async actors need, started on dramatiq's own event loop by a middleware.

asyncpg pools belong to the loop that made them, so the worker's pool is made
on the AsyncIO middleware's loop thread after the worker boots.
"""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from redis.asyncio import Redis

from backend.database import open_database
from backend.live import audit_publisher
from backend.settings import Settings
from plugins.registry import PluginRegistry
from tenants.database import Database


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: Redis
    plugins: PluginRegistry


_current: Runtime | None = None


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("the worker runtime is not started (DatabaseMiddleware missing?)")
    return _current


class DatabaseMiddleware(dramatiq.Middleware):
    """Opens the app role's pool on the worker's event loop; closes it on shutdown."""

    def __init__(self, settings: Settings, registry: PluginRegistry) -> None:
        self.settings = settings
        self.registry = registry

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        """Before the worker threads start, so no job runs without the pool (AsyncIO's loop runs by now)."""
        global _current
        loop_thread = get_event_loop_thread()
        assert loop_thread is not None, "add the AsyncIO middleware before DatabaseMiddleware"
        _current = loop_thread.run_coroutine(self._open())

    async def _open(self) -> Runtime:
        assert self.settings.redis_url
        db = open_database(self.settings, self.registry)
        await db.start(max_size=4)
        redis = Redis.from_url(self.settings.redis_url)
        db.on_audit(audit_publisher(redis))
        return Runtime(self.settings, db, redis, self.registry)

    def before_worker_shutdown(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        global _current
        loop_thread = get_event_loop_thread()
        if _current is not None and loop_thread is not None:
            loop_thread.run_coroutine(_current.db.close())
            loop_thread.run_coroutine(_current.redis.aclose())
        _current = None
