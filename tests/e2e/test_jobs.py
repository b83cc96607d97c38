"""Background jobs on the real dramatiq worker: sign-ins are logged, once, where the user belongs."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from backend.jobs.broker import make_broker
from backend.jobs.queue import JobQueue
from tenants import accounts
from tenants.access import Actor, Role
from tenants.database import Database
from tests.conftest import GraphQLClient, Server, World, login

SIGNED_IN = """{ auditLog(first: 100, action: "user.signed_in") {
  nodes { action actorKind actorId actorLabel targetKind targetId } } }"""
WAIT_S = 15.0

Entry = dict[str, Any]


@pytest.fixture
def jobs(server: Server) -> Iterator[JobQueue]:
    """The web's job queue, on the test servers' Redis: what the worker consumes."""
    assert server.settings.redis_url
    broker = make_broker(server.settings.redis_url)
    yield JobQueue(broker)
    broker.close()


async def sign_ins(admin: GraphQLClient) -> list[Entry]:
    body = await admin(SIGNED_IN)
    assert "errors" not in body, body
    return body["data"]["auditLog"]["nodes"]  # type: ignore[index,no-any-return]


async def wait_for(admin: GraphQLClient, wanted: Callable[[Entry], bool]) -> list[Entry]:
    """Poll the audit log until an entry ``wanted`` shows up (the worker is another process)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        found = [e for e in await sign_ins(admin) if wanted(e)]
        if found:
            return found
        assert time.monotonic() < deadline, f"no matching user.signed_in entry within {WAIT_S} s"
        await asyncio.sleep(0.2)


async def user_id(client: GraphQLClient) -> str:
    body = await client("{ me { user { id } } }")
    return str(body["data"]["me"]["user"]["id"])  # type: ignore[index]


async def drain(jobs: JobQueue) -> None:
    """Wait until the worker has finished every message on the queue (retries included)."""
    await asyncio.to_thread(jobs.broker.join, "default", timeout=int(WAIT_S * 1000))


async def test_a_sign_in_is_logged_by_the_worker_in_the_users_municipality(server: Server, world: World) -> None:
    staff = await login(server, world.a.staff_email)
    staff_id = await user_id(staff)
    admin_a = await login(server, world.a.admin_email)
    entries = await wait_for(admin_a, lambda e: e["actorLabel"] == world.a.staff_email)
    assert entries == [{"action": "user.signed_in", "actorKind": "user", "actorId": staff_id,
                        "actorLabel": world.a.staff_email, "targetKind": "session", "targetId": entries[0]["targetId"]}]
    uuid.UUID(entries[0]["targetId"])  # the session's id

    # B's log gets B's own sign-ins from the same worker, but not this one.
    admin_b = await login(server, world.b.admin_email)
    await wait_for(admin_b, lambda e: e["actorLabel"] == world.b.admin_email)
    assert [e for e in await sign_ins(admin_b) if e["actorLabel"] == world.a.staff_email] == []


async def test_a_user_with_roles_in_two_municipalities_has_the_sign_in_logged_in_both(
    server: Server, world: World, db: Database
) -> None:
    staff = await login(server, world.a.staff_email)
    admin_a = await login(server, world.a.admin_email)
    admin_b = await login(server, world.b.admin_email)
    first = await wait_for(admin_a, lambda e: e["actorLabel"] == world.a.staff_email)
    async with db.tenant(world.b.id) as scope:
        await accounts.grant_membership(scope, user_id=uuid.UUID(await user_id(staff)), role=Role.STAFF,
                                        actor=Actor.system("test"))
    await login(server, world.a.staff_email)
    in_b = await wait_for(admin_b, lambda e: e["actorLabel"] == world.a.staff_email)
    assert len(in_b) == 1 and in_b[0]["targetId"] != first[0]["targetId"]  # only the sign-in after the grant
    in_a = await wait_for(admin_a, lambda e: e["targetId"] == in_b[0]["targetId"])
    assert len(in_a) == 1


async def test_running_the_sign_in_job_twice_at_once_leaves_exactly_one_entry_per_session(
    server: Server, world: World, jobs: JobQueue
) -> None:
    # At-least-once delivery: the same message may be handled twice, even concurrently. Twenty
    # sessions, each enqueued twice back to back, make the two deliveries overlap in practice.
    admin = await login(server, world.a.admin_email)
    uid = await user_id(admin)
    sessions = [str(uuid.uuid4()) for _ in range(20)]
    for session_id in sessions:
        await jobs.enqueue("kernel.record_sign_in", uid, session_id)
        await jobs.enqueue("kernel.record_sign_in", uid, session_id)
    await drain(jobs)
    logged = [e["targetId"] for e in await sign_ins(admin)]
    assert {s: logged.count(s) for s in sessions} == dict.fromkeys(sessions, 1)


async def test_running_the_sign_in_job_again_later_adds_nothing(
    server: Server, world: World, jobs: JobQueue
) -> None:
    admin = await login(server, world.a.admin_email)
    uid, session_id = await user_id(admin), str(uuid.uuid4())
    await jobs.enqueue("kernel.record_sign_in", uid, session_id)
    await wait_for(admin, lambda e: e["targetId"] == session_id)
    await jobs.enqueue("kernel.record_sign_in", uid, session_id)
    await drain(jobs)
    assert [e["targetId"] for e in await sign_ins(admin)].count(session_id) == 1

