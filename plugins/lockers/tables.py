"""Piccolo tables of the lockers plugin (the columns follow migrations/lockers/).

Piccolo needs a one-column primary key; the real keys are composite and led by ``tenant_id``.
Bulk ingest writes with SQL (``ingest_store``); these serve the simple reads and writes.
"""

from piccolo.columns import UUID, BigInt, Boolean, DoublePrecision, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Site(Table, tablename="lockers_site"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    name = Varchar(length=200)
    address = Varchar(length=500)
    latitude = DoublePrecision(null=True)
    longitude = DoublePrecision(null=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Endpoint(Table, tablename="lockers_endpoint"):
    id = Varchar(length=73, primary_key=True)
    tenant_id = UUID()
    name = Varchar(length=40)
    vendor = Varchar(length=40)
    url = Varchar(length=500)
    created_at = Timestamptz(default=TimestamptzNow())


class Locker(Table, tablename="lockers_locker"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    site_id = UUID()
    endpoint_id = Varchar(length=73)
    vendor_locker_id = Varchar(length=100)
    name = Varchar(length=200)
    connectivity = Varchar(length=16, null=True)
    device_health = Varchar(length=32, null=True)
    health_detail = Varchar(length=500)
    health_seq = BigInt(null=True)
    health_at = Timestamptz(null=True, default=None)
    last_seen = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Compartment(Table, tablename="lockers_compartment"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    locker_id = UUID()
    compartment_key = Varchar(length=40)
    temperature_class = Varchar(length=16)
    size_class = Varchar(length=4)
    door_open = Boolean(null=True, default=None)
    locked = Boolean(null=True, default=None)
    occupied = Boolean(null=True, default=None)
    status = Varchar(length=32, default="free")
    setpoint_c = DoublePrecision(null=True, default=None)
    state_seq = BigInt(null=True, default=None)
    state_at = Timestamptz(null=True, default=None)
    temperature_c = DoublePrecision(null=True, default=None)
    temperature_seq = BigInt(null=True, default=None)
    temperature_at = Timestamptz(null=True, default=None)
    door_opened_at = Timestamptz(null=True, default=None)
    excursion = Varchar(length=20, null=True, default=None)
    excursion_since = Timestamptz(null=True, default=None)
    connectivity = Varchar(length=16, null=True, default=None)
    device_health = Varchar(length=32, null=True, default=None)
    health_detail = Varchar(length=500)
    health_seq = BigInt(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Alarm(Table, tablename="lockers_alarm"):
    id = UUID(primary_key=True)
    tenant_id = UUID()
    alarm_key = Varchar(length=200)
    source = Varchar(length=16)
    kind = Varchar(length=32)
    severity = Varchar(length=16)
    message = Varchar(length=500)
    value = DoublePrecision(null=True, default=None)
    endpoint_id = Varchar(length=73, null=True, default=None)
    locker_id = UUID(null=True, default=None)
    compartment_id = UUID(null=True, default=None)
    condition_since = Timestamptz(null=True, default=None)
    raised_at = Timestamptz(null=True, default=None)
    cleared_at = Timestamptz(null=True, default=None)
    acknowledged_at = Timestamptz(null=True, default=None)
    acknowledged_by_kind = Varchar(length=16, null=True, default=None)
    acknowledged_by_id = UUID(null=True, default=None)
    acknowledged_by_label = Varchar(length=320, null=True, default=None)


class Command(Table, tablename="lockers_command"):
    request_id = UUID(primary_key=True)
    tenant_id = UUID()
    command = Varchar(length=16)
    endpoint_id = Varchar(length=73)
    compartment_id = UUID()
    requested_by_kind = Varchar(length=16)
    requested_by_id = UUID(null=True, default=None)
    requested_by_label = Varchar(length=320)
    requested_at = Timestamptz(default=TimestamptzNow())
    timeout_s = DoublePrecision()
    outcome = Varchar(length=16, null=True, default=None)
    detail = Varchar(length=1000)
    completed_at = Timestamptz(null=True, default=None)


class Event(Table, tablename="lockers_event"):
    event_id = Varchar(length=100, primary_key=True)
    tenant_id = UUID()
    kind = Varchar(length=16)
    endpoint_id = Varchar(length=73)
    locker_key = Varchar(length=100)
    compartment_key = Varchar(length=40, null=True, default=None)
    locker_id = UUID(null=True, default=None)
    compartment_id = UUID(null=True, default=None)
    seq = BigInt()
    at = Timestamptz()
    received_at = Timestamptz(default=TimestamptzNow())


TABLES: tuple[type[Table], ...] = (Site, Endpoint, Locker, Compartment, Alarm, Command, Event)
