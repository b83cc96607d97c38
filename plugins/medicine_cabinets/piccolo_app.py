"""Piccolo app of the medicine cabinets plugin: its tables and the folder of its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.medicine_cabinets.tables import TABLES

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "medicine_cabinets"

APP_CONFIG = AppConfig(
    app_name="medicine_cabinets",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=list(TABLES),
    migration_dependencies=["tenants.piccolo_app", "plugins.lockers.piccolo_app"],
    commands=[],
)
