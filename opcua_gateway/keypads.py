"""Keypads: every code typed on a locker becomes exactly one ``CodeEntered`` event.

The profile's ``keypad:`` names one of two vendor styles:

* a String variable of the locker shows the entry until the reader consumes it by writing
  "" (``clear_after_read``); the keypad then shows its next entry. It is subscribed to or
  polled like the field sources.
* one OPC UA event per entry from the locker object, the code in one of its fields.

Each entry has a vendor identity: the variable value's source timestamp, or the event's
EventId. The outbox stores an entry's event only the first time it sees that identity, in
the transaction that gives the event its seq and event_id, so a re-read, a reconnect or a
gateway restart before the clear never makes a second event, and a resend from the outbox
keeps the event_id. The variable is cleared only after the event is stored, and only if
it still shows that entry (read, compare, write): a clear repeated after a reconnect does
not wipe the next entry.

A code is a credential: it is never logged, only its length.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Callable
from datetime import datetime

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds

from opcua_gateway.mapping import Reading
from opcua_gateway.model import EndpointModel
from opcua_gateway.outbox import Outbox
from opcua_gateway.profile import Keypad
from opcua_gateway.transport import CONNECTION_ERRORS, Transport, reading_of

log = logging.getLogger(__name__)
CODE = re.compile(r"^[0-9A-Za-z]{1,16}$")  # what contracts.CodeEntered.code accepts


def entry_identity(reading: Reading) -> str | None:
    """A keypad variable's entry is identified by when it was set: its source timestamp."""
    return None if reading.source_time is None else f"time:{reading.source_time.isoformat()}"


def event_identity(event_id: object) -> str:
    """A keypad event is identified by its OPC UA EventId (unique per event)."""
    return f"event:{event_id.hex()}" if isinstance(event_id, bytes) and event_id else f"event:{uuid.uuid4().hex}"


def same_entry(a: Reading, b: Reading) -> bool:
    return a.value == b.value and a.source_time == b.source_time


class Keypads:
    """One endpoint's keypads: entries in, events into the outbox, keypad variables cleared."""

    def __init__(self, endpoint_id: str, spec: Keypad | None, model: EndpointModel, outbox: Outbox,
                 transport: Transport, *, timeout_s: float, on_cleared: Callable[[], None]) -> None:
        self.endpoint_id = endpoint_id
        self.clear_after_read = spec is not None and spec.variable is not None and spec.variable.clear_after_read
        self.code_field = spec.event.code_field if spec is not None and spec.event is not None else ""
        self.model = model
        self.outbox = outbox
        self.transport = transport
        self.timeout_s = timeout_s
        self.on_cleared = on_cleared  # e.g. poll again now: the keypad may show its next entry
        self._latest: dict[str, asyncio.Task[None]] = {}  # locker -> its latest clear; each waits for the one before
        self._tasks: set[asyncio.Task[None]] = set()
        self._reported: dict[str, str] = {}  # locker -> the last problem logged, so each is logged once

    async def variable(self, locker: str, node: ua.NodeId, reading: Reading, at: datetime) -> None:
        """A keypad variable was read or notified; "" means that nothing is typed."""
        if reading.quality == "bad":
            self._report(locker, reading.status, f"the keypad variable reports {reading.status}")
            return
        if reading.value is None or reading.value == "":
            return
        await self._entry(locker, reading.value, entry_identity(reading) or f"read:{uuid.uuid4().hex}", at)
        if self.clear_after_read:  # also an entry that was refused: the keypad must move on
            task = asyncio.create_task(self._clear(self._latest.get(locker), locker, node, reading))
            self._latest[locker] = task
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def event(self, locker: str, fields: dict[str, object], event_id: object, at: datetime) -> None:
        """A keypad event from the locker, its fields by browse name."""
        await self._entry(locker, fields.get(self.code_field), event_identity(event_id), at)

    async def stop(self) -> None:
        """Cancel the clears under way (the session ended; the entries are cleared when seen again)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._latest.clear()

    async def _entry(self, locker: str, raw: object, identity: str, at: datetime) -> None:
        code = raw.strip() if isinstance(raw, str) else ""
        if not CODE.match(code):
            length = len(raw) if isinstance(raw, str) else 0
            self._report(locker, identity, f"a keypad entry of {length} characters was ignored: "
                                           "a code is 1-16 letters or digits")
            return
        stored = await self.outbox.append_entry(self.model.code_entered(locker, code, at), identity)
        if stored is not None:
            self._reported.pop(locker, None)
            log.info("%s: keypad entry at locker %s (%d characters), event %s", self.endpoint_id, locker,
                     len(code), stored.event_id)

    async def _clear(self, previous: asyncio.Task[None] | None, locker: str, node: ua.NodeId,
                     seen: Reading) -> None:
        if previous is not None:
            await asyncio.wait([previous])
        loop = asyncio.get_running_loop()
        try:
            cleared = await self.transport.retry(lambda client: clear_if_showing(client, node, seen),
                                                 deadline=loop.time() + self.timeout_s)
        except CONNECTION_ERRORS as exc:
            self._report(locker, f"clear:{entry_identity(seen)}",
                         f"the keypad was not cleared ({type(exc).__name__}: {exc}); it is when read again")
            return
        if cleared:
            self.on_cleared()

    def _report(self, locker: str, key: str, message: str) -> None:
        if self._reported.get(locker) != key:
            self._reported[locker] = key
            log.warning("%s: locker %s: %s", self.endpoint_id, locker, message)


async def clear_if_showing(client: Client, node: ua.NodeId, seen: Reading) -> bool:
    """Write "" to the keypad variable if it still shows the entry ``seen``; True when written."""
    [value] = await client.uaclient.read_attributes([node], AttributeIds.Value)
    if not same_entry(reading_of(value), seen):
        return False  # already cleared, or the next entry is showing
    [status] = await client.uaclient.write_attributes([node], [ua.DataValue(ua.Variant("", ua.VariantType.String))])
    status.check()
    return True
