"""Piccolo app of the kernel: its tables and the folder of its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from tenants.tables import KERNEL_TABLES

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations" / "tenants"

APP_CONFIG = AppConfig(
    app_name="tenants",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=list(KERNEL_TABLES),
    migration_dependencies=[],
    commands=[],
)
