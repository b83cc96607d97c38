"""The worker's loop that raises the gateway's timed faults (``gateway.sweep``: offline lockers,
repeated command failures) for every tenant that enabled the plugin, each in its own transaction,
then routes the tenant's new faults to their vendors (``routing.route_pending``, which also
re-checks, every few minutes, open faults that found no contract before)."""

from __future__ import annotations

import asyncio
import logging
import os

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.fault_reports import gateway, routing
from plugins.fault_reports.domain import PLUGIN_ID
from tenants.provisioning import all_municipalities

log = logging.getLogger(__name__)

EVERY_S = float(os.environ.get("SAMVERKA_FAULTS_SWEEP_S", "15"))


async def sweep_all(rt: api.Runtime) -> int:
    """One round over every tenant; returns how many faults were raised."""
    raised = 0
    for municipality in await all_municipalities(rt.db):
        async with rt.db.tenant(municipality.id) as scope:
            if not await api.plugin_enabled(scope, PLUGIN_ID):
                continue
            raised += await gateway.sweep(scope, utcnow())
        await routing.route_pending(rt.db, municipality.id, utcnow(), rt)  # after the tenant's transaction
    return raised


async def run(rt: api.Runtime) -> None:
    """The worker's consumer (``Plugin.consumers``)."""
    log.info("fault reports timers: every %.1f s", EVERY_S)
    try:
        while True:
            await sweep_all(rt)
            await asyncio.sleep(EVERY_S)
    except asyncio.CancelledError:
        log.info("fault reports timers: stopped")
        raise
