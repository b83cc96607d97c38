"""The worker's loop that logs doors left open at medicine cabinets: each ``door_ajar`` alarm the
lockers plugin raised (from its own timer or from the gateway) at a cabinet compartment becomes
one ``door_ajar`` entry, once (the entry's detail names the alarm). It also runs each tenant's full
check of the log when one is due (``log_checks.due``: requested, or the kept one a day old), in a
transaction of its own, and keeps its verdict."""

from __future__ import annotations

import asyncio
import logging
import os

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


async def sweep_all(rt: api.Runtime) -> int:
    done = 0
    for municipality in await all_municipalities(rt.db):
        async with rt.db.tenant(municipality.id) as scope:
            if not await api.plugin_enabled(scope, PLUGIN_ID):
                continue
            done += await log_ajar_doors(scope)
        async with rt.db.tenant(municipality.id) as scope:
            await check_if_due(scope)
    return done


async def run(rt: api.Runtime) -> None:
    """The worker's consumer (``Plugin.consumers``)."""
    logger.info("medicine cabinets timers: every %.1f s", EVERY_S)
    try:
        while True:
            await sweep_all(rt)
            await asyncio.sleep(EVERY_S)
    except asyncio.CancelledError:
        logger.info("medicine cabinets timers: stopped")
        raise
