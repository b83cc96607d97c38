"""The SQLite outbox: priorities, persisted seq, stable ids, durability across reopen."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from opcua_gateway.contracts import (
    EVENTS_STREAM,
    RESULTS_STREAM,
    AlarmKind,
    AlarmRaised,
    CommandResult,
    LockerEvent,
    Severity,
    Telemetry,
    decode_event,
    decode_result,
)
from opcua_gateway.outbox import Outbox, OutboxLocked

AT = datetime(2025, 11, 26, 8, 0, tzinfo=UTC)


def telemetry(compartment: str = "1", t: float = 4.0) -> Telemetry:
    return Telemetry(event_id="", seq=0, endpoint_id="e", locker="L", compartment=compartment, at=AT,
                     temperature_c=t)


def alarm(compartment: str = "1") -> AlarmRaised:
    return AlarmRaised(event_id="", seq=0, endpoint_id="e", locker="L", compartment=compartment, at=AT,
                       alarm_id="a1", alarm=AlarmKind.DOOR_AJAR, severity=Severity.WARNING, message="open")


async def drain(outbox: Outbox) -> list[LockerEvent]:
    out = []
    while (batch := await outbox.claim(3)) is not None:
        out += [decode_event(payload) for _, payload in batch.messages]
        await outbox.release(batch)
    return out


async def test_events_get_growing_seq_per_compartment_and_unique_ids(tmp_path: Path) -> None:
    outbox = await Outbox.open(tmp_path / "o.sqlite3")
    stored = await outbox.append([telemetry("1"), telemetry("2"), telemetry("1")])
    assert [(e.compartment, e.seq) for e in stored] == [("1", 1), ("2", 1), ("1", 2)]
    assert len({e.event_id for e in stored}) == 3 and all(e.event_id for e in stored)
    await outbox.close()


async def test_alarms_are_forwarded_before_earlier_telemetry(tmp_path: Path) -> None:
    outbox = await Outbox.open(tmp_path / "o.sqlite3")
    await outbox.append([telemetry(t=1.0), telemetry(t=2.0), telemetry(t=3.0), telemetry(t=4.0)])
    await outbox.append([alarm()])
    kinds = [type(e).__name__ for e in await drain(outbox)]
    assert kinds == ["AlarmRaised", "Telemetry", "Telemetry", "Telemetry", "Telemetry"]
    await outbox.close()


async def test_seq_and_unsent_events_survive_a_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = await Outbox.open(path)
    first = await outbox.append([telemetry(), telemetry()])
    await outbox.close()
    outbox = await Outbox.open(path)
    assert await outbox.pending() == 2
    later = await outbox.append([telemetry()])
    assert [e.seq for e in first + later] == [1, 2, 3]
    assert [e.event_id for e in await drain(outbox)] == [e.event_id for e in first + later]
    assert await outbox.pending() == 0
    await outbox.close()


async def test_a_batch_in_flight_when_the_gateway_died_is_resent_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = await Outbox.open(path)
    await outbox.append([telemetry(t=float(n)) for n in range(5)])
    in_flight = await outbox.claim(3)
    assert in_flight is not None
    await outbox.close()  # crashed before release
    outbox = await Outbox.open(path)
    await outbox.append([alarm()])  # even a priority event waits for the in-flight batch
    again = await outbox.claim(3)
    assert again == in_flight  # same key, same messages: the forwarder's dedupe key matches
    await outbox.release(again)
    rest = await drain(outbox)
    assert [type(e).__name__ for e in rest] == ["AlarmRaised", "Telemetry", "Telemetry"]
    await outbox.close()


async def test_results_go_to_the_results_stream_and_are_remembered(tmp_path: Path) -> None:
    outbox = await Outbox.open(tmp_path / "o.sqlite3")
    await outbox.append([telemetry()])
    result = CommandResult(request_id="r1", endpoint_id="e", outcome="confirmed", at=AT)
    await outbox.append_result(result)
    assert await outbox.answered("r1") and not await outbox.answered("r2")
    batch = await outbox.claim(10)
    assert batch is not None
    assert [stream for stream, _ in batch.messages] == [RESULTS_STREAM, EVENTS_STREAM]
    assert decode_result(batch.messages[0][1]) == result
    await outbox.close()


async def test_active_alarms_are_remembered_with_their_events(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    outbox = await Outbox.open(path)
    await outbox.append([alarm()], alarms=("e", {("L", "1", AlarmKind.DOOR_AJAR, ""): "a1"}))
    await outbox.close()
    outbox = await Outbox.open(path)
    assert await outbox.active_alarms("e") == [(("L", "1", AlarmKind.DOOR_AJAR, ""), "a1")]
    assert await outbox.active_alarms("other") == []
    await outbox.close()


async def test_two_gateways_cannot_share_one_outbox(tmp_path: Path) -> None:
    outbox = await Outbox.open(tmp_path / "o.sqlite3")
    with pytest.raises(OutboxLocked):
        await Outbox.open(tmp_path / "o.sqlite3")
    await outbox.close()
