"""The worker's loop that runs the deliveries' timers (``lifecycle.sweep``) for every tenant
that enabled the plugin, every few seconds; each tenant in its own transaction."""

from __future__ import annotations

import asyncio
import logging
import os
from uuid import UUID

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.deliveries import config, lifecycle
from tenants.provisioning import all_municipalities

log = logging.getLogger(__name__)

EVERY_S = float(os.environ.get("SAMVERKA_DELIVERIES_SWEEP_S", "5"))


async def sweep_all(rt: api.Runtime) -> int:
    """One round over every tenant; returns how many effects were carried out."""
    done = 0
    for municipality in await all_municipalities(rt.db):
        async with rt.db.tenant(municipality.id) as scope:
            if not await api.plugin_enabled(scope, config.PLUGIN_ID):
                continue
            effects = await lifecycle.sweep(scope, utcnow())
        await effects.run(rt.redis, lifecycle.dispatcher())
        done += len(effects.live)
    return done


async def run(rt: api.Runtime) -> None:
    """The worker's consumer (``Plugin.consumers``)."""
    log.info("deliveries timers: every %.1f s", EVERY_S)

    async def dispatch(tenant: UUID, ids: list[UUID]) -> None:
        await api.dispatch_after_commit(rt, tenant, ids)

    lifecycle.use_dispatch(dispatch)  # the ingest hook's notifications go out through this worker's queue
    try:
        while True:
            await sweep_all(rt)
            await asyncio.sleep(EVERY_S)
    except asyncio.CancelledError:
        log.info("deliveries timers: stopped")
        raise
