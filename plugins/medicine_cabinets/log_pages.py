"""The medication log a page at a time, newest first as the kernel's lists (``auditLog``), keyset on
``seq``: a page after a cursor never shifts while entries are appended, since new entries get higher
numbers. ``page`` serves ``medicationLog`` (``api.Page``, opaque cursors); ``window`` serves the web
page, which also goes back to newer entries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backend import plugin_api as api
from plugins.medicine_cabinets.log import NARROWED, PAGE, Narrowing

MAX_SEQ = 2**63 - 1  # bigint
NEWEST = f"""SELECT * FROM medicine_cabinets_log WHERE {NARROWED} AND ($8::bigint IS NULL OR seq < $8)
ORDER BY seq DESC LIMIT $9"""
OLDER = f"SELECT EXISTS (SELECT 1 FROM medicine_cabinets_log WHERE {NARROWED} AND seq < $8)"
NEWER = f"SELECT EXISTS (SELECT 1 FROM medicine_cabinets_log WHERE {NARROWED} AND seq > $8)"


def cursor_seq(text: str | None) -> int | None:
    """The entry number a cursor (or the web page's ``older``/``newer``) names; a forged one is refused."""
    if text is None:
        return None
    if not (text.isascii() and text.isdigit() and int(text) <= MAX_SEQ):
        raise api.ValidationFailed.on("after", "'after' is not a cursor this API gave out.")
    return int(text)


async def newest_first(scope: api.Scope, narrowing: Narrowing, *, before: int | None, limit: int) -> list[Any]:
    return list(await scope.connection.fetch(NEWEST, scope.tenant, *narrowing.args(), before, limit))


async def page(scope: api.Scope, narrowing: Narrowing, request: api.PageRequest) -> api.Page[Any]:
    """``request.first`` entries, newest first, older than the cursor (the last ``seq`` seen)."""
    before = cursor_seq(request.after_key())
    rows = await newest_first(scope, narrowing, before=before, limit=request.first + 1)
    return api.Page.from_rows(rows, [str(r["seq"]) for r in rows], request)


@dataclass(frozen=True)
class Window:
    """One web page of entries, newest first, and where the neighbouring pages start (None: none)."""

    rows: list[Any]
    newer_than: int | None  # the link to newer entries shows those after this entry
    older_than: int | None  # the link to older entries shows those before this entry


async def window(
    scope: api.Scope, narrowing: Narrowing, *, size: int, older_than: int | None = None, newer_than: int | None = None
) -> Window:
    """``size`` entries older than ``older_than`` (or the newest), or the ``size`` just newer than
    ``newer_than`` (going back towards the newest)."""
    if newer_than is not None:
        found = await scope.connection.fetch(PAGE, scope.tenant, *narrowing.args(), newer_than, size)
        rows = list(reversed(found))
    else:
        rows = await newest_first(scope, narrowing, before=older_than, limit=size)
    if not rows:
        return Window([], None, None)
    args = (scope.tenant, *narrowing.args())
    newer = await scope.connection.fetchval(NEWER, *args, rows[0]["seq"])
    older = await scope.connection.fetchval(OLDER, *args, rows[-1]["seq"])
    return Window(rows, rows[0]["seq"] if newer else None, rows[-1]["seq"] if older else None)
