"""A simulated locker registered through GraphQL as an admin would: a site, an endpoint at the
simulator's OPC UA address and its one locker with the compartments the simulator models; and
waiting until the real gateway reports it online. Shared by the tests that drive simulated
hardware end to end (the API's and the browser's)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from opcua_gateway.simulators.kylbox import KylboxSimulator
from tests.conftest import GraphQLClient
from tests.e2e.test_lockers_api import ENDPOINT, LOCKER, LOCKERS, SITE, data, eventually


@dataclass(frozen=True)
class SimulatedLocker:
    site_id: str
    endpoint_id: str
    locker_id: str
    compartments: dict[int, str]  # key -> compartment id
    model: Any  # the simulator's own model of the locker (its doors, temperatures)


async def register_simulated(admin: GraphQLClient, sim: KylboxSimulator, name: str) -> SimulatedLocker:
    tag = uuid.uuid4().hex[:6]
    site = data(await admin(SITE, {"input": {"name": f"Hemma {tag}", "latitude": 58.5, "longitude": 13.1}}),
                "registerSite")  # fmt: skip
    endpoint = data(
        await admin(ENDPOINT, {"input": {"name": f"mc-{tag}", "vendor": "kylbox", "url": sim.url}}),
        "registerEndpoint",
    )
    [(locker_key, locker)] = sim.model.lockers.items()
    compartments = [
        {"key": str(n), "temperatureClass": c.temperature_class.value.upper(), "sizeClass": c.size.value}
        for n, c in locker.compartments.items()
    ]
    registered = data(
        await admin(LOCKER, {"input": {"siteId": site["id"], "endpointId": endpoint["id"],
                                       "vendorLockerId": locker_key, "name": name, "compartments": compartments}}),
        "registerLocker",
    )  # fmt: skip
    ids = {int(c["key"]): c["id"] for c in registered["compartments"]}
    return SimulatedLocker(site["id"], endpoint["id"], registered["locker"]["id"], ids, locker)


async def online(admin: GraphQLClient, simulated: SimulatedLocker, seconds: float = 30) -> bool:
    """Whether the locker came online (the gateway connected to the simulator) within ``seconds``."""

    async def check() -> bool:
        rows = data(await admin(LOCKERS, {"site": simulated.site_id}), "lockers")
        return bool(rows) and rows[0]["health"]["connectivity"] == "ONLINE"

    return bool(await eventually(check, seconds))
