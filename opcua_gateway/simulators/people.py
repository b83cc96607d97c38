"""People at the demo lockers: a small control interface so another process can play couriers
and recipients at simulators that run in this one (docs/design/lockers.md, "People at the demo
lockers").

A request is one JSON object pushed (RPUSH) onto a Redis list; this process pops them in order
and answers each on its own list ``<key>:reply:<id>`` (kept for a minute):

    {"id": "r1", "vendor": "kylbox", "locker": "KB-0001", "action": "enter_code", "code": "123456"}
    {"id": "r2", "vendor": "kylbox", "locker": "KB-0001", "action": "look", "compartment": 3}
    {"id": "r3", ..., "action": "open_door", "compartment": 3, "by": "key:staff"}
    {"id": "r4", ..., "action": "close_door", "compartment": 3, "occupied": true}
    -> {"ok": true, "door_open": false, "occupied": true, "temperature_c": 4.1}
    -> {"ok": false, "error": "LockedOut", "message": "compartment 3 is locked out"}

``locker`` is the simulator's own locker id or the id the gateway reports (Nordlås prefixes the
site). The answer carries the compartment's state when the request names one. Only people's
actions are offered: faults and outages stay with the tests, which hold the simulator objects.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from opcua_gateway.simulators.model import SimulatorError, UnknownCompartment
from opcua_gateway.simulators.runtime import Simulator

log = logging.getLogger(__name__)

DEFAULT_KEY = "samverka:demo:people"
REPLY_TTL_S = 60
BLOCK_S = 2  # each wait for a request; below redis-py's default socket timeout (5 s)
ACTIONS = ("enter_code", "open_door", "close_door", "look")


class BadRequest(ValueError):
    """A request this interface cannot act on (unknown action, vendor or field)."""


def reply_key(key: str, request_id: str) -> str:
    return f"{key}:reply:{request_id}"


def locker_of(sim: Simulator, name: str) -> str:
    """The simulator's locker id for ``name``: its own id, or the one its vendor profile reports."""
    for locker_id in sim.model.lockers:
        if name in (locker_id, f"{sim.spec.site}/{locker_id}"):
            return locker_id
    raise UnknownCompartment(f"no locker {name!r} at the {sim.vendor} simulator")


def _state(sim: Simulator, compartment: int, locker: str) -> dict[str, Any]:
    c = sim.model.compartment(compartment, locker)
    return {"door_open": c.door_open, "occupied": c.occupied, "temperature_c": round(c.temperature_c, 1)}


def _compartment(request: Mapping[str, Any]) -> int:
    number = request.get("compartment")
    if not isinstance(number, int) or isinstance(number, bool):
        raise BadRequest("'compartment' must be the compartment's number")
    return number


async def act(sims: Mapping[str, Simulator], request: Mapping[str, Any]) -> dict[str, Any]:
    """Do what ``request`` asks at the simulator of its vendor; the answer to send back."""
    action, vendor = request.get("action"), request.get("vendor")
    try:
        if action not in ACTIONS:
            raise BadRequest(f"'action' must be one of {', '.join(ACTIONS)}")
        if not isinstance(vendor, str) or vendor not in sims:
            raise BadRequest(f"no simulator of vendor {vendor!r} here")
        sim = sims[vendor]
        locker = locker_of(sim, str(request.get("locker", "")))
        if action == "enter_code":
            await sim.enter_code(str(request.get("code", "")), locker=locker)
            return {"ok": True}
        number = _compartment(request)
        if action == "open_door":
            await sim.open_door(number, by=str(request.get("by", "person")), locker=locker)
        elif action == "close_door":
            await sim.close_door(number, occupied=bool(request.get("occupied")), locker=locker)
        return {"ok": True, **_state(sim, number, locker)}
    except (SimulatorError, ValueError) as exc:  # BadRequest is a ValueError, as is an empty code
        return {"ok": False, "error": type(exc).__name__, "message": str(exc)}


async def serve(redis: Redis, sims: Mapping[str, Simulator], key: str = DEFAULT_KEY) -> None:
    """Act on requests from ``key`` until cancelled. Requests left from an earlier run are dropped:
    nobody waits for their answers any more."""
    await redis.delete(key)
    while True:
        try:
            popped = await redis.blpop([key], timeout=BLOCK_S)
        except RedisError as exc:  # Redis restarting: try again shortly, people can wait
            log.warning("people at the lockers: Redis unavailable (%s)", exc)
            await asyncio.sleep(1)
            continue
        if popped is None:
            continue
        try:
            request = json.loads(popped[1])
            request_id = str(request["id"])
        except (ValueError, KeyError, TypeError):
            log.warning("people at the lockers: dropped a request that is not JSON with an id")
            continue
        answer = await act(sims, request)
        try:
            await redis.rpush(reply_key(key, request_id), json.dumps(answer))
            await redis.expire(reply_key(key, request_id), REPLY_TTL_S)
        except RedisError as exc:
            log.warning("people at the lockers: could not answer %s (%s)", request_id, exc)
