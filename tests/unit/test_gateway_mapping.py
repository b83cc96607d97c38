"""Vendor payloads as the transport recorded them map to canonical values, without a network.

Each payload is (profile field, value as read, StatusCode name, quality), copied from
what asyncua delivered for the three vendors' address spaces.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from opcua_gateway.config import AlarmPolicy
from opcua_gateway.contracts import (
    AlarmKind,
    AlarmRaised,
    Connectivity,
    DeviceHealth,
    HealthChanged,
    SizeClass,
    SlotStatus,
    StateChanged,
    Telemetry,
    TemperatureClass,
)
from opcua_gateway.mapping import CompartmentModel, ProblemKind, Reading, changed_fields, convert, to_vendor
from opcua_gateway.model import Binding, EndpointModel
from opcua_gateway.profile_loader import load_profile

KYLBOX = load_profile("kylbox")
FROSTLOGIK = load_profile("frostlogik")
NORDLAS = load_profile("nordlas")
AT = datetime(2025, 11, 26, 8, 0, tzinfo=UTC)

# (field, value, status, quality) -> expected canonical value
KYLBOX_RECORDED: list[tuple[str, Any, str, str, Any]] = [
    ("door_open", True, "Good", "good", True),
    ("locked", False, "Good", "good", False),
    ("temperature_c", 4.25, "Good", "good", 4.25),
    ("setpoint_c", 4.0, "Good", "good", 4.0),
    ("temperature_class", "frozen", "Good", "good", TemperatureClass.FROZEN),
    ("size_class", "XL", "Good", "good", SizeClass.XL),
    ("temperature_c", 5.5, "UncertainLastUsableValue", "uncertain", 5.5),
]


@pytest.mark.parametrize(("field", "value", "status", "quality", "expected"), KYLBOX_RECORDED)
def test_kylbox_values_map_to_the_canonical_fields(field: str, value: Any, status: str, quality: Any,
                                                   expected: Any) -> None:
    source = KYLBOX.fields.sources()[field]
    converted = convert(field, source, Reading(value, status, quality))
    assert converted.problem is None
    assert converted.value == expected


@pytest.mark.parametrize(("field", "reading", "kind"), [
    ("temperature_c", Reading(None, "BadSensorFailure", "bad"), ProblemKind.BAD_STATUS),
    ("temperature_c", Reading(math.nan), ProblemKind.NOT_FINITE),
    ("temperature_c", Reading(math.inf), ProblemKind.NOT_FINITE),
    ("temperature_c", Reading("4.2"), ProblemKind.WRONG_TYPE),
    ("door_open", Reading(1), ProblemKind.WRONG_TYPE),
    ("door_open", Reading(None), ProblemKind.MISSING),
    ("temperature_class", Reading("lukewarm"), ProblemKind.UNKNOWN_ENUM),
])
def test_bad_vendor_values_become_problems_not_crashes(field: str, reading: Reading, kind: ProblemKind) -> None:
    converted = convert(field, KYLBOX.fields.sources()[field], reading)
    assert converted.value is None
    assert converted.problem is not None and converted.problem.kind is kind
    assert converted.problem.field == field and converted.problem.detail


def test_a_bad_status_names_the_status_code() -> None:
    converted = convert("temperature_c", KYLBOX.fields.sources()["temperature_c"], Reading.bad("BadSensorFailure"))
    assert converted.problem is not None and "BadSensorFailure" in converted.problem.describe()


FROSTLOGIK_RECORDED = {  # one poll of the FL_Controller arrays (3 compartments)
    "door_open": [0, 1, 2],
    "locked": [True, False, True],
    "occupied": [False, True, False],
    "temperature_c": [42, -201, 215],
    "setpoint_c": [40, -200, 200],
    "temperature_class": ["C", "F", "X"],
    "size_class": ["M", "S", "L"],
}


def test_frostlogik_arrays_map_per_compartment_with_tenths_and_codes() -> None:
    sources = FROSTLOGIK.fields.sources()

    def at(field: str, index: int) -> Any:
        return convert(field, sources[field], Reading(FROSTLOGIK_RECORDED[field]), index)

    assert [at("door_open", i).value for i in range(3)] == [False, True, None]
    assert at("door_open", 2).status is SlotStatus.OUT_OF_ORDER and at("door_open", 2).problem is None
    assert [at("temperature_c", i).value for i in range(3)] == [4.2, -20.1, 21.5]
    assert at("temperature_class", 1).value is TemperatureClass.FROZEN
    unknown = at("temperature_class", 2).problem
    assert unknown is not None and unknown.kind is ProblemKind.UNKNOWN_ENUM and "'X'" in unknown.detail
    missing = at("locked", 7).problem
    assert missing is not None and missing.kind is ProblemKind.MISSING


def test_a_frostlogik_scalar_where_an_array_belongs_is_a_wrong_type() -> None:
    converted = convert("door_open", FROSTLOGIK.fields.sources()["door_open"], Reading(1), 0)
    assert converted.problem is not None and converted.problem.kind is ProblemKind.WRONG_TYPE


def test_a_setpoint_converts_back_to_the_vendor_unit() -> None:
    assert to_vendor(FROSTLOGIK.fields.sources()["setpoint_c"], -18.5) == -185
    assert to_vendor(KYLBOX.fields.sources()["setpoint_c"], 4.0) == 4.0


@pytest.mark.parametrize(("field", "value", "expected", "status"), [
    ("door_open", "OPEN", True, None), ("door_open", "AJAR", True, None), ("door_open", "CLOSED", False, None),
    ("door_open", "JAMMED", None, SlotStatus.OUT_OF_ORDER), ("locked", "RELEASED", False, None),
    ("temperature_class", "FRYS", TemperatureClass.FROZEN, None), ("temperature_class", "RUM", TemperatureClass.AMBIENT,
                                                                   None),
])
def test_nordlas_strings_map_through_the_enum_maps(field: str, value: str, expected: Any,
                                                   status: SlotStatus | None) -> None:
    converted = convert(field, NORDLAS.fields.sources()[field], Reading(value))
    assert (converted.value, converted.status, converted.problem) == (expected, status, None)


def test_a_compartment_has_no_state_until_its_class_and_size_are_known() -> None:
    model = CompartmentModel("L1", "1")
    sources = KYLBOX.fields.sources()
    model.apply("occupied", convert("occupied", sources["occupied"], Reading(True)))
    assert model.state() is None
    model.apply("temperature_class", convert("temperature_class", sources["temperature_class"], Reading("chilled")))
    model.apply("size_class", convert("size_class", sources["size_class"], Reading("S")))
    state = model.state()
    assert state is not None and state.status is SlotStatus.OCCUPIED and state.occupied is True


def test_small_temperature_moves_are_not_state_changes() -> None:
    model = CompartmentModel("L1", "1", values={"temperature_class": TemperatureClass.CHILLED,
                                                "size_class": SizeClass.M, "temperature_c": 4.0})
    before = model.state()
    assert before is not None
    model.values["temperature_c"] = 4.3
    assert changed_fields(before, model.state(), 0.5) == ()  # type: ignore[arg-type]  # state is set
    model.values["temperature_c"] = 4.6
    assert changed_fields(before, model.state(), 0.5) == ("temperature_c",)  # type: ignore[arg-type]


def kylbox_model(**policy: float) -> EndpointModel:
    model = EndpointModel("t.kylbox", KYLBOX, AlarmPolicy(**policy), telemetry_interval_s=10, deadband_c=0.5)
    model.set_topology([("KB-1", "1")], 0.0, AT)
    model.set_connected(True, 0.0, AT)
    return model


def feed(model: EndpointModel, now: float, **values: Any) -> list[Any]:
    readings = [(Binding("KB-1", "1", field), value if isinstance(value, Reading) else Reading(value))
                for field, value in values.items()]
    return model.apply(readings, now, AT)


def test_readings_become_a_state_change_telemetry_and_online_health() -> None:
    model = kylbox_model()
    events = feed(model, 1.0, door_open=False, locked=True, occupied=False, temperature_c=4.1, setpoint_c=4.0,
                  temperature_class="chilled", size_class="M")
    state = next(e for e in events if isinstance(e, StateChanged))
    assert state.state.temperature_c == 4.1 and state.state.locked is True and "door_open" in state.changed
    assert [e.temperature_c for e in events if isinstance(e, Telemetry)] == [4.1]
    reported = model.lockers["KB-1"].reported  # online since the connection; data does not change that
    assert reported is not None and reported.connectivity is Connectivity.ONLINE
    assert not [e for e in events if isinstance(e, HealthChanged)]
    again = feed(model, 2.0, door_open=True)
    assert [e.changed for e in again if isinstance(e, StateChanged)] == [("door_open",)]
    assert not [e for e in again if isinstance(e, Telemetry)]  # the next sample is due in 10 s


def test_a_bad_sensor_raises_a_sensor_fault_and_makes_the_locker_stale() -> None:
    model = kylbox_model()
    feed(model, 1.0, door_open=False, temperature_c=4.1, temperature_class="chilled", size_class="M")
    events = feed(model, 2.0, temperature_c=Reading.bad("BadSensorFailure"))
    raised = [e for e in events if isinstance(e, AlarmRaised)]
    assert [(e.alarm, e.compartment) for e in raised] == [(AlarmKind.SENSOR_FAULT, "1")]
    assert "BadSensorFailure" in raised[0].message
    health = next(e.health for e in events if isinstance(e, HealthChanged))
    assert health.connectivity is Connectivity.STALE and health.device_health is DeviceHealth.FAILURE
    assert "BadSensorFailure" in health.detail
    state = next(e.state for e in events if isinstance(e, StateChanged))
    assert state.temperature_c is None
    recovered = feed(model, 3.0, temperature_c=4.0)
    assert [e.alarm_id for e in recovered if e.__class__.__name__ == "AlarmCleared"] == [raised[0].alarm_id]


def test_an_unknown_enum_value_is_a_check_function_not_a_crash() -> None:
    model = kylbox_model()
    events = feed(model, 1.0, temperature_class="lukewarm", size_class="M")
    health = next(e.health for e in events if isinstance(e, HealthChanged))
    assert health.device_health is DeviceHealth.CHECK_FUNCTION and "lukewarm" in health.detail
    assert not [e for e in events if isinstance(e, StateChanged)]  # no class known yet: no state


def test_a_locker_without_data_goes_stale_and_offline_when_disconnected() -> None:
    model = kylbox_model(stale_after_s=5)
    feed(model, 1.0, temperature_c=4.1, temperature_class="chilled", size_class="M")
    stale = [e.health for e in model.tick(7.0, AT) if isinstance(e, HealthChanged)]
    assert stale and stale[0].connectivity is Connectivity.STALE and "no data" in stale[0].detail
    offline = [e.health for e in model.set_connected(False, 8.0, AT, "server gone") if isinstance(e, HealthChanged)]
    assert offline[0].connectivity is Connectivity.OFFLINE and offline[0].detail == "server gone"


def test_a_temperature_that_never_changes_makes_the_locker_stale_when_asked_to_watch_for_it() -> None:
    model = kylbox_model(stuck_after_s=60, stale_after_s=1000)
    feed(model, 1.0, temperature_c=4.1, temperature_class="chilled", size_class="M")
    feed(model, 50.0, temperature_c=4.1)
    assert not [e for e in model.tick(55.0, AT) if isinstance(e, HealthChanged)]
    [stuck] = [e.health for e in model.tick(62.0, AT) if isinstance(e, HealthChanged)]
    assert stuck.connectivity is Connectivity.STALE and "unchanged" in stuck.detail
    [back] = [e.health for e in feed(model, 63.0, temperature_c=4.2) if isinstance(e, HealthChanged)]
    assert back.connectivity is Connectivity.ONLINE
