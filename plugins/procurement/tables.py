"""Piccolo tables of the procurement plugin (the columns follow migrations/procurement/).

Only registered so piccolo knows the app's tables; the plugin reads and writes with SQL (policies,
ranges and locks are PostgreSQL's). Piccolo needs a one-column primary key; the real keys are
composite and led by ``tenant_id`` or ``federation_id``.
"""

from piccolo.columns import UUID, Numeric, Timestamptz, Varchar
from piccolo.table import Table


class Procurement(Table, tablename="procurement"):
    id = UUID(primary_key=True)
    federation_id = UUID()
    ocid = Varchar(length=100)
    title = Varchar(length=300)
    status = Varchar(length=16)
    estimated_value_sek = Numeric(digits=(14, 2))
    tender_deadline = Timestamptz(null=True, default=None)


class Need(Table, tablename="procurement_need"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    category = Varchar(length=100)
    title = Varchar(length=300)
    status = Varchar(length=16)


TABLES: tuple[type[Table], ...] = (Procurement, Need)
