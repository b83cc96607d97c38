"""Anslagstavla / Notice board: staff post short notices for their municipality.

A third-party plugin: it uses only ``plugins.contract``, ``backend.plugin_api``
and ``tenants``, and is found through its ``samverka.plugins`` entry point.
"""

import json
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated, Any
from uuid import uuid4

import msgspec
import strawberry
from litestar import get

from backend import plugin_api as api
from plugins.contract import ActorSpec, Name, Plugin, WebPage, secret
from samverka_example_plugin.tables import Notice as NoticeRow
from tenants import audit
from tenants.access import Actor, Role

WRITE_SCOPE = "notices:write"
READ_SCOPE = "notices:read"
READERS = frozenset({Role.TENANT_ADMIN, Role.STAFF})


class NoticesConfig(msgspec.Struct, forbid_unknown_fields=True):
    signature: Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="Signed under every notice.")]
    max_length: Annotated[int, msgspec.Meta(ge=10, le=2000, description="Longest notice, in characters.")] = 500
    webhook_secret: Annotated[str, secret("Shared secret for the notice webhook.")] = ""


@strawberry.type
class Notice:
    id: strawberry.ID
    text: str
    author_label: str
    created_at: datetime

    @classmethod
    def of(cls, row: dict[str, Any]) -> "Notice":
        return cls(id=strawberry.ID(str(row["id"])), text=row["text"], author_label=row["author_label"],
                   created_at=row["created_at"] if isinstance(row["created_at"], datetime)
                   else datetime.fromisoformat(row["created_at"]))


@strawberry.type
class NoticesQuery:
    @strawberry.field(description="Notices of this municipality, newest first.")
    async def notices(self, info: api.Info, first: int = 20) -> list[Notice]:
        tenant = api.require_access(info, roles=READERS, scope=READ_SCOPE)
        page = api.PageRequest(first=first)
        async with api.database(info).tenant(tenant):
            rows = await NoticeRow.select().order_by(NoticeRow.created_at, ascending=False).limit(page.first)
        return [Notice.of(r) for r in rows]


@strawberry.type
class NoticesMutation:
    @strawberry.mutation(description="Post a notice; it is signed with the configured signature.")
    @api.errors_as_data
    async def post_notice(self, info: api.Info, text: str) -> api.result_union("PostNoticeResult", Notice):
        tenant = api.require_access(info, roles=READERS, scope=WRITE_SCOPE)
        actor = info.context.principal.actor
        async with api.database(info).tenant(tenant) as scope:
            settings = await api.plugin_settings(scope, PLUGIN)
            if not text.strip() or len(text) > settings.max_length:
                raise api.ValidationFailed.on("text", f"Write 1 to {settings.max_length} characters.")
            row = NoticeRow(id=uuid4(), tenant_id=tenant, text=f"{text.strip()}\n— {settings.signature}",
                            author_label=actor.label)
            await NoticeRow.insert(row)
            await audit.record(scope, actor=actor, action="notices.posted", target_kind="notice", target_id=row.id)
            saved = await NoticeRow.select().where(NoticeRow.id == row.id).first()
        payload = json.dumps(saved, default=str)
        await api.publish(info, tenant, "notices", payload)
        await api.enqueue(info, "notices.tally", str(tenant))
        return Notice.of(saved)


@strawberry.type
class NoticesSubscription:
    @strawberry.subscription(description="Notices as they are posted in this municipality.")
    async def notice_posted(self, info: api.Info) -> AsyncGenerator[Notice, None]:
        async for payload in api.subscribe(info, "notices", "notices", roles=READERS, scope=READ_SCOPE):
            yield Notice.of(json.loads(payload))


async def tally(runtime: Any, tenant_id: str) -> None:
    """Count the tenant's notices into its audit log (a plugin job, run per tenant)."""
    from uuid import UUID

    async with runtime.db.tenant(UUID(tenant_id)) as scope:
        count = await NoticeRow.count()
        await audit.record(scope, actor=Actor.system("notices"), action="notices.tallied",
                           details={"count": count})


@get("/", sync_to_thread=False)
def board_page() -> str:
    return "Anslagstavla"


PLUGIN = Plugin(
    id="notices",
    version="1.0.0",
    name=Name(sv="Anslagstavla", en="Notice board"),
    description=Name(sv="Korta meddelanden till personalen.", en="Short notices for staff."),
    requires_core=">=0.1,<1",
    piccolo_app="samverka_example_plugin.piccolo_app",
    query=NoticesQuery,
    mutation=NoticesMutation,
    subscription=NoticesSubscription,
    types=(Notice,),
    pages=(WebPage(path="/", title=Name(sv="Anslagstavla", en="Notice board"), handler=board_page),),
    actors=(ActorSpec("notices.tally", tally, plugin_id="notices"),),
    config=NoticesConfig,
    scopes=frozenset({READ_SCOPE, WRITE_SCOPE}),
)
