"""The gateway process: the composition root that wires outbox, endpoints, forwarder and
the command stream, and keeps each of them running on its own.

One endpoint failing (unreachable server, broken address space, even a bug in a code
path only one vendor reaches) never stops the others: every part runs under a
supervisor that logs the failure and restarts it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from opcua_gateway.command_stream import CommandStream
from opcua_gateway.config import Settings
from opcua_gateway.endpoint import EndpointRunner
from opcua_gateway.forwarder import Forwarder
from opcua_gateway.outbox import Outbox
from opcua_gateway.pki import Pki

log = logging.getLogger(__name__)
_RESTART_S = 5.0
_DRAIN_ON_STOP_S = 3.0


async def supervise(name: str, start: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run ``start()`` forever: when it returns or fails, log it and start it again."""
    while True:
        try:
            await start()
            log.warning("%s stopped; restarting", name)
        except asyncio.CancelledError:
            raise
        except Exception:  # the isolation boundary between endpoints: log, then restart
            log.exception("%s failed; restarting in %.0f s", name, _RESTART_S)
        await asyncio.sleep(_RESTART_S)


class Gateway:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.outbox: Outbox | None = None
        self.runners: dict[str, EndpointRunner] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set; then stop the endpoints, drain briefly and close."""
        settings = self.settings
        outbox = self.outbox = await Outbox.open(settings.outbox)
        try:
            pki = Pki(settings.pki_dir)
            await pki.ensure_own_certificate()
            self.runners = {ep.id: EndpointRunner(ep, settings, outbox, pki)
                            for ep in settings.endpoints if ep.config.enabled}
            endpoints = [asyncio.create_task(supervise(f"endpoint {eid}", runner.run), name=eid)
                         for eid, runner in self.runners.items()]
            forwarder = Forwarder(outbox, settings.redis_url)
            commands = CommandStream(self.runners, outbox, settings.redis_url, settings.config.instance)
            services = [asyncio.create_task(supervise("forwarder", forwarder.run)),
                        asyncio.create_task(supervise("commands", commands.run))]
            log.info("gateway running: %d endpoints, outbox %s", len(self.runners), settings.outbox)
            await stop.wait()
            log.info("gateway stopping")
            await _cancel(endpoints)
            await _drain(outbox, forwarder)
            await _cancel(services)
        finally:
            await outbox.close()


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _drain(outbox: Outbox, forwarder: Forwarder) -> None:
    """Give the forwarder a moment to send what the endpoints wrote last (e.g. offline health)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _DRAIN_ON_STOP_S
    while forwarder.connected and loop.time() < deadline:
        if not await outbox.pending():
            return
        await asyncio.sleep(0.1)  # the outbox's row count has no event to wait on
