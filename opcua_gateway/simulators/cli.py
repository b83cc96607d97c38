"""The command line of the simulators: ``python -m opcua_gateway.simulators --vendor kylbox
--port 4841`` runs one vendor simulator until SIGINT/SIGTERM, then stops it cleanly."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from collections.abc import Sequence
from pathlib import Path

from opcua_gateway.simulators.runner import create_simulator
from opcua_gateway.simulators.spec import VENDORS, SimulatorSpec

DEFAULT_PKI = Path("data/simulators/pki")


def parse_args(argv: Sequence[str] | None = None) -> SimulatorSpec:
    parser = argparse.ArgumentParser(
        prog="python -m opcua_gateway.simulators",
        description="Run one simulated vendor OPC UA server of delivery lockers until SIGINT/SIGTERM.",
    )
    parser.add_argument("--vendor", choices=VENDORS, required=True)
    parser.add_argument("--port", type=int, required=True, help="TCP port (0: any free port)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--lockers", type=int, default=1, help="lockers (cabinets) behind this server")
    parser.add_argument("--compartments", type=int, default=8, help="compartments per locker")
    parser.add_argument("--pki", type=Path, help=f"server certificate directory (Nordlås default: {DEFAULT_PKI})")
    parser.add_argument("--seed", type=int, default=0, help="seed of sizes, start temperatures and sensor noise")
    args = parser.parse_args(argv)
    if args.lockers < 1 or args.compartments < 1:
        parser.error("--lockers and --compartments must be at least 1")
    if args.vendor == "frostlogik" and args.lockers != 1:
        parser.error("a Frostlogik controller serves exactly one locker: use --lockers 1")
    pki = args.pki if args.pki is not None or args.vendor != "nordlas" else DEFAULT_PKI
    return SimulatorSpec(
        vendor=args.vendor,
        port=args.port,
        host=args.host,
        lockers=args.lockers,
        compartments=args.compartments,
        pki_dir=pki,
        seed=args.seed,
    )


async def serve(spec: SimulatorSpec) -> None:
    """Run one simulator until SIGINT/SIGTERM, saying where it listens."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with create_simulator(spec) as sim:
        cert = f", server certificate {sim.certificate_path}" if sim.certificate_path else ""
        print(f"{spec.vendor} simulator listening on {sim.url}{cert}", flush=True)
        await stop.wait()
    print(f"{spec.vendor} simulator stopped", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.ERROR, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(serve(parse_args(argv)))
