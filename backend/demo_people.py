"""Couriers and recipients at the simulated lockers, for the demo integrator: the client side of
the simulators' control interface (``opcua_gateway.simulators.people``; docs/design/lockers.md,
"People at the demo lockers"). It speaks JSON over a Redis list, so the backend imports nothing
of the simulators, which run in their own process."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from redis.asyncio import Redis

from backend.demo import PEOPLE_KEY, DemoError

BLOCK_S = 2
VENDORS = {"kylbox": "Kylbox", "frostlogik": "Frostlogik", "nordlas": "Nordlås"}


@dataclass(frozen=True)
class Compartment:
    id: str
    site_id: str
    vendor: str
    locker: str
    number: int
    temperature_class: str
    size_class: str

    @property
    def label(self) -> str:
        return f"{VENDORS.get(self.vendor, self.vendor)} {self.locker} fack {self.number}"


class People:
    """Couriers and recipients at the simulated lockers (the simulators' control interface)."""

    def __init__(self, redis: Redis, key: str = PEOPLE_KEY, answer_s: int = 10) -> None:
        self.redis, self.key, self.answer_s = redis, key, answer_s

    async def act(self, c: Compartment, action: str, **fields: Any) -> dict[str, Any]:
        request_id = uuid4().hex
        request = {"id": request_id, "vendor": c.vendor, "locker": c.locker, "action": action, **fields}
        await self.redis.rpush(self.key, json.dumps(request))
        popped = None
        for _ in range(0, self.answer_s, BLOCK_S):  # short waits: redis-py's socket timeout is 5 s
            popped = await self.redis.blpop([f"{self.key}:reply:{request_id}"], timeout=BLOCK_S)
            if popped is not None:
                break
        else:
            raise DemoError("the simulated lockers did not answer")
        answer: dict[str, Any] = json.loads(popped[1])
        if not answer.get("ok"):
            raise DemoError(f"the locker refused: {answer.get('message')}")
        return answer

    async def door_opens(self, c: Compartment, within_s: float) -> bool:
        deadline = asyncio.get_running_loop().time() + within_s
        while asyncio.get_running_loop().time() < deadline:
            if (await self.act(c, "look", compartment=c.number))["door_open"]:
                return True
            await asyncio.sleep(0.3)
        return False

    async def open_with_code(self, c: Compartment, code: str, within_s: float) -> None:
        await self.act(c, "enter_code", code=code)
        if not await self.door_opens(c, within_s):
            raise DemoError(f"{c.label} did not open for the code")
