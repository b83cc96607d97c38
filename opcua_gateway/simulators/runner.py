"""Start simulators by specification: one, or several in one asyncio loop (the demo)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Sequence

from opcua_gateway.simulators.frostlogik import FrostlogikSimulator
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.nordlas import NordlasSimulator
from opcua_gateway.simulators.runtime import Simulator
from opcua_gateway.simulators.spec import SimulatorSpec

SIMULATORS: dict[str, type[Simulator]] = {
    "kylbox": KylboxSimulator,
    "frostlogik": FrostlogikSimulator,
    "nordlas": NordlasSimulator,
}


def create_simulator(spec: SimulatorSpec) -> Simulator:
    """The simulator of ``spec.vendor`` (not started)."""
    try:
        cls = SIMULATORS[spec.vendor]
    except KeyError:
        raise ValueError(f"unknown vendor {spec.vendor!r}; choose one of {', '.join(SIMULATORS)}") from None
    return cls(spec)


@contextlib.asynccontextmanager
async def running_simulators(specs: Sequence[SimulatorSpec]) -> AsyncIterator[list[Simulator]]:
    """Start every simulator, yield them, stop them all on the way out (even on errors)."""
    sims = [create_simulator(spec) for spec in specs]
    started: list[Simulator] = []
    try:
        for sim in sims:
            await sim.start()
            started.append(sim)
        yield sims
    finally:
        for sim in reversed(started):
            await sim.stop()


async def run_simulators(specs: Sequence[SimulatorSpec], stop: asyncio.Event | None = None) -> None:
    """Run the simulators until ``stop`` is set, or until SIGINT/SIGTERM when none is given;
    then stop them cleanly. Meant to be one task among others in the caller's loop."""
    signals: tuple[signal.Signals, ...] = ()
    loop = asyncio.get_running_loop()
    if stop is None:
        stop, signals = asyncio.Event(), (signal.SIGINT, signal.SIGTERM)
        for signum in signals:
            loop.add_signal_handler(signum, stop.set)
    try:
        async with running_simulators(specs):
            await stop.wait()
    finally:
        for signum in signals:
            loop.remove_signal_handler(signum)
