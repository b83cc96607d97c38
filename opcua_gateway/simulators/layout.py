"""Realistic default lockers: a mix of chilled, frozen and ambient compartments and sizes.

Deterministic for a seed, so a demo and a test see the same cabinets every time. Like an
E-drop cabinet, each locker is built from modules: chilled compartments first (about half),
then frozen, then ambient (about a quarter each; at least one of each from three up).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from opcua_gateway.contracts import SizeClass, TemperatureClass
from opcua_gateway.simulators.model import Compartment, Locker, LockerBank
from opcua_gateway.simulators.physics import PhysicsParams

DEFAULT_SETPOINT_C = {
    TemperatureClass.CHILLED: 4.0,
    TemperatureClass.FROZEN: -20.0,
    TemperatureClass.AMBIENT: 20.0,  # no cooling: the room temperature, for vendors that need a value
}
_SIZES = (SizeClass.S, SizeClass.M, SizeClass.L, SizeClass.XL)
_SIZE_WEIGHTS = (3, 4, 2, 1)


def class_mix(count: int) -> list[TemperatureClass]:
    """Temperature classes of ``count`` compartments, in module order."""
    if count <= 0:
        return []
    if count == 1:
        return [TemperatureClass.CHILLED]
    if count == 2:
        return [TemperatureClass.CHILLED, TemperatureClass.FROZEN]
    frozen = max(1, count // 4)
    ambient = max(1, count // 4)
    chilled = count - frozen - ambient
    return (
        [TemperatureClass.CHILLED] * chilled + [TemperatureClass.FROZEN] * frozen + [TemperatureClass.AMBIENT] * ambient
    )


def build_compartments(
    classes: Sequence[TemperatureClass], rng: random.Random, sizes: Sequence[SizeClass] | None = None
) -> dict[int, Compartment]:
    """Compartments numbered from 1, each starting near its setpoint, closed, locked and empty."""
    compartments: dict[int, Compartment] = {}
    for number, temperature_class in enumerate(classes, start=1):
        size = sizes[number - 1] if sizes is not None else rng.choices(_SIZES, _SIZE_WEIGHTS)[0]
        setpoint = DEFAULT_SETPOINT_C[temperature_class]
        start = round(setpoint + rng.uniform(-0.5, 0.5), 2)
        compartments[number] = Compartment(
            number=number,
            temperature_class=temperature_class,
            size=size,
            setpoint_c=setpoint,
            temperature_c=start,
            reading_c=start,
        )
    return compartments


def default_bank(
    locker_ids: Sequence[str], compartments: int, *, seed: int = 0, physics: PhysicsParams | None = None
) -> LockerBank:
    """Lockers with the default class mix; sizes and starting temperatures drawn from ``seed``."""
    rng = random.Random(seed)
    lockers = {
        locker_id: Locker(locker_id, build_compartments(class_mix(compartments), rng)) for locker_id in locker_ids
    }
    return LockerBank(lockers=lockers, physics=physics or PhysicsParams(), rng=rng)
