"""Engines and the database handle of each process (built by its composition root)."""

from __future__ import annotations

import importlib

from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

from backend.settings import Settings
from plugins.registry import PluginRegistry
from tenants.database import Database
from tenants.tables import KERNEL_TABLES


def make_engine(url: str) -> PostgresEngine:
    """Connects once at construction to check the server version (piccolo's design)."""
    return PostgresEngine(config={"dsn": url}, extensions=())


def all_tables(registry: PluginRegistry) -> tuple[type[Table], ...]:
    plugin_tables = [
        table
        for module in registry.piccolo_apps()
        for table in importlib.import_module(module).APP_CONFIG.table_classes
    ]
    return (*KERNEL_TABLES, *plugin_tables)


def open_database(settings: Settings, registry: PluginRegistry | None = None) -> Database:
    """The app role's database handle with every table bound to it (pool not yet started)."""
    db = Database(make_engine(settings.resolved_app_database_url()))
    db.bind(all_tables(registry if registry is not None else PluginRegistry.discover(settings.plugins)))
    return db
