"""Engines and the database handle of each process (built by its composition root)."""

from __future__ import annotations

from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.settings import Settings
from tenants.database import Database
from tenants.tables import KERNEL_TABLES


def make_engine(url: str) -> PostgresEngine:
    """Connects once at construction to check the server version (piccolo's design)."""
    return PostgresEngine(config={"dsn": url}, extensions=())


def all_tables() -> tuple[type[Table], ...]:
    return KERNEL_TABLES


def open_database(settings: Settings) -> Database:
    """The app role's database handle with every table bound to it (pool not yet started)."""
    db = Database(make_engine(settings.resolved_app_database_url()))
    db.bind(all_tables())
    return db
