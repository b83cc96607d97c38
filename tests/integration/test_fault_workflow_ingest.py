"""Gateway faults through the real ingest (the ``lockers.events`` hook in the ingest's own
transaction): a sensor giving Bad values raises one fault however often it repeats, and a locker
the gateway reports offline gets its fault from the sweep once past the tenant's limit."""

from __future__ import annotations

import uuid
from datetime import timedelta

from redis.asyncio import Redis

from backend.lib import utcnow
from opcua_gateway.contracts import AlarmKind, AlarmRaised, Connectivity, Severity
from plugins.fault_reports import gateway
from plugins.fault_reports.plugin import PLUGIN
from plugins.lockers.hooks import subscribers
from plugins.lockers.ingest import Ingest
from tenants.database import Database
from tests.conftest import World
from tests.integration.test_fault_reports import installed
from tests.integration.test_fault_workflow import faults
from tests.integration.test_lockers_ingest import QUIET, Streams, health, own_streams, push, redis  # noqa: F401


def bad_sensor(endpoint: str, seq: int) -> AlarmRaised:
    return AlarmRaised(
        event_id=uuid.uuid4().hex,
        endpoint_id=endpoint,
        locker="L1",
        compartment="1",
        seq=seq,
        at=utcnow(),
        alarm_id=f"bad-{seq}",
        alarm=AlarmKind.SENSOR_FAULT,
        severity=Severity.WARNING,
        message="Bad quality",
    )


async def test_the_ingest_raises_gateway_faults_once_and_the_sweep_the_offline_one(
    db: Database,
    world: World,
    redis: Redis,  # noqa: F811
) -> None:
    where = await installed(db, world.a.id)
    streams: Streams = own_streams()
    ingest = Ingest(db, redis, streams=streams, tuning=QUIET, consumer="test", hooks=subscribers([PLUGIN]))
    await ingest.group.create()
    await push(redis, streams.events, [bad_sensor(where.endpoint_id, 1), bad_sensor(where.endpoint_id, 2)])
    await ingest.drain()
    await push(
        redis, streams.events, [bad_sensor(where.endpoint_id, 3), health(where.endpoint_id, 4, Connectivity.OFFLINE)]
    )
    await ingest.drain()
    [sensor] = await faults(db, where)
    assert (sensor["source"], sensor["severity"], sensor["compartment_id"]) == (
        "gateway",
        "high",
        where.compartments["1"],
    )
    async with db.tenant(where.tenant) as scope:
        assert await scope.connection.fetchval("SELECT connectivity FROM lockers_locker") == "offline"
        assert await gateway.sweep(scope, utcnow()) == 0  # not yet past 30 minutes
        assert await gateway.sweep(scope, utcnow() + timedelta(minutes=31)) == 1
    assert sorted(f["ongoing_key"].split(":")[0] for f in await faults(db, where)) == ["offline", "sensor"]
