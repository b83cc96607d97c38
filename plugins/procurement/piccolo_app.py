"""Piccolo app of the procurement plugin: its tables and the folder of its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.procurement.tables import TABLES

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "procurement"

APP_CONFIG = AppConfig(
    app_name="procurement",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=list(TABLES),
    migration_dependencies=["tenants.piccolo_app"],
    commands=[],
)
