"""Piccolo table of the fault reports plugin (the columns follow migrations/fault_reports/).

Piccolo needs a one-column primary key; the real key is (tenant_id, id). The plugin writes with SQL.
"""

from piccolo.columns import UUID, Bytea, Text, Timestamptz, Varchar
from piccolo.table import Table


class FaultReport(Table, tablename="fault_report"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    locker_id = UUID()
    compartment_id = UUID(null=True, default=None)
    category = Varchar(length=32)
    description = Text()
    photo = Bytea(null=True, default=None)
    photo_type = Varchar(length=32, null=True, default=None)
    reported_by_kind = Varchar(length=16)
    reported_by_id = UUID(null=True, default=None)
    reported_by = Varchar(length=320)
    reported_at = Timestamptz()
    status = Varchar(length=24)


TABLES: tuple[type[Table], ...] = (FaultReport,)
