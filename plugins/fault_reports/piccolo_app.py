"""Piccolo app of the fault reports plugin: its table and the folder of its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from plugins.fault_reports.tables import TABLES

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations" / "fault_reports"

APP_CONFIG = AppConfig(
    app_name="fault_reports",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=list(TABLES),
    migration_dependencies=["tenants.piccolo_app", "plugins.lockers.piccolo_app"],
    commands=[],
)
