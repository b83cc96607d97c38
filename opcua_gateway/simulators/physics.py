"""Temperature physics of a tempered delivery locker compartment.

Plain functions over floats, so the cold-chain behaviour the gateway's alarms are tested
against is itself testable without a server: an open door lets room air in (the compartment
warms toward the room at ``warm_rate``); a closed, cooled compartment is pulled back toward
its setpoint (at ``cool_rate``); an ambient compartment has no cooling and follows the room.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from opcua_gateway.contracts import TemperatureClass


@dataclass(frozen=True, slots=True)
class PhysicsParams:
    """Rates in °C per simulated second; ``time_scale`` simulated seconds pass per wall second."""

    room_c: float = 20.0
    warm_rate_c_per_s: float = 0.3
    cool_rate_c_per_s: float = 0.1
    ajar_factor: float = 0.5  # a door pushed to but not latched leaks half as much
    noise_c: float = 0.02  # sensor noise (standard deviation), so a live sensor keeps changing
    time_scale: float = 1.0


def approach(current: float, target: float, max_step: float) -> float:
    """Move ``current`` toward ``target`` by at most ``max_step`` without overshooting."""
    if abs(target - current) <= max_step:
        return target
    return current + max_step if target > current else current - max_step


def next_temperature(
    current: float,
    *,
    temperature_class: TemperatureClass,
    setpoint_c: float,
    leak: float,
    dt_s: float,
    params: PhysicsParams,
) -> float:
    """The true air temperature of one compartment ``dt_s`` simulated seconds later.

    ``leak`` is how far the door lets room air in: 0 closed, 1 wide open (``ajar_factor`` ajar).
    """
    if temperature_class is TemperatureClass.AMBIENT:
        return approach(current, params.room_c, params.cool_rate_c_per_s * dt_s)
    if leak > 0:
        return approach(current, params.room_c, params.warm_rate_c_per_s * leak * dt_s)
    return approach(current, setpoint_c, params.cool_rate_c_per_s * dt_s)


def sensor_reading(true_c: float, rng: random.Random, params: PhysicsParams) -> float:
    """What a healthy sensor reports: the true value plus a little noise, to 0.01 °C."""
    noise = rng.gauss(0.0, params.noise_c) if params.noise_c > 0 else 0.0
    return round(true_c + noise, 2)
