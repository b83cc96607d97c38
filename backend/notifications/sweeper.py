"""Nothing is lost: find pending notifications whose send is overdue and enqueue them again.

A message goes missing when Redis is down at commit time, when a worker dies mid-send (its
transaction rolls back, the row stays pending), or when a caller never dispatched. The sweeper
runs in every worker; an extra message is harmless, since delivery skips rows that are locked,
finished or not yet due. It reads each municipality in its own RLS transaction.
"""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import TYPE_CHECKING

from backend.notifications.outbox import enqueue_deliveries
from tenants.database import Database

if TYPE_CHECKING:
    from backend.jobs.queue import JobQueue
    from backend.jobs.runtime import Runtime

log = logging.getLogger(__name__)

BATCH = 500
OVERDUE = """
SELECT id FROM notification
WHERE tenant_id = $1 AND status = 'pending' AND next_attempt_at <= clock_timestamp() - make_interval(secs => $2)
ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED
"""


async def sweep_once(db: Database, jobs: JobQueue | None, *, grace_s: float, limit: int = BATCH) -> int:
    """Enqueue pending notifications overdue by more than ``grace_s``; how many it found.

    Rows being sent right now are locked and skipped.
    """
    async with db.shared() as scope:
        tenants = [r["id"] for r in await scope.connection.fetch("SELECT id FROM municipality ORDER BY id")]
    found = 0
    for tenant_id in tenants:
        async with db.tenant(tenant_id) as scope:
            ids = [r["id"] for r in await scope.connection.fetch(OVERDUE, tenant_id, grace_s, limit)]
            if ids:
                scope.on_commit(partial(enqueue_deliveries, jobs, tenant_id, ids))
        found += len(ids)
    return found


async def sweep_forever(rt: Runtime) -> None:
    """The worker's consumer ``kernel.notifications.sweeper``: one sweep per interval."""
    interval = rt.settings.notify_sweep_interval_s
    while True:
        found = await sweep_once(rt.db, rt.jobs, grace_s=interval)
        if found:
            log.info("sweeper: enqueued %d overdue notifications again", found)
        await asyncio.sleep(interval)
