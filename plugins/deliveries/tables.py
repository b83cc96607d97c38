"""Piccolo tables of the deliveries plugin (the columns follow migrations/deliveries/).

Piccolo needs a one-column primary key; the real keys are composite and led by ``tenant_id``.
The plugin writes with SQL (reservations, codes and the lifecycle need locks and ranges).
"""

from piccolo.columns import UUID, Boolean, DoublePrecision, Timestamptz, Varchar
from piccolo.table import Table


class Delivery(Table, tablename="deliveries_delivery"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    reference = Varchar(length=100)
    integrator_id = UUID()
    site_id = UUID()
    compartment_id = UUID()
    temperature_class = Varchar(length=16)
    size_class = Varchar(length=4)
    recipient_kind = Varchar(length=16)
    status = Varchar(length=24)
    window_start = Timestamptz()
    window_end = Timestamptz()
    dropped_off_at = Timestamptz(null=True, default=None)
    picked_up_at = Timestamptz(null=True, default=None)
    cold_min_c = DoublePrecision(null=True, default=None)
    cold_max_c = DoublePrecision(null=True, default=None)
    cold_seconds_above = DoublePrecision()
    cold_chain_broken = Boolean()


class Code(Table, tablename="deliveries_code"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    delivery_id = UUID()
    locker_id = UUID()
    purpose = Varchar(length=16)
    code_hash = Varchar(length=64)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)


TABLES: tuple[type[Table], ...] = (Delivery, Code)
