"""The load side of tests/bench/bench_lockers.py (not collected by pytest).

* ``python tests/bench/lockers_load.py --sims 4 --lockers 4 --compartments 20 --tick 0.05 --noise 0.05``
  runs Kylbox simulators in one asyncio loop, prints one JSON line ``{"ready": manifest}`` and then
  answers one JSON line per command read from stdin: ``stats`` (temperature changes the simulated
  sensors produced so far), ``noise <c>`` (sensor noise of every simulator, 0 = values settle),
  ``close <sim> <locker> <n>`` (a person shuts a door). EOF or SIGTERM stops the simulators.
* ``count_datachanges``: a bare asyncua client subscribed like the gateway (same publishing
  interval, queue size 1) to every compartment's Temperature and DoorOpen node, counting
  DataChange notifications over a fixed window.
* ``cpu_s``/``machine_s``: CPU seconds of processes and of the whole machine, from /proc (Linux).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from opcua_gateway.simulators.demo import describe
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.runner import running_simulators
from opcua_gateway.simulators.spec import SimulatorSpec


class ChangeCounter:
    """Counts sensor readings that changed after each physics step (= Temperature node writes)."""

    def __init__(self) -> None:
        self.changes = 0
        self.ticks = 0
        self._last: dict[tuple[int, str, int], float] = {}

    def install(self, index: int, sim: KylboxSimulator) -> None:
        after_step = sim._after_step

        async def counted() -> None:
            self.ticks += 1
            for locker, comp in sim.model.all_compartments():
                key = (index, locker, comp.number)
                if self._last.get(key) != comp.reading_c:
                    self._last[key] = comp.reading_c
                    self.changes += 1
            await after_step()

        sim._after_step = counted  # type: ignore[method-assign]  # a benchmark probe on this instance only


def manifest(sims: list[Any]) -> list[dict[str, Any]]:
    out = []
    for sim in sims:
        entry = describe(sim)
        entry["nodes"] = {f"{locker}/{number}": [nodes["Temperature"].to_string(), nodes["DoorOpen"].to_string()]
                          for (locker, number), nodes in sim._nodes.items()}
        out.append(entry)
    return out


async def serve(args: argparse.Namespace) -> None:
    physics = PhysicsParams(noise_c=args.noise)
    specs = [SimulatorSpec(vendor="kylbox", lockers=args.lockers, compartments=args.compartments, seed=100 + i,
                           tick_s=args.tick, physics=physics) for i in range(args.sims)]
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    counter = ChangeCounter()
    async with running_simulators(specs) as sims:
        for i, sim in enumerate(sims):
            counter.install(i, sim)  # type: ignore[arg-type]  # every spec is a Kylbox
        print(json.dumps({"ready": manifest(sims)}), flush=True)
        while not stop.is_set():
            line = await next_line(reader, stop)
            if not line:
                break
            cmd, *rest = line.split()
            answer: dict[str, Any] = {"ok": True}
            if cmd == "stats":
                answer = {"changes": counter.changes, "ticks": counter.ticks, "t": time.monotonic()}
            elif cmd == "noise":
                for sim in sims:
                    sim.model.physics = dataclasses.replace(sim.model.physics, noise_c=float(rest[0]))
            elif cmd == "close":
                await sims[int(rest[0])].close_door(int(rest[2]), occupied=False, locker=rest[1])
            print(json.dumps(answer), flush=True)


async def next_line(reader: asyncio.StreamReader, stop: asyncio.Event) -> str:
    read = asyncio.ensure_future(reader.readline())
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not read.done():
        read.cancel()
        return ""
    return read.result().decode().strip()


class Helper:
    """The benchmark's side of the simulator process: one JSON line per command."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.lock = process, asyncio.Lock()

    @classmethod
    async def start(cls, sims: int, lockers: int, compartments: int, tick: float, noise: float) -> Helper:
        args = ["--sims", sims, "--lockers", lockers, "--compartments", compartments, "--tick", tick, "--noise", noise]
        return cls(await asyncio.create_subprocess_exec(sys.executable, __file__, *map(str, args),
                                                        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE))

    async def read(self) -> Any:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 120)
        if not line:
            raise RuntimeError("the simulator process ended")
        return json.loads(line)

    async def ask(self, command: str) -> Any:
        assert self.process.stdin is not None
        async with self.lock:
            self.process.stdin.write(command.encode() + b"\n")
            await self.process.stdin.drain()
            return await self.read()

    async def stop(self) -> None:
        if self.process.returncode is None and self.process.stdin is not None:
            self.process.stdin.close()  # EOF: the simulators stop
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        self.count += 1

    def status_change_notification(self, status: Any) -> None:
        pass


async def count_datachanges(sims: list[dict[str, Any]], publishing_ms: float, seconds: float,
                            progress: Callable[[str], None]) -> tuple[int, float, int]:
    """DataChange notifications per second a bare client receives: (count, window s, node count)."""
    from asyncua import ua
    from asyncua.client.client import Client

    clients, handler, total = [], _Counter(), 0
    try:
        for sim in sims:
            client = Client(sim["url"], timeout=10, watchdog_intervall=10)  # a slow probe is no lost connection
            await client.connect()
            clients.append(client)
            nodes = [client.get_node(n) for pair in sim["nodes"].values() for n in pair]
            total += len(nodes)
            sub = await client.create_subscription(publishing_ms, handler)
            await sub.subscribe_data_change(nodes, queuesize=1, sampling_interval=ua.Double(publishing_ms / 2))
        await asyncio.sleep(3)  # initial values and warm-up
        start, t0 = handler.count, time.monotonic()
        for step in range(int(seconds)):
            await asyncio.sleep(t0 + step + 1 - time.monotonic())
            if (step + 1) % 5 == 0:
                rate = (handler.count - start) / (time.monotonic() - t0)
                progress(f"  (a) {step + 1:3d} s: {rate:8.0f} data changes/s")
        return handler.count - start, time.monotonic() - t0, total
    finally:
        for client in clients:
            await client.disconnect()


def stat(pid: int | str) -> list[str]:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def cpu_s(pids: list[int]) -> float:
    return sum(int(f[11]) + int(f[12]) for f in map(stat, pids) if f) / os.sysconf("SC_CLK_TCK")


def machine_s() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK"), sum(ticks) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sims", type=int, default=4)
    parser.add_argument("--lockers", type=int, default=4)
    parser.add_argument("--compartments", type=int, default=20)
    parser.add_argument("--tick", type=float, default=0.05)
    parser.add_argument("--noise", type=float, default=0.05)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
