"""Piccolo's configuration, imported by the migration runner only: the owner role's engine."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ["SAMVERKA_DATABASE_URL"]}, extensions=())

from plugins.registry import PluginRegistry  # noqa: E402

APP_REGISTRY = AppRegistry(
    apps=["tenants.piccolo_app", *PluginRegistry.discover(os.environ.get("SAMVERKA_PLUGINS", "all")).piccolo_apps()]
)
