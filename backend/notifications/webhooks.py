"""Signed webhook POSTs to integrators' endpoints (docs/webhooks.md).

2xx is delivered; any other status, a redirect (never followed), a network error or the timeout
is an error worth another try. The body is built from the stored row, so every retry sends the
same bytes and the same ``X-Samverka-Delivery`` id, which integrators use to drop duplicates.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import httpx

from backend.notifications.records import NotificationRecord
from backend.notifications.senders import SendResult
from backend.notifications.signing import sign

USER_AGENT = "Samverka-Webhooks/1"
DETAIL_BYTES = 500


def body_of(n: NotificationRecord) -> bytes:
    envelope = {
        "id": str(n.id),
        "event": n.topic,
        "municipality_id": str(n.tenant_id),
        "created_at": n.created_at.isoformat(),
        "subject": {"kind": n.subject_kind, "id": str(n.subject_id)},
        "data": n.payload,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


def headers_for(n: NotificationRecord, secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Samverka-Event": n.topic,
        "X-Samverka-Delivery": str(n.id),
        "X-Samverka-Timestamp": str(timestamp),
        "X-Samverka-Signature": sign(secret, timestamp, body),
    }


@dataclass(frozen=True)
class WebhookSender:
    timeout_s: float

    async def post(self, url: str, secret: str, n: NotificationRecord) -> SendResult:
        body = body_of(n)
        headers = headers_for(n, secret, body, int(time.time()))
        try:
            async with asyncio.timeout(self.timeout_s):  # the whole exchange, not each read
                async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
                    async with client.stream("POST", url, content=body, headers=headers) as response:
                        detail = await _start_of(response)
        except (TimeoutError, httpx.TimeoutException):
            return SendResult.timeout(f"no answer within {self.timeout_s:g} s")
        except httpx.HTTPError as exc:
            return SendResult.error(f"{type(exc).__name__}: {exc}"[:DETAIL_BYTES])
        if response.is_success:
            return SendResult.ok(response.status_code, detail)
        return SendResult.error(f"HTTP {response.status_code}: {detail}"[:DETAIL_BYTES], response.status_code)


async def _start_of(response: httpx.Response) -> str:
    """The first bytes of the answer, for the delivery log; the rest is not read."""
    chunks = bytearray()
    async for chunk in response.aiter_bytes():
        chunks += chunk
        if len(chunks) >= DETAIL_BYTES:
            break
    return chunks[:DETAIL_BYTES].decode("utf-8", "replace")
