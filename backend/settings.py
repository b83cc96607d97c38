"""Typed settings, read from the environment once by each process's composition root."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import msgspec

APP_ROLE = "samverka_app"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Where the servers are and how this process behaves.

    ``database_url`` connects as the owner role (migrations, provisioning of the
    app role); ``app_database_url`` connects as the non-owner role the app uses,
    which row-level security applies to. ``None`` URLs mean "use the embedded
    servers in ``data_dir``".
    """

    data_dir: Path
    database_url: str | None = None
    app_database_url: str | None = None
    redis_url: str | None = None
    environment: str = "production"
    host: str = "127.0.0.1"
    port: int = 8000
    session_ttl_hours: int = 12
    rate_limit_per_minute: int = 600
    pool_max_size: int = 10
    plugins: str = "all"

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def embedded(self) -> bool:
        return self.database_url is None or self.redis_url is None

    @property
    def public_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        get = env.get
        return cls(
            data_dir=Path(get("SAMVERKA_DATA_DIR", "data")).resolve(),
            database_url=get("SAMVERKA_DATABASE_URL") or None,
            app_database_url=get("SAMVERKA_APP_DATABASE_URL") or None,
            redis_url=get("SAMVERKA_REDIS_URL") or None,
            environment=get("SAMVERKA_ENV", "production"),
            host=get("SAMVERKA_HOST", "127.0.0.1"),
            port=int(get("SAMVERKA_PORT", "8000")),
            session_ttl_hours=int(get("SAMVERKA_SESSION_TTL_HOURS", "12")),
            rate_limit_per_minute=int(get("SAMVERKA_RATE_LIMIT_PER_MINUTE", "600")),
            pool_max_size=int(get("SAMVERKA_DB_POOL_MAX", "10")),
            plugins=get("SAMVERKA_PLUGINS", "all"),
        )

    def with_servers(self, database_url: str, redis_url: str) -> Settings:
        return msgspec.structs.replace(self, database_url=database_url, redis_url=redis_url)

    def resolved_app_database_url(self) -> str:
        """The app role's URL: explicit, or the owner URL with the app role's name swapped in."""
        if self.app_database_url:
            return self.app_database_url
        if not self.database_url:
            raise RuntimeError("No database configured: set SAMVERKA_DATABASE_URL or run `samverka up`.")
        password = os.environ.get("SAMVERKA_APP_DATABASE_PASSWORD", "")
        return swap_user(self.database_url, APP_ROLE, password)

    def child_environment(self) -> dict[str, str]:
        """Environment variables that make a child process use the same servers."""
        env = {
            "SAMVERKA_DATA_DIR": str(self.data_dir),
            "SAMVERKA_ENV": self.environment,
            "SAMVERKA_HOST": self.host,
            "SAMVERKA_PORT": str(self.port),
            "SAMVERKA_PLUGINS": self.plugins,
        }
        if self.database_url:
            env["SAMVERKA_DATABASE_URL"] = self.database_url
        if self.app_database_url:
            env["SAMVERKA_APP_DATABASE_URL"] = self.app_database_url
        if self.redis_url:
            env["SAMVERKA_REDIS_URL"] = self.redis_url
        return env


def swap_user(url: str, user: str, password: str = "") -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = quote(user) + (f":{quote(password)}" if password else "") + "@" + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
