"""The kernel's actors. Each takes ids, runs under tenant transactions, and is safe to run twice."""

from __future__ import annotations

from uuid import UUID

from backend.jobs.runtime import Runtime
from backend.notifications import DELIVER_ACTOR, QUEUE, deliver, sweep_forever
from plugins.contract import ActorSpec, ConsumerSpec
from tenants import audit
from tenants.access import Actor
from tenants.accounts import get_user, own_memberships
from tenants.tables import AuditEntry


async def record_sign_in(rt: Runtime, user_id: str, session_id: str) -> None:
    """Log a sign-in in every municipality the user belongs to (GDPR: access is logged)."""
    uid = UUID(user_id)
    async with rt.db.shared() as scope:
        user = await get_user(scope, uid)
    for tenant_id in await own_memberships(rt.db, uid):
        async with rt.db.tenant(tenant_id) as scope:
            # Two deliveries of one message may run at once: serialise them per session and tenant.
            await scope.connection.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"sign_in:{tenant_id}:{session_id}"
            )
            done = await AuditEntry.exists().where(
                (AuditEntry.action == "user.signed_in") & (AuditEntry.target_id == session_id)
            )
            if not done:
                await audit.record(
                    scope,
                    actor=Actor("user", uid, user.email),
                    action="user.signed_in",
                    target_kind="session",
                    target_id=session_id,
                )


KERNEL_ACTORS: tuple[ActorSpec, ...] = (
    ActorSpec("kernel.record_sign_in", record_sign_in),
    # Retries after a send are the notification's own (backoff in the row); dramatiq's cover a crash.
    ActorSpec(DELIVER_ACTOR, deliver, queue=QUEUE, max_retries=3),
)
KERNEL_CONSUMERS: tuple[ConsumerSpec, ...] = (ConsumerSpec("kernel.notifications.sweeper", sweep_forever),)
