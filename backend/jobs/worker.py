"""``samverka worker``: a dramatiq worker in this process, stopped cleanly by SIGINT/SIGTERM."""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Iterable
from typing import Any

import dramatiq

from backend.jobs import runtime
from backend.jobs.actors import KERNEL_ACTORS, ActorSpec
from backend.jobs.broker import make_broker
from backend.settings import Settings


def register(broker: dramatiq.Broker, specs: Iterable[ActorSpec]) -> None:
    for spec in specs:

        async def run(*args: Any, _spec: ActorSpec = spec) -> Any:
            return await _spec.fn(runtime.current(), *args)

        functools.update_wrapper(run, spec.fn)
        dramatiq.actor(run, actor_name=spec.name, queue_name=spec.queue, max_retries=spec.max_retries,
                       broker=broker)


def build_worker(settings: Settings, threads: int = 4) -> dramatiq.Worker:
    assert settings.redis_url
    broker = make_broker(settings.redis_url)
    broker.add_middleware(runtime.DatabaseMiddleware(settings))
    register(broker, KERNEL_ACTORS)
    broker.emit_after("process_boot")
    return dramatiq.Worker(broker, worker_threads=threads)


def run_worker(settings: Settings, threads: int = 4) -> None:
    worker = build_worker(settings, threads)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    worker.start()
    print(f"samverka worker: {threads} threads, queues {sorted(worker.broker.get_declared_queues())}", flush=True)
    stop.wait()
    worker.stop()
    worker.broker.close()
