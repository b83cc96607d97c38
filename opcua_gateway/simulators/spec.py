"""How to run one simulated vendor server: a typed, immutable specification.

The command line, ``run_simulators`` (the demo) and the tests all describe a simulator with
one of these, so every way of starting one takes the same knobs.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from opcua_gateway.simulators.physics import PhysicsParams

Vendor = Literal["kylbox", "frostlogik", "nordlas"]
VENDORS: tuple[Vendor, ...] = ("kylbox", "frostlogik", "nordlas")

NORDLAS_USER = "gateway"
NORDLAS_PASSWORD_ENV = "NORDLAS_PASSWORD"
NORDLAS_DEFAULT_PASSWORD = "nordlas-demo"


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    """One simulator. ``port=0`` picks a free port once, at construction, and keeps it across
    restarts. ``tick_s`` is the wall-clock physics interval; ``physics.time_scale`` lets tests
    run simulated time faster. ``pki_dir`` is where the server certificate is made (required
    by Nordlås; with it, Kylbox and Frostlogik also offer a SignAndEncrypt endpoint)."""

    vendor: Vendor
    port: int = 0
    host: str = "127.0.0.1"
    lockers: int = 1
    compartments: int = 8
    seed: int = 0
    pki_dir: Path | None = None
    tick_s: float = 0.5
    physics: PhysicsParams = field(default_factory=PhysicsParams)
    alarm_delay_s: float = 5.0  # Nordlås: simulated seconds outside the band before the alarm event
    site: str = "Centrum"  # Nordlås: the site folder name
    password: str | None = None  # Nordlås: None means $NORDLAS_PASSWORD, else "nordlas-demo"

    def nordlas_password(self) -> str:
        if self.password is not None:
            return self.password
        return os.environ.get(NORDLAS_PASSWORD_ENV, NORDLAS_DEFAULT_PASSWORD)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])
