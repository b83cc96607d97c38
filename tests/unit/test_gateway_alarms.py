"""Derived alarms: minimum durations, hysteresis, stable ids and clears."""

from __future__ import annotations

from opcua_gateway.alarms import AlarmEngine
from opcua_gateway.config import AlarmPolicy
from opcua_gateway.contracts import AlarmKind, CompartmentState, Severity, SizeClass, TemperatureClass
from opcua_gateway.mapping import Problem, ProblemKind

POLICY = AlarmPolicy(door_ajar_s=60, temperature_delay_s=300, temperature_hysteresis_c=0.5)


def state(temperature: float | None = 4.0, door_open: bool | None = False,
          klass: TemperatureClass = TemperatureClass.CHILLED) -> CompartmentState:
    return CompartmentState(compartment="3", temperature_class=klass, size_class=SizeClass.M, door_open=door_open,
                            temperature_c=temperature)


def engine() -> AlarmEngine:
    ids = iter(f"alarm-{n}" for n in range(1, 100))
    return AlarmEngine(POLICY, new_id=lambda: next(ids))


def test_a_door_open_longer_than_the_limit_raises_door_ajar_and_closing_clears_it() -> None:
    alarms = engine()
    assert alarms.evaluate("L", "3", state(door_open=True), [], now=0) == []
    assert alarms.evaluate("L", "3", state(door_open=True), [], now=59) == []
    [raised] = alarms.evaluate("L", "3", state(door_open=True), [], now=61)
    assert (raised.kind, raised.raised, raised.severity, raised.alarm_id) == (AlarmKind.DOOR_AJAR, True,
                                                                              Severity.WARNING, "alarm-1")
    assert alarms.evaluate("L", "3", state(door_open=True), [], now=90) == []  # raised once
    [cleared] = alarms.evaluate("L", "3", state(door_open=False), [], now=91)
    assert (cleared.raised, cleared.alarm_id) == (False, "alarm-1")


def test_a_short_opening_does_not_raise_and_restarts_the_timer() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(door_open=True), [], now=0)
    alarms.evaluate("L", "3", state(door_open=False), [], now=50)
    alarms.evaluate("L", "3", state(door_open=True), [], now=55)
    assert alarms.evaluate("L", "3", state(door_open=True), [], now=100) == []


def test_an_unknown_door_state_neither_raises_nor_clears() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(door_open=True), [], now=0)
    alarms.evaluate("L", "3", state(door_open=True), [], now=61)
    assert alarms.evaluate("L", "3", state(door_open=None), [], now=70) == []
    assert alarms.active


def test_a_warm_chilled_compartment_raises_only_after_the_minimum_duration() -> None:
    alarms = engine()
    assert alarms.evaluate("L", "3", state(9.0), [], now=0) == []
    assert alarms.evaluate("L", "3", state(9.5), [], now=299) == []
    [raised] = alarms.evaluate("L", "3", state(9.5), [], now=300)
    assert (raised.kind, raised.severity, raised.value) == (AlarmKind.TEMPERATURE_HIGH, Severity.CRITICAL, 9.5)
    assert "8.0 °C" in raised.message and "chilled" in raised.message


def test_a_brief_excursion_does_not_raise() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(9.0), [], now=0)
    alarms.evaluate("L", "3", state(7.9), [], now=200)  # back inside: the timer restarts
    assert alarms.evaluate("L", "3", state(9.0), [], now=400) == []
    assert alarms.evaluate("L", "3", state(9.0), [], now=699) == []
    assert len(alarms.evaluate("L", "3", state(9.0), [], now=700)) == 1


def test_the_temperature_alarm_clears_only_past_the_hysteresis() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(9.0), [], now=0)
    [raised] = alarms.evaluate("L", "3", state(9.0), [], now=300)
    assert alarms.evaluate("L", "3", state(7.8), [], now=310) == []  # inside, but within 0.5 °C of the limit
    assert alarms.evaluate("L", "3", state(8.2), [], now=320) == []  # outside again: still the same alarm
    [cleared] = alarms.evaluate("L", "3", state(7.5), [], now=330)
    assert (cleared.raised, cleared.alarm_id) == (False, raised.alarm_id)


def test_a_frozen_compartment_has_only_an_upper_limit() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(-30.0, klass=TemperatureClass.FROZEN), [], now=0)
    assert alarms.evaluate("L", "3", state(-30.0, klass=TemperatureClass.FROZEN), [], now=1000) == []
    alarms.evaluate("L", "3", state(-15.0, klass=TemperatureClass.FROZEN), [], now=1000)
    [raised] = alarms.evaluate("L", "3", state(-15.0, klass=TemperatureClass.FROZEN), [], now=1300)
    assert raised.kind is AlarmKind.TEMPERATURE_HIGH


def test_a_cold_chilled_compartment_raises_temperature_low() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(1.0), [], now=0)
    [raised] = alarms.evaluate("L", "3", state(1.0), [], now=300)
    assert (raised.kind, raised.severity) == (AlarmKind.TEMPERATURE_LOW, Severity.WARNING)


def test_a_missing_temperature_pauses_nothing_and_raises_nothing() -> None:
    alarms = engine()
    alarms.evaluate("L", "3", state(9.0), [], now=0)
    assert alarms.evaluate("L", "3", state(None), [], now=400) == []
    assert len(alarms.evaluate("L", "3", state(9.0), [], now=401)) == 1  # the excursion began at 0


def test_a_sensor_problem_raises_a_sensor_fault_until_it_is_gone() -> None:
    alarms = engine()
    problem = Problem(ProblemKind.BAD_STATUS, "temperature_c", "the vendor reports BadSensorFailure")
    [raised] = alarms.evaluate("L", "3", state(None), [problem], now=0)
    assert raised.kind is AlarmKind.SENSOR_FAULT and "BadSensorFailure" in raised.message
    assert alarms.evaluate("L", "3", state(None), [problem], now=1) == []
    [cleared] = alarms.evaluate("L", "3", state(4.0), [], now=2)
    assert cleared.alarm_id == raised.alarm_id and not cleared.raised


def test_restored_alarms_keep_their_ids_and_clear_under_them() -> None:
    alarms = engine()
    alarms.restore([(("L", "3", AlarmKind.DOOR_AJAR, ""), "from-before-the-restart")])
    assert alarms.evaluate("L", "3", state(door_open=True), [], now=500) == []  # still the same alarm
    [cleared] = alarms.evaluate("L", "3", state(door_open=False), [], now=501)
    assert cleared.alarm_id == "from-before-the-restart"


def test_vendor_alarms_raise_and_clear_as_the_vendor_says() -> None:
    alarms = engine()
    kwargs = {"kind": AlarmKind.VENDOR, "severity": Severity.CRITICAL, "message": "too warm", "value": 12.0}
    [raised] = alarms.vendor("L", "2", "NordlasTemperatureAlarmType", active=True, **kwargs)  # type: ignore[arg-type]
    assert alarms.vendor("L", "2", "NordlasTemperatureAlarmType", active=True, **kwargs) == []  # type: ignore[arg-type]
    [cleared] = alarms.vendor("L", "2", "NordlasTemperatureAlarmType", active=False, **kwargs)  # type: ignore[arg-type]
    assert (raised.severity, cleared.alarm_id) == (Severity.CRITICAL, raised.alarm_id)
