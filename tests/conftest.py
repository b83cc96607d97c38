"""Shared fixtures: real embedded PostgreSQL and Redis, migrated once per test session.

Fixtures always hold two municipalities (A and B) so isolation tests are cheap.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest

from backend.database import open_database
from backend.embedded import EmbeddedServers
from backend.migrate import migrate
from backend.settings import Settings
from tenants import accounts, provisioning
from tenants.access import Actor, Role
from tenants.database import Database

PASSWORD = "correct-horse-battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_port_run(count: int, tries: int = 50) -> int:
    """A port with the ``count - 1`` ports after it free as well (the demo's simulators listen on a
    base port and the next ones), so a test does not start on a neighbour that is taken."""
    for _ in range(tries):
        base = free_port()
        if base + count > 65535:
            continue
        sockets = [socket.socket() for _ in range(count)]
        try:
            for n, s in enumerate(sockets):
                s.bind(("127.0.0.1", base + n))
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError(f"no run of {count} free ports found")


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("samverka-data")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Iterator[Settings]:
    servers = EmbeddedServers(data_dir)
    database_url, redis_url = servers.start()
    base = Settings(data_dir=data_dir, database_url=database_url, redis_url=redis_url, environment="test",
                    port=free_port(), rate_limit_per_minute=100_000)
    asyncio.run(migrate(base))
    yield base
    servers.stop()


@pytest.fixture(scope="session")
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = open_database(settings)
    await database.start(max_size=5)
    yield database
    await database.close()


@pytest.fixture(scope="session")
async def owner(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """The owner role's connection, for looking at the catalogue (never for tenant data)."""
    assert settings.database_url
    conn = await asyncpg.connect(settings.database_url)
    yield conn
    await conn.close()


@dataclass(frozen=True)
class TenantFixture:
    id: uuid.UUID
    slug: str
    admin_email: str
    staff_email: str


@dataclass(frozen=True)
class World:
    federation_id: uuid.UUID
    a: TenantFixture
    b: TenantFixture
    federation_admin_email: str


async def make_world(db: Database) -> World:
    """A fresh federation with two municipalities, each with an admin and a staff user."""
    tag = uuid.uuid4().hex[:8]
    actor = Actor.system("test")
    async with db.shared() as scope:
        fed = await provisioning.ensure_federation(scope, slug=f"fed-{tag}", name=f"Förbund {tag}")
        fed_admin = f"fed-{tag}@test.example"
        await accounts.create_user(scope, email=fed_admin, name="Förbundsadmin", password=PASSWORD,
                                   federation_id=fed, is_federation_admin=True)
    tenants = []
    for letter in "ab":
        m = await provisioning.create_municipality(db, federation_id=fed, name=f"Kommun {letter.upper()} {tag}",
                                                   code="1494", slug=f"{letter}-{tag}", actor=actor)
        emails = {}
        async with db.tenant(m.id) as scope:
            for role, who in ((Role.TENANT_ADMIN, "admin"), (Role.STAFF, "staff")):
                email = f"{who}-{letter}-{tag}@test.example"
                user = await accounts.create_user(scope, email=email, name=f"{who} {letter}", password=PASSWORD,
                                                  federation_id=fed)
                await accounts.grant_membership(scope, user_id=user.id, role=role, actor=actor)
                emails[who] = email
        tenants.append(TenantFixture(m.id, m.slug, emails["admin"], emails["staff"]))
    return World(fed, tenants[0], tenants[1], fed_admin)


@pytest.fixture
async def world(db: Database) -> World:
    return await make_world(db)


@dataclass
class Server:
    url: str
    settings: Settings
    process: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"samverka serve exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("samverka serve did not come up in 60 s")


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[Server]:
    """``samverka serve`` and ``samverka worker`` as real processes on the test servers."""
    env = {**os.environ, **settings.child_environment(), "SAMVERKA_ENV": "test",
           "SAMVERKA_RATE_LIMIT_PER_MINUTE": str(settings.rate_limit_per_minute)}
    cli = [sys.executable, "-m", "backend.cli"]
    web = subprocess.Popen([*cli, "serve"], env=env)
    worker = subprocess.Popen([*cli, "worker", "--threads", "2"], env=env)
    url = f"http://{settings.host}:{settings.port}"
    try:
        _wait_until_up(url, web)
        yield Server(url, settings, web, worker)
    finally:
        for p in (web, worker):
            p.terminate()
        for p in (web, worker):
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


class GraphQLClient:
    """Posts GraphQL to the running server as one caller."""

    def __init__(self, url: str, token: str | None = None, tenant: str | None = None) -> None:
        self.url = url
        self.token = token
        self.tenant = tenant

    def headers(self) -> dict[str, str]:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.tenant:
            headers["X-Samverka-Tenant"] = self.tenant
        return headers

    async def post(self, query: str, variables: dict[str, object] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(f"{self.url}/graphql", json={"query": query, "variables": variables or {}},
                                     headers=self.headers())

    async def __call__(self, query: str, variables: dict[str, object] | None = None) -> dict[str, object]:
        response = await self.post(query, variables)
        body: dict[str, object] = response.json()
        return body


LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { __typename ... on LoginSuccess { token } ... on Error { code message } }
}"""


async def login(server: Server, email: str, tenant: str | None = None) -> GraphQLClient:
    body = await GraphQLClient(server.url)(LOGIN, {"email": email, "password": PASSWORD})
    token = body["data"]["login"]["token"]  # type: ignore[index]
    return GraphQLClient(server.url, token, tenant)
