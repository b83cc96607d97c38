"""The demo's locker hardware: one simulator per vendor in one process, and a manifest.

``python -m opcua_gateway.simulators.demo --dir DATA --base-port P`` starts Kylbox (P),
Frostlogik (P+1) and Nordlås (P+2, SignAndEncrypt) with fixed seeds, and one more Kylbox locker
(P+3) that the demo makes a medicine cabinet in a home (marked ``"cabinet": true``), writes
``DATA/simulators.json`` describing what they serve (lockers as the gateway's profiles
name them, compartments with their classes, server certificates), and runs until
SIGINT/SIGTERM. ``samverka up`` reads the manifest to register the lockers and to
configure the gateway, so the two never need to import each other.

With ``--people-key KEY`` it also takes people's actions at the lockers (typing a code, opening
and closing a door) from that Redis list (``opcua_gateway.simulators.people``), so the demo
integrator of ``samverka up`` can play couriers and recipients from its own process. Redis is
``$SAMVERKA_REDIS_URL`` (the environment, so a password never shows in the process list).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from opcua_gateway.simulators import people
from opcua_gateway.simulators.runner import running_simulators
from opcua_gateway.simulators.runtime import Simulator
from opcua_gateway.simulators.spec import SimulatorSpec

MANIFEST = "simulators.json"
REDIS_ENV = "SAMVERKA_REDIS_URL"


def demo_specs(base_port: int, pki_dir: Path) -> list[SimulatorSpec]:
    return [
        SimulatorSpec(vendor="kylbox", port=base_port, lockers=2, compartments=8, seed=11),
        SimulatorSpec(vendor="frostlogik", port=base_port + 1, lockers=1, compartments=10, seed=12),
        SimulatorSpec(vendor="nordlas", port=base_port + 2, lockers=2, compartments=6, seed=13, pki_dir=pki_dir),
    ]


def cabinet_spec(base_port: int) -> SimulatorSpec:
    """The locker in a care recipient's home: a Kylbox of its own, since a home is no site of the others."""
    return SimulatorSpec(vendor="kylbox", port=base_port + 3, lockers=1, compartments=4, seed=14)


def gateway_locker_id(sim: Simulator, locker_id: str) -> str:
    """The locker's id as the vendor profile reports it (Nordlås prefixes the site)."""
    return f"{sim.spec.site}/{locker_id}" if sim.spec.vendor == "nordlas" else locker_id


def describe(sim: Simulator, *, cabinet: bool = False) -> dict[str, Any]:
    return {
        "vendor": sim.spec.vendor,
        "cabinet": cabinet,
        "url": sim.url,
        "certificate": str(sim.certificate_path) if sim.certificate_path else None,
        "lockers": [
            {
                "id": gateway_locker_id(sim, locker.locker_id),
                "compartments": [
                    {"key": str(c.number), "temperature_class": c.temperature_class.value, "size_class": c.size.value}
                    for c in sorted(locker.compartments.values(), key=lambda c: c.number)
                ],
            }
            for locker in sim.model.lockers.values()
        ],
    }


def write_manifest(directory: Path, sims: Sequence[Simulator], cabinets: Sequence[Simulator] = ()) -> None:
    manifest = directory / MANIFEST
    partial = manifest.with_suffix(".tmp")
    described = [describe(s) for s in sims] + [describe(s, cabinet=True) for s in cabinets]
    partial.write_text(json.dumps(described, indent=2))
    os.replace(partial, manifest)  # readers never see half a file


@asynccontextmanager
async def people_at_the_lockers(sims: list[Simulator], key: str | None) -> AsyncIterator[None]:
    """Serve people's actions from the Redis list ``key`` while the block runs (none: nothing)."""
    if key is None:
        yield
        return
    redis = Redis.from_url(os.environ[REDIS_ENV])
    task = asyncio.create_task(people.serve(redis, {s.spec.vendor: s for s in sims}, key), name="people")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await redis.aclose()


async def run(directory: Path, base_port: int, people_key: str | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    specs = demo_specs(base_port, directory / "pki")
    async with running_simulators([*specs, cabinet_spec(base_port)]) as sims:
        lockers, cabinets = sims[: len(specs)], sims[len(specs) :]
        async with people_at_the_lockers(lockers, people_key):  # people act by vendor: the cabinet has none
            write_manifest(directory, lockers, cabinets)
            print(f"demo simulators running: {', '.join(s.url for s in sims)}", flush=True)
            await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, required=True, help="where the manifest and certificates go")
    parser.add_argument("--base-port", type=int, default=4841)
    parser.add_argument("--people-key", help="take people's actions at the lockers from this Redis list")
    args = parser.parse_args()
    if args.people_key and not os.environ.get(REDIS_ENV):
        parser.error(f"--people-key needs ${REDIS_ENV}")
    args.dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args.dir, args.base_port, args.people_key))


if __name__ == "__main__":
    main()
