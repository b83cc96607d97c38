"""Simulated vendor OPC UA servers of delivery lockers (docs/design/lockers.md), for the demo
and the tests: Kylbox, Frostlogik and Nordlås, plus a node-opcua interop server.

The physical behaviour (doors, bolts, goods, cold-chain physics, faults) is one vendor-neutral
model (``model``, ``physics``, ``alarms``, ``layout``); each vendor module maps it onto its own
address space. Start one with ``create_simulator(SimulatorSpec(...))`` or several with
``run_simulators``; ``python -m opcua_gateway.simulators`` runs one from the command line.
"""

from opcua_gateway.simulators.frostlogik import FrostlogikSimulator
from opcua_gateway.simulators.kylbox import KylboxSimulator
from opcua_gateway.simulators.model import (
    DoorJammed,
    DoorState,
    KeypadOffline,
    LockedOut,
    LockerBank,
    SetpointRefused,
    SimulatorError,
    UnknownCompartment,
)
from opcua_gateway.simulators.node_server import NodeInteropServer, NodeNotInstalled, NodeServerFailed
from opcua_gateway.simulators.nordlas import NordlasSimulator
from opcua_gateway.simulators.physics import PhysicsParams
from opcua_gateway.simulators.runner import create_simulator, run_simulators, running_simulators
from opcua_gateway.simulators.runtime import Simulator
from opcua_gateway.simulators.spec import (
    NORDLAS_DEFAULT_PASSWORD,
    NORDLAS_PASSWORD_ENV,
    NORDLAS_USER,
    SimulatorSpec,
    free_port,
)

__all__ = [
    "NORDLAS_DEFAULT_PASSWORD",
    "NORDLAS_PASSWORD_ENV",
    "NORDLAS_USER",
    "DoorJammed",
    "DoorState",
    "FrostlogikSimulator",
    "KeypadOffline",
    "KylboxSimulator",
    "LockedOut",
    "LockerBank",
    "NodeInteropServer",
    "NodeNotInstalled",
    "NodeServerFailed",
    "NordlasSimulator",
    "PhysicsParams",
    "SetpointRefused",
    "Simulator",
    "SimulatorError",
    "SimulatorSpec",
    "UnknownCompartment",
    "create_simulator",
    "free_port",
    "run_simulators",
    "running_simulators",
]
