"""The demo integrator's webhook receiver: a tiny HTTP/1.1 server on 127.0.0.1 that checks each
webhook's signature (as docs/webhooks.md asks every integrator to), drops retries it has already
handled, and hands the event to the listener of its path (``/hooks/<municipality slug>``).

Local plain-HTTP endpoints are accepted only in development and tests, which is where
``samverka up`` runs the demo integrator."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from backend.notifications.signing import verify_signature

Listener = Callable[[str, dict[str, Any]], Awaitable[None]]
MAX_BODY = 1_000_000


class Webhooks:
    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.secrets: dict[str, str] = {}
        self.listeners: dict[str, Listener] = {}
        self.handled: deque[str] = deque(maxlen=1000)  # X-Samverka-Delivery ids
        self.server: asyncio.Server | None = None
        self.port = 0

    @classmethod
    async def start(cls, say: Callable[[str], None]) -> Webhooks:
        hooks = cls(say)
        hooks.server = await asyncio.start_server(hooks._handle, "127.0.0.1", 0)
        hooks.port = hooks.server.sockets[0].getsockname()[1]
        return hooks

    def add(self, slug: str, listener: Listener) -> str:
        """Listen on ``/hooks/<slug>``; the URL to register (its secret goes in ``secrets[slug]``)."""
        self.listeners[slug] = listener
        return f"http://127.0.0.1:{self.port}/hooks/{slug}"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            path = head[0].split(" ")[1]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
            length = int(headers.get("content-length", "0"))
            status = 413 if length > MAX_BODY else await self._receive(path, headers, await reader.readexactly(length))
            writer.write(f"HTTP/1.1 {status} -\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError):
            pass  # not a request we can read: the sender gave up or sent garbage
        finally:
            writer.close()

    async def _receive(self, path: str, headers: dict[str, str], body: bytes) -> int:
        slug = path.removeprefix("/hooks/")
        secret, listener = self.secrets.get(slug), self.listeners.get(slug)
        if secret is None or listener is None:
            return 404
        signed = verify_signature(
            secret, headers.get("x-samverka-timestamp", ""), body, headers.get("x-samverka-signature", "")
        )
        if not signed:
            self.say(f"demo: refused a webhook to {path}: its signature does not verify")
            return 401
        delivery = headers.get("x-samverka-delivery", "")
        if delivery in self.handled:
            return 200  # a retry of one we already handled
        self.handled.append(delivery)
        envelope = json.loads(body)
        await listener(str(envelope["event"]), dict(envelope["data"]))
        return 200
