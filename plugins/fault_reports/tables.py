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
    severity = Varchar(length=16, default="normal")
    source = Varchar(length=16, default="staff")
    ongoing_key = Varchar(length=200, null=True, default=None)
    vendor_id = UUID(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    started_at = Timestamptz(null=True, default=None)
    resolved_at = Timestamptz(null=True, default=None)
    rejected_at = Timestamptz(null=True, default=None)
    federation_id = UUID(null=True, default=None)
    contract_id = UUID(null=True, default=None)
    routed_at = Timestamptz(null=True, default=None)


class FaultTransition(Table, tablename="fault_transition"):
    """Append-only: the app may only insert and read."""

    id = UUID(primary_key=True)
    tenant_id = UUID()
    fault_id = UUID()
    from_status = Varchar(length=24, null=True, default=None)
    to_status = Varchar(length=24)
    at = Timestamptz()
    actor_kind = Varchar(length=16)
    actor_id = UUID(null=True, default=None)
    actor_label = Varchar(length=320)
    note = Text(default="")


TABLES: tuple[type[Table], ...] = (FaultReport, FaultTransition)
