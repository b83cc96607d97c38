"""Piccolo tables of the medicine cabinets plugin (columns follow migrations/medicine_cabinets/).

The plugin writes with SQL; these exist for piccolo's app registry.
"""

from piccolo.columns import UUID, Varchar
from piccolo.table import Table


class CareRecipient(Table, tablename="medicine_cabinets_recipient"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    reference = Varchar(length=64)


class Cabinet(Table, tablename="medicine_cabinets_cabinet"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    locker_id = UUID()
    recipient_id = UUID()


TABLES: tuple[type[Table], ...] = (CareRecipient, Cabinet)
