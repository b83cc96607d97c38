"""Apply every piccolo migration as the owner role."""

from __future__ import annotations

import os

from backend.settings import Settings


class MigrationFailed(RuntimeError):
    pass


async def migrate(settings: Settings) -> None:
    if not settings.database_url:
        raise MigrationFailed("No database: set SAMVERKA_DATABASE_URL (the owner role) or use `samverka up`.")
    os.environ["SAMVERKA_DATABASE_URL"] = settings.database_url
    os.environ["PICCOLO_CONF"] = "backend.piccolo_conf"
    os.environ["SAMVERKA_PLUGINS"] = settings.plugins
    from piccolo.apps.migrations.commands.forwards import run_forwards

    result = await run_forwards(app_name="all")
    if not result.success:
        raise MigrationFailed(f"Migrations failed: {result.message}")
