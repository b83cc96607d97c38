"""``samverka worker``: a dramatiq worker in this process, stopped cleanly by SIGINT/SIGTERM."""

from __future__ import annotations

import functools
import logging
import signal
import threading
from collections.abc import Iterable
from typing import Any
from uuid import UUID

import dramatiq

from backend.jobs import runtime
from backend.jobs.actors import KERNEL_ACTORS, KERNEL_CONSUMERS
from backend.jobs.broker import make_broker
from backend.settings import Settings
from plugins.contract import ActorSpec
from plugins.registry import PluginRegistry
from plugins.state import enabled_ids

log = logging.getLogger(__name__)


async def _plugin_enabled(rt: runtime.Runtime, plugin_id: str, tenant_id: str) -> bool:
    async with rt.db.tenant(UUID(tenant_id)) as scope:
        return plugin_id in await enabled_ids(scope)


def register(broker: dramatiq.Broker, specs: Iterable[ActorSpec]) -> None:
    """Declare each actor; a plugin's actor skips tenants that have not enabled the plugin."""
    for spec in specs:

        async def run(*args: Any, _spec: ActorSpec = spec) -> Any:
            rt = runtime.current()
            if _spec.plugin_id and not await _plugin_enabled(rt, _spec.plugin_id, str(args[0])):
                log.info("skipping %s for tenant %s: plugin %s not enabled", _spec.name, args[0], _spec.plugin_id)
                return None
            return await _spec.fn(rt, *args)

        functools.update_wrapper(run, spec.fn)
        dramatiq.actor(actor_name=spec.name, queue_name=spec.queue, max_retries=spec.max_retries, broker=broker)(run)


def build_worker(settings: Settings, threads: int = 4) -> dramatiq.Worker:
    assert settings.redis_url
    registry = PluginRegistry.discover(settings.plugins)
    broker = make_broker(settings.redis_url)
    broker.add_middleware(runtime.DatabaseMiddleware(settings, registry, consumers=KERNEL_CONSUMERS))
    register(broker, [*KERNEL_ACTORS, *(a for p in registry for a in p.actors)])
    broker.emit_after("process_boot")
    return dramatiq.Worker(broker, worker_threads=threads)


def run_worker(settings: Settings, threads: int = 4) -> None:
    # The kernel's INFO too, so that e-mail and SMS logged instead of sent (no provider) show in the demo.
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("backend").setLevel(logging.INFO)
    worker = build_worker(settings, threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    plugin_consumers = (c for p in PluginRegistry.discover(settings.plugins) for c in p.consumers)
    consumers = sorted(c.name for c in (*KERNEL_CONSUMERS, *plugin_consumers))
    print(f"samverka worker: {threads} threads, queues {sorted(worker.broker.get_declared_queues())}, "
          f"consumers {consumers}", flush=True)
    stop.wait()
    worker.stop()
    worker.broker.close()
