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
    # Notifications (docs/adr/0008-notifications.md). No SMTP URL: e-mail is logged, not sent.
    smtp_url: str | None = None
    mail_from: str = "Samverka <noreply@samverka.invalid>"
    notify_backoff_base_s: float = 10.0
    notify_backoff_cap_s: float = 3600.0
    notify_max_attempts: int = 8
    notify_sweep_interval_s: float = 30.0
    webhook_timeout_s: float = 10.0

    @property
    def development(self) -> bool:
        return self.environment == "development"

    @property
    def sandbox(self) -> bool:
        """Development and tests: webhooks may go to local plain-HTTP servers, and e-mail and SMS
        without a provider are logged as if sent (in production they fail, visibly)."""
        return self.environment in ("development", "test")

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
            smtp_url=get("SAMVERKA_SMTP_URL") or None,
            mail_from=get("SAMVERKA_MAIL_FROM") or "Samverka <noreply@samverka.invalid>",
            notify_backoff_base_s=float(get("SAMVERKA_NOTIFY_BACKOFF_BASE_S", "10")),
            notify_backoff_cap_s=float(get("SAMVERKA_NOTIFY_BACKOFF_CAP_S", "3600")),
            notify_max_attempts=int(get("SAMVERKA_NOTIFY_MAX_ATTEMPTS", "8")),
            notify_sweep_interval_s=float(get("SAMVERKA_NOTIFY_SWEEP_S", "30")),
            webhook_timeout_s=float(get("SAMVERKA_WEBHOOK_TIMEOUT_S", "10")),
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
        if self.smtp_url:
            env["SAMVERKA_SMTP_URL"] = self.smtp_url
        env["SAMVERKA_MAIL_FROM"] = self.mail_from
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
