"""Veckosammanfattning / Weekly digest: builds on the notice board (a plugin dependency)."""

import strawberry

from backend import plugin_api as api
from plugins.contract import Name, Plugin
from samverka_example_plugin import READ_SCOPE, READERS
from samverka_example_plugin.tables import Notice


@strawberry.type
class DigestQuery:
    @strawberry.field(description="How many notices this municipality has posted.")
    async def notice_digest(self, info: api.Info) -> str:
        tenant = api.require_access(info, roles=READERS, scope=READ_SCOPE)
        async with api.database(info).tenant(tenant):
            count = await Notice.count()
        return f"{count} anslag"


PLUGIN = Plugin(
    id="notices_digest",
    version="1.0.0",
    name=Name(sv="Veckosammanfattning", en="Weekly digest"),
    description=Name(sv="Sammanfattar anslagstavlan.", en="Summarises the notice board."),
    depends_on={"notices": ">=1.0,<2"},
    query=DigestQuery,
)
