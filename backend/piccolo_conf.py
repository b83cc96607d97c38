"""Piccolo's configuration, imported by the migration runner only: the owner role's engine."""

import os

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

DB = PostgresEngine(config={"dsn": os.environ["SAMVERKA_DATABASE_URL"]}, extensions=())

APP_REGISTRY = AppRegistry(apps=["tenants.piccolo_app"])
