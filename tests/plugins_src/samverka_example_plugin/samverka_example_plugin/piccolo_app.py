from pathlib import Path

from piccolo.conf.apps import AppConfig

from samverka_example_plugin.tables import Notice

APP_CONFIG = AppConfig(
    app_name="notices",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[Notice],
    migration_dependencies=[],
    commands=[],
)
