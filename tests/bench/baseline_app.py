"""The baseline for bench_kernel.py: a minimal hand-written litestar + asyncpg + msgspec endpoint.

It serves what the GraphQL ``auditLog(first: 50)`` query returns (the tenant's newest 50 audit
entries, same columns) through the same app role and the same transaction-scoped
``set_config('app.tenant_id', ...)``, so row-level security filters it exactly as in the product.
Deliberately missing: token check, rate limit, GraphQL parsing/validation. The tenant id comes
from the ``x-tenant`` header. Run: ``BENCH_BASELINE_DSN=... python -m uvicorn
tests.bench.baseline_app:app``.
"""

from __future__ import annotations

import os
from datetime import datetime

import asyncpg
import msgspec
from litestar import Litestar, Request, get

SET_TENANT = "SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true)"
NEWEST = ("SELECT id, occurred_at, actor_kind, actor_label, action, target_kind, target_id, details"
          " FROM audit_log ORDER BY id DESC LIMIT 50")
pool: asyncpg.Pool | None = None


class Entry(msgspec.Struct, rename="camel"):  # the GraphQL field names, for equal payloads
    id: str
    occurred_at: datetime
    actor_kind: str
    actor_label: str
    action: str
    target_kind: str
    target_id: str
    details: msgspec.Raw  # jsonb arrives as JSON text: passed through undecoded


@get("/audit")
async def audit(request: Request) -> list[Entry]:  # type: ignore[type-arg]
    assert pool is not None
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(SET_TENANT, request.headers["x-tenant"], "")
        rows = await conn.fetch(NEWEST)
    return [Entry(str(r[0]), r[1], r[2], r[3], r[4], r[5], r[6], msgspec.Raw(r[7].encode()))
            for r in rows]


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def open_pool() -> None:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_BASELINE_DSN"], min_size=1, max_size=10)


async def close_pool() -> None:
    if pool is not None:
        await pool.close()


app = Litestar([audit, healthz], on_startup=[open_pool], on_shutdown=[close_pool])
