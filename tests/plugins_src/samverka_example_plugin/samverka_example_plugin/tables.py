"""The notice board's one table, tenant-owned."""

from piccolo.columns import UUID, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Notice(Table, tablename="notices_notice"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    text = Text()
    author_label = Varchar(length=320)
    created_at = Timestamptz(default=TimestamptzNow())
