"""The worker's loops of the medicine cabinets. One logs doors left open: each ``door_ajar`` alarm
the lockers plugin raised (from its own timer or from the gateway) at a cabinet compartment becomes
one ``door_ajar`` entry, once (the entry's detail names the alarm). The other runs each tenant's
full check of the medication log when one is due (``log_checks.due``: requested, or the kept one a
day old) and keeps its verdict; a loop of its own, so a walk of years of log (seconds to minutes)
never holds up the door log."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from uuid import UUID

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.medicine_cabinets import chain, log, log_checks
from plugins.medicine_cabinets.config import PLUGIN_ID
from tenants.provisioning import all_municipalities

logger = logging.getLogger(__name__)

EVERY_S = float(os.environ.get("SAMVERKA_MEDICINE_CABINETS_SWEEP_S", "5"))

AJAR = """
SELECT a.id, a.compartment_id, a.raised_at, cab.id AS cabinet_id, cab.recipient_id
FROM lockers_alarm a
JOIN lockers_compartment c ON c.tenant_id = a.tenant_id AND c.id = a.compartment_id
JOIN medicine_cabinets_cabinet cab ON cab.tenant_id = c.tenant_id AND cab.locker_id = c.locker_id
WHERE a.tenant_id = $1 AND a.kind = 'door_ajar' AND a.raised_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM medicine_cabinets_log l
                  WHERE l.tenant_id = a.tenant_id AND l.kind = 'door_ajar' AND l.detail = 'alarm:' || a.id::text)
ORDER BY a.raised_at, a.id
"""


async def log_ajar_doors(scope: api.Scope) -> int:
    """Log this tenant's new door-ajar alarms at cabinets; how many."""
    rows = await scope.connection.fetch(AJAR, scope.tenant)
    for r in rows:
        await log.append(
            scope, kind="door_ajar", at=r["raised_at"], cabinet_id=r["cabinet_id"],
            compartment_id=r["compartment_id"], recipient_id=r["recipient_id"], detail=f"alarm:{r['id']}",
        )  # fmt: skip
    return len(rows)


async def check_if_due(scope: api.Scope) -> chain.Verdict | None:
    """The tenant's full check of the log if one is due (its verdict kept), else None."""
    source = await log_checks.due(scope, utcnow())
    return await log_checks.full(scope, source=source) if source else None


async def enabled(rt: api.Runtime) -> AsyncIterator[UUID]:
    """The municipalities where the plugin is enabled."""
    for municipality in await all_municipalities(rt.db):
        async with rt.db.tenant(municipality.id) as scope:
            on = await api.plugin_enabled(scope, PLUGIN_ID)
        if on:
            yield municipality.id


async def sweep_all(rt: api.Runtime) -> int:
    done = 0
    async for tenant in enabled(rt):
        async with rt.db.tenant(tenant) as scope:
            done += await log_ajar_doors(scope)
    return done


async def check_all(rt: api.Runtime) -> int:
    """Run every due full check of the log; how many ran."""
    ran = 0
    async for tenant in enabled(rt):
        async with rt.db.tenant(tenant) as scope:
            ran += await check_if_due(scope) is not None
    return ran


async def _every(rt: api.Runtime, name: str, sweep: Callable[[api.Runtime], Awaitable[int]]) -> None:
    logger.info("medicine cabinets %s: every %.1f s", name, EVERY_S)
    try:
        while True:
            await sweep(rt)
            await asyncio.sleep(EVERY_S)
    except asyncio.CancelledError:
        logger.info("medicine cabinets %s: stopped", name)
        raise


async def run(rt: api.Runtime) -> None:
    """The worker's consumer (``Plugin.consumers``) that logs doors left open."""
    await _every(rt, "timers", sweep_all)


async def run_checks(rt: api.Runtime) -> None:
    """The worker's consumer (``Plugin.consumers``) that runs the due full checks of the log."""
    await _every(rt, "log checks", check_all)
