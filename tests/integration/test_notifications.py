"""Notifications reach people and integrators through real servers, are retried, and are never lost.

A real ``samverka worker`` runs on the test servers with fast backoff, its own Redis database (so
the e2e server's worker never takes these jobs) and no plugins; e-mail goes to an aiosmtpd server
and webhooks to a small HTTP server in this process.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiosmtpd.controller import Controller

from backend.jobs.broker import make_broker
from backend.jobs.queue import JobQueue
from backend.lib import NotFound, ValidationFailed
from backend.notifications import (
    Channel,
    NotificationRecord,
    Outcome,
    Status,
    check_url,
    delete_federation_endpoint,
    deliver_one,
    dispatch_after_commit,
    federation_webhook,
    get_endpoint,
    get_federation_endpoint,
    get_notification,
    log_for,
    notify,
    rotate_federation_secret,
    set_endpoint,
    set_federation_endpoint,
    verify_signature,
    webhook,
)
from backend.settings import Settings
from tenants.access import Actor
from tenants.database import Database
from tests.conftest import World, free_port, make_world

BASE_S, CAP_S, MAX_ATTEMPTS, SWEEP_S, TIMEOUT_S = 0.2, 0.8, 4, 0.5, 0.4
WAIT_S = 20.0
SYSTEM = Actor.system("test")
T = TypeVar("T")


# --- servers the worker talks to -------------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps every message; refuses recipients at nobody.example with 550."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.endswith("@nobody.example"):
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted"

    def with_subject(self, subject: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["Subject"] == subject]


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Hooks:
    """A minimal HTTP/1.1 server. Each path answers from its script of statuses, the last one
    repeating; "slow" answers after the worker's timeout."""

    port: int = 0
    hits: list[Hit] = field(default_factory=list)
    scripts: dict[str, list[str]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            self.hits.append(Hit(path, headers, body, time.monotonic()))
            script = self.scripts.get(path, ["200"])
            action = script.pop(0) if len(script) > 1 else script[0]
            if action == "slow":
                await asyncio.sleep(TIMEOUT_S * 3)
                action = "200"
            writer.write(f"HTTP/1.1 {action} Answer\r\nContent-Length: 6\r\nConnection: close\r\n\r\nanswer".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the worker gave up waiting
        finally:
            writer.close()


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler, port = Mailbox(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
async def hooks() -> AsyncIterator[Hooks]:
    state = Hooks()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    yield state
    server.close()


@pytest.fixture(scope="module")
def fast(settings: Settings, mailbox: tuple[Mailbox, int]) -> Settings:
    """The test servers with this module's own Redis database and fast retries."""
    assert settings.redis_url
    return Settings(
        **{
            **{f: getattr(settings, f) for f in settings.__struct_fields__},
            "redis_url": f"{settings.redis_url}?db=7",
            "smtp_url": f"smtp://127.0.0.1:{mailbox[1]}?starttls=off&timeout=5",
            "mail_from": "Samverka Test <noreply@samverka.test>",
            "notify_backoff_base_s": BASE_S,
            "notify_backoff_cap_s": CAP_S,
            "notify_max_attempts": MAX_ATTEMPTS,
            "notify_sweep_interval_s": SWEEP_S,
            "webhook_timeout_s": TIMEOUT_S,
            "plugins": "none",
        }
    )


@dataclass
class Worker:
    jobs: JobQueue
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def worker(fast: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Worker]:
    """``samverka worker`` as a real process; its log (stdout and stderr) in a file."""
    log = tmp_path_factory.mktemp("notifications") / "worker.log"
    env = {
        **os.environ,
        **fast.child_environment(),
        "SAMVERKA_ENV": "test",
        "SAMVERKA_PLUGINS": "none",
        "SAMVERKA_NOTIFY_BACKOFF_BASE_S": str(BASE_S),
        "SAMVERKA_NOTIFY_BACKOFF_CAP_S": str(CAP_S),
        "SAMVERKA_NOTIFY_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
        "SAMVERKA_NOTIFY_SWEEP_S": str(SWEEP_S),
        "SAMVERKA_WEBHOOK_TIMEOUT_S": str(TIMEOUT_S),
        "dramatiq_worker_timeout": "100",  # hand out delayed messages within 0.1 s of their time
    }
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "backend.cli", "worker", "--threads", "2"], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    assert fast.redis_url
    broker = make_broker(fast.redis_url)
    try:
        deadline = time.monotonic() + 60
        while "samverka worker:" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the worker did not start in 60 s"
            time.sleep(0.1)
        yield Worker(JobQueue(broker), log)
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        broker.close()


@pytest.fixture(scope="module")
async def world(db: Database) -> World:
    return await make_world(db)


# --- helpers -------------------------------------------------------------------------------------


async def eventually(probe: Callable[[], Awaitable[T | None]], what: str, within_s: float = WAIT_S) -> T:
    deadline = time.monotonic() + within_s
    while True:
        found = await probe()
        if found is not None and found is not False:
            return found
        assert time.monotonic() < deadline, f"{what} did not happen within {within_s} s"
        await asyncio.sleep(0.05)


async def finished(db: Database, tenant: uuid.UUID, notification_id: uuid.UUID) -> NotificationRecord:
    """The notification once it is sent or failed (with its attempts)."""

    async def probe() -> NotificationRecord | None:
        async with db.tenant(tenant) as scope:
            n = await get_notification(scope, notification_id)
        return n if n is not None and n.status is not Status.PENDING else None

    return await eventually(probe, f"notification {notification_id} finishing")


async def an_email(db: Database, worker: Worker, tenant: uuid.UUID, to: str, subject: str, body: str) -> uuid.UUID:
    async with db.tenant(tenant) as scope:
        nid = await notify(scope, channel="email", to=to, subject=subject, body=body, topic="tests.hello",
                           subject_kind="test_case", subject_id=uuid.uuid4())
        await dispatch_after_commit(worker.jobs, scope, [nid])
    return nid


async def an_endpoint(db: Database, tenant: uuid.UUID, url: str) -> tuple[uuid.UUID, str]:
    owner = uuid.uuid4()
    async with db.tenant(tenant) as scope:
        issued = await set_endpoint(scope, owner_id=owner, url=url, allow_local=True, actor=SYSTEM)
    assert issued.secret
    return owner, issued.secret


async def a_webhook(db: Database, worker: Worker, tenant: uuid.UUID, owner: uuid.UUID, **payload: Any) -> uuid.UUID:
    async with db.tenant(tenant) as scope:
        nid = await webhook(scope, owner_id=owner, event="tests.happened", payload=payload, subject_kind="test_case",
                            subject_id=uuid.uuid4())
        assert nid is not None
        await dispatch_after_commit(worker.jobs, scope, [nid])
    return nid


# --- e-mail and SMS ------------------------------------------------------------------------------


async def test_an_email_arrives_at_the_smtp_server_with_its_subject_and_body(
    db: Database, world: World, worker: Worker, mailbox: tuple[Mailbox, int]
) -> None:
    subject = f"Ditt paket har kommit {uuid.uuid4().hex[:6]}"
    nid = await an_email(db, worker, world.a.id, "mottagare@test.example", subject, "Hämta det i skåp 3.\nKod: 1234")
    n = await finished(db, world.a.id, nid)
    assert (n.status, n.attempt_count, [a.outcome for a in n.attempts]) == (Status.SENT, 1, [Outcome.OK])
    assert n.attempts[0].status_code == 250 and n.sent_at is not None
    [message] = mailbox[0].with_subject(subject)
    assert message["To"] == "mottagare@test.example"
    assert message["From"] == "Samverka Test <noreply@samverka.test>"
    assert message["Message-ID"] == f"<{nid}@samverka.test>"
    assert message.get_content().replace("\r\n", "\n").strip() == "Hämta det i skåp 3.\nKod: 1234"  # CRLF on the wire


async def test_the_same_email_enqueued_three_times_at_once_is_sent_once(
    db: Database, world: World, worker: Worker, mailbox: tuple[Mailbox, int]
) -> None:
    subject = f"En gång {uuid.uuid4().hex[:6]}"
    nid = await an_email(db, worker, world.a.id, "en@test.example", subject, "Bara en gång.")
    await dispatch_after_commit(worker.jobs, world.a.id, [nid, nid])
    n = await finished(db, world.a.id, nid)
    await asyncio.sleep(0.5)  # time for the duplicates to be handled (and skipped)
    assert len(mailbox[0].with_subject(subject)) == 1
    async with db.tenant(world.a.id) as scope:
        again = await get_notification(scope, nid)
    assert again is not None and again.attempt_count == n.attempt_count == 1


async def test_an_address_the_smtp_server_refuses_fails_at_once_with_its_reply_code(
    db: Database, world: World, worker: Worker
) -> None:
    nid = await an_email(db, worker, world.a.id, "ingen@nobody.example", "Till ingen", "Text")
    n = await finished(db, world.a.id, nid)
    assert (n.status, n.attempt_count) == (Status.FAILED, 1)  # 5xx: retrying cannot help
    assert n.attempts[0].status_code == 550 and "No such mailbox" in n.last_error


async def test_an_sms_is_written_to_the_worker_log_while_no_sms_gateway_is_configured(
    db: Database, world: World, worker: Worker
) -> None:
    async with db.tenant(world.a.id) as scope:
        nid = await notify(scope, channel="sms", to="070-123 45 67", subject="Upphämtningskod",
                           body="Din kod är 4711.", topic="tests.pickup_code", subject_kind="test_case",
                           subject_id=uuid.uuid4())
        await dispatch_after_commit(worker.jobs, scope, [nid])
    n = await finished(db, world.a.id, nid)
    assert (n.status, n.channel, n.recipient) == (Status.SENT, Channel.SMS, "0701234567")
    assert f"SMS {nid} to 0701234567 (logged, not sent):\nDin kod är 4711." in worker.output()


# --- webhooks ------------------------------------------------------------------------------------


async def test_a_webhook_arrives_signed_and_a_tampered_body_does_not_verify(
    db: Database, world: World, worker: Worker, hooks: Hooks
) -> None:
    owner, secret = await an_endpoint(db, world.a.id, hooks.url("/signed"))
    nid = await a_webhook(db, worker, world.a.id, owner, reference="ABC-1", status="delivered")
    assert (await finished(db, world.a.id, nid)).status is Status.SENT
    [hit] = hooks.at("/signed")
    h = hit.headers
    assert (h["x-samverka-event"], h["x-samverka-delivery"]) == ("tests.happened", str(nid))
    assert h["x-samverka-signature"].startswith("sha256=")
    assert verify_signature(secret, h["x-samverka-timestamp"], hit.body, h["x-samverka-signature"])
    body = json.loads(hit.body)
    assert (body["id"], body["event"], body["data"]) == (str(nid), "tests.happened",
                                                         {"reference": "ABC-1", "status": "delivered"})
    assert body["municipality_id"] == str(world.a.id)

    tampered = hit.body.replace(b"delivered", b"destroyed")
    assert not verify_signature(secret, h["x-samverka-timestamp"], tampered, h["x-samverka-signature"])
    assert not verify_signature("whsec_other", h["x-samverka-timestamp"], hit.body, h["x-samverka-signature"])
    stale = int(h["x-samverka-timestamp"]) + 3600
    assert not verify_signature(secret, h["x-samverka-timestamp"], hit.body, h["x-samverka-signature"], now=stale)


async def test_an_endpoint_that_fails_twice_gets_the_webhook_on_the_third_try_after_growing_waits(
    db: Database, world: World, worker: Worker, hooks: Hooks
) -> None:
    hooks.scripts["/flaky"] = ["500", "500", "200"]
    owner, _ = await an_endpoint(db, world.a.id, hooks.url("/flaky"))
    nid = await a_webhook(db, worker, world.a.id, owner, n=1)
    n = await finished(db, world.a.id, nid)
    assert (n.status, n.attempt_count) == (Status.SENT, 3)
    assert [(a.attempt, a.outcome, a.status_code) for a in n.attempts] == [
        (1, Outcome.ERROR, 500), (2, Outcome.ERROR, 500), (3, Outcome.OK, 200)]
    first, second = (n.attempts[i + 1].at - n.attempts[i].at for i in range(2))
    assert BASE_S <= first.total_seconds() < second.total_seconds(), (first, second)
    hits = hooks.at("/flaky")
    assert len(hits) == 3 and {h.headers["x-samverka-delivery"] for h in hits} == {str(nid)}

    # Once sent, another delivery of the message sends nothing.
    await dispatch_after_commit(worker.jobs, world.a.id, [nid])
    await asyncio.sleep(0.5)
    assert len(hooks.at("/flaky")) == 3


async def test_an_endpoint_that_never_answers_in_time_fails_after_the_last_attempt(
    db: Database, world: World, worker: Worker, hooks: Hooks
) -> None:
    hooks.scripts["/slow"] = ["slow"]
    owner, _ = await an_endpoint(db, world.a.id, hooks.url("/slow"))
    nid = await a_webhook(db, worker, world.a.id, owner, n=2)
    n = await finished(db, world.a.id, nid)
    assert (n.status, n.attempt_count) == (Status.FAILED, MAX_ATTEMPTS)
    assert [a.outcome for a in n.attempts] == [Outcome.TIMEOUT] * MAX_ATTEMPTS
    assert all(a.duration_ms >= TIMEOUT_S * 1000 * 0.9 for a in n.attempts)
    assert "no answer within" in n.last_error and n.sent_at is None


async def test_a_webhook_for_an_integrator_without_an_endpoint_is_not_queued(db: Database, world: World) -> None:
    async with db.tenant(world.a.id) as scope:
        assert await webhook(scope, owner_id=uuid.uuid4(), event="tests.happened", payload={},
                             subject_kind="test_case", subject_id=uuid.uuid4()) is None


# --- webhooks to a federation-level organisation (a procurement vendor) ------------------------------


async def a_vendor_endpoint(db: Database, federation: uuid.UUID, url: str) -> tuple[uuid.UUID, str]:
    owner = uuid.uuid4()
    async with db.federation(federation) as scope:
        issued = await set_federation_endpoint(scope, owner_id=owner, url=url, allow_local=True, actor=SYSTEM)
    assert issued.secret and issued.endpoint.federation_id == federation and issued.endpoint.tenant_id is None
    return owner, issued.secret


async def a_vendor_webhook(db: Database, worker: Worker, tenant: uuid.UUID, owner: uuid.UUID, **data: Any) -> uuid.UUID:
    async with db.tenant(tenant) as scope:
        nid = await federation_webhook(scope, owner_id=owner, event="tests.vendor", payload=data,
                                       subject_kind="test_case", subject_id=uuid.uuid4())
        assert nid is not None, "the organisation has an active endpoint"
        await dispatch_after_commit(worker.jobs, scope, [nid])
    return nid


async def test_a_vendor_endpoint_is_kept_in_its_federation_audited_there_and_its_secret_shown_once(
    db: Database, world: World
) -> None:
    owner, secret = await a_vendor_endpoint(db, world.federation_id, "http://127.0.0.1:9/vendor")
    async with db.federation(world.federation_id) as scope:
        again = await set_federation_endpoint(scope, owner_id=owner, url="http://127.0.0.1:9/moved", allow_local=True,
                                              actor=SYSTEM)
        found = await get_federation_endpoint(scope, owner)
        stored = await scope.connection.fetchrow("SELECT * FROM federation_webhook_endpoint WHERE owner_id = $1", owner)
        log = await scope.connection.fetch(
            "SELECT action, target_id FROM federation_audit_log WHERE target_id = $1 ORDER BY id", str(stored["id"]))
    assert again.secret is None and found is not None and found.url == "http://127.0.0.1:9/moved"
    assert stored["secret"] == secret and stored["federation_id"] == world.federation_id
    assert [r["action"] for r in log] == ["webhook.endpoint_set", "webhook.endpoint_set"]
    other = await make_world(db)
    async with db.federation(other.federation_id) as scope:  # another federation sees nothing, changes nothing
        assert await get_federation_endpoint(scope, owner) is None
        assert await scope.connection.fetchval("SELECT count(*) FROM federation_webhook_endpoint") == 0
        with pytest.raises(NotFound):
            await rotate_federation_secret(scope, owner_id=owner, actor=SYSTEM)
    async with db.tenant(world.a.id) as scope:  # nor does a municipality's transaction
        assert await scope.connection.fetchval("SELECT count(*) FROM federation_webhook_endpoint") == 0


async def test_a_bad_vendor_url_is_refused_with_a_typed_error_and_changes_nothing(db: Database, world: World) -> None:
    owner, _ = await a_vendor_endpoint(db, world.federation_id, "http://127.0.0.1:9/kept")
    async with db.federation(world.federation_id) as scope:
        before = await scope.connection.fetchval("SELECT count(*) FROM federation_audit_log")
        for url in ("ftp://hooks.example.com/x", "https://10.1.2.3/x", ""):
            with pytest.raises(ValidationFailed) as refused:
                await set_federation_endpoint(scope, owner_id=owner, url=url, allow_local=False, actor=SYSTEM)
            assert [f.field for f in refused.value.fields] == ["url"]
        with pytest.raises(ValidationFailed):
            await set_federation_endpoint(scope, owner_id=uuid.uuid4(), url="file:///x", allow_local=True, actor=SYSTEM)
    async with db.federation(world.federation_id) as scope:
        assert await scope.connection.fetchval("SELECT count(*) FROM federation_audit_log") == before
        found = await get_federation_endpoint(scope, owner)
        assert found is not None and found.url == "http://127.0.0.1:9/kept"


async def test_a_municipality_sends_a_signed_webhook_to_its_federations_vendor_and_none_after_deletion(
    db: Database, world: World, worker: Worker, hooks: Hooks
) -> None:
    owner, secret = await a_vendor_endpoint(db, world.federation_id, hooks.url("/vendor"))
    nid = await a_vendor_webhook(db, worker, world.a.id, owner, fault="F-1", status="reported")
    n = await finished(db, world.a.id, nid)
    assert (n.status, n.channel, n.recipient, n.federation_id) == (Status.SENT, Channel.WEBHOOK, str(owner),
                                                                   world.federation_id)
    assert [(a.outcome, a.status_code) for a in n.attempts] == [(Outcome.OK, 200)]
    [hit] = hooks.at("/vendor")
    h = hit.headers
    assert (h["x-samverka-event"], h["x-samverka-delivery"]) == ("tests.vendor", str(nid))
    assert verify_signature(secret, h["x-samverka-timestamp"], hit.body, h["x-samverka-signature"])
    body = json.loads(hit.body)
    assert (body["municipality_id"], body["data"]) == (str(world.a.id), {"fault": "F-1", "status": "reported"})
    async with db.tenant(world.b.id) as scope:  # the row is the municipality's own
        assert await get_notification(scope, nid) is None

    async with db.tenant(world.a.id) as scope:  # queued while the endpoint is there ...
        queued = await federation_webhook(scope, owner_id=owner, event="tests.vendor", payload={"fault": "F-2"},
                                          subject_kind="test_case", subject_id=uuid.uuid4())
    assert queued is not None
    async with db.federation(world.federation_id) as scope:
        await delete_federation_endpoint(scope, owner_id=owner, actor=SYSTEM)
    await dispatch_after_commit(worker.jobs, world.a.id, [queued])  # ... and sent after it was deleted
    gone = await finished(db, world.a.id, queued)
    assert (gone.status, gone.attempt_count) == (Status.FAILED, 1)  # for good, at once
    assert "no webhook endpoint" in gone.last_error and len(hooks.at("/vendor")) == 1
    async with db.tenant(world.a.id) as scope:  # nothing is queued for an organisation without an endpoint
        for someone in (owner, uuid.uuid4()):
            assert await federation_webhook(scope, owner_id=someone, event="tests.vendor", payload={},
                                            subject_kind="test_case", subject_id=uuid.uuid4()) is None


# --- nothing lost, nothing sent by mistake -------------------------------------------------------


async def test_a_notification_whose_job_was_lost_is_sent_by_the_sweeper(
    db: Database, world: World, worker: Worker, mailbox: tuple[Mailbox, int]
) -> None:
    subject = f"Borttappad {uuid.uuid4().hex[:6]}"
    async with db.tenant(world.b.id) as scope:  # committed, but never dispatched (Redis was down)
        nid = await notify(scope, channel="email", to="b@test.example", subject=subject, body="Ändå framme.",
                           topic="tests.hello", subject_kind="test_case", subject_id=uuid.uuid4())
    assert (await finished(db, world.b.id, nid)).status is Status.SENT
    assert len(mailbox[0].with_subject(subject)) == 1


async def test_a_notification_in_a_rolled_back_transaction_is_never_sent(
    db: Database, world: World, worker: Worker, mailbox: tuple[Mailbox, int]
) -> None:
    subject = f"Ångrad {uuid.uuid4().hex[:6]}"

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.tenant(world.a.id) as scope:
            nid = await notify(scope, channel="email", to="a@test.example", subject=subject, body="Nej.",
                               topic="tests.hello", subject_kind="test_case", subject_id=uuid.uuid4())
            await dispatch_after_commit(worker.jobs, scope, [nid])
            raise Undo
    await dispatch_after_commit(worker.jobs, world.a.id, [nid])  # even a job enqueued by mistake finds nothing
    await asyncio.sleep(SWEEP_S * 4)
    assert mailbox[0].with_subject(subject) == []
    async with db.tenant(world.a.id) as scope:
        assert await get_notification(scope, nid) is None


async def test_a_municipality_never_sees_or_sends_another_ones_notifications_or_endpoint(
    db: Database, world: World, fast: Settings
) -> None:
    about = uuid.uuid4()
    owner, _ = await an_endpoint(db, world.b.id, "http://127.0.0.1:9/b")
    async with db.tenant(world.b.id) as scope:
        nid = await notify(scope, channel="sms", to="+46701234567", subject="B", body="Till B.", topic="tests.b",
                           subject_kind="test_case", subject_id=about)
    async with db.tenant(world.a.id) as scope:
        assert await get_notification(scope, nid) is None
        assert await log_for(scope, "test_case", about) == []
        assert await get_endpoint(scope, owner) is None
        assert await webhook(scope, owner_id=owner, event="tests.b", payload={}, subject_kind="test_case",
                             subject_id=about) is None
        counts = [await scope.connection.fetchval(f"SELECT count(*) FROM {t} WHERE tenant_id = $1", world.b.id)
                  for t in ("notification", "notification_attempt", "webhook_endpoint")]
    assert counts == [0, 0, 0]
    # A job naming A with B's notification id finds nothing to send.
    assert await deliver_one(db, None, fast, world.a.id, nid) is None
    async with db.tenant(world.b.id) as scope:
        assert [n.id for n in await log_for(scope, "test_case", about)] == [nid]


# --- rules without I/O ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://hooks.example.com/x", "https://127.0.0.1/x", "https://10.1.2.3/x", "https://localhost:8443/x",
     "https://[::1]/x", "https://169.254.169.254/latest", "ftp://hooks.example.com/x", "https://u:p@hooks.example.com/",
     "hooks.example.com/x", "https://hooks.example.com/x#frag", "https://hooks.example.com:99999/",
     "https://2130706433/x", "https://0x7f000001/x", "https://127.1/x", "https://metadata.internal/x"],
)
def test_production_refuses_webhook_urls_that_are_not_public_https(url: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_url(url, allow_local=False)
    assert [f.field for f in refused.value.fields] == ["url"]


def test_development_allows_plain_http_to_a_local_server_but_not_other_schemes() -> None:
    assert check_url(" http://127.0.0.1:8080/hook ", allow_local=True) == "http://127.0.0.1:8080/hook"
    assert check_url("https://hooks.example.com/x?a=1", allow_local=False) == "https://hooks.example.com/x?a=1"
    with pytest.raises(ValidationFailed):
        check_url("file:///etc/passwd", allow_local=True)


async def test_notify_refuses_bad_recipients_and_header_breaking_subjects(db: Database, world: World) -> None:
    async with db.tenant(world.a.id) as scope:
        cases: list[tuple[str, dict[str, Any]]] = [
            ("to", {"channel": "email", "to": "not an address"}),
            ("to", {"channel": "sms", "to": "ring mig"}),
            ("subject", {"channel": "email", "to": "a@test.example", "subject": "Hej\r\nBcc: x@evil.example"}),
            ("topic", {"channel": "email", "to": "a@test.example", "topic": "Not A Topic"}),
        ]
        for wrong, given in cases:
            args: dict[str, Any] = {"subject": "Hej", "body": "Text", "topic": "tests.hello",
                                    "subject_kind": "test_case", "subject_id": uuid.uuid4(), **given}
            with pytest.raises(ValidationFailed) as refused:
                await notify(scope, **args)
            assert wrong in [f.field for f in refused.value.fields]
