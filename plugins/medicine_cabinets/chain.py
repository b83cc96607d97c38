"""The medication log's hash chain, as plain Python: each entry's hash is SHA-256 over the
canonical JSON of its fields followed by the previous entry's hash. Heads anchored outside the
log (each append's ``(seq, hash)``) and a head a reviewer kept from an earlier export show what
the chain alone cannot: entries deleted from the end, or a chain rewritten from some entry on."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

GENESIS = "0" * 64
FIELDS = ("seq", "at", "kind", "cabinet_id", "compartment_id", "recipient_id", "staff_user_id", "request_id", "detail")


def plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, UUID):
        return str(value)
    return value


def canonical(tenant_id: UUID, entry: Mapping[str, Any]) -> str:
    body = {"tenant_id": str(tenant_id), **{f: plain(entry.get(f)) for f in FIELDS}}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(tenant_id: UUID, entry: Mapping[str, Any], prev_hash: str) -> str:
    return hashlib.sha256((canonical(tenant_id, entry) + prev_hash).encode()).hexdigest()


@dataclass(frozen=True)
class Head:
    """The last entry of a chain at some moment: its number and hash."""

    seq: int
    hash: str


@dataclass(frozen=True)
class Verdict:
    intact: bool
    checked: int
    broken_seq: int | None = None  # the first entry whose place in the chain does not hold
    reason: str = ""
    truncated: bool = False  # entries known to have existed are gone from the end
    head: Head | None = None  # the last entry checked


def verify(
    tenant_id: UUID,
    entries: Iterable[Mapping[str, Any]],
    anchors: Iterable[Head] = (),
    expected_head: Head | None = None,
) -> Verdict:
    """Walk the entries in ``seq`` order: numbering without gaps from 1, each ``prev_hash`` the
    previous hash, each ``hash`` recomputed. A deleted entry shows as a gap or a broken link.
    Then every anchored head, and ``expected_head``, must be an entry of the chain with that hash."""
    prev, expected, checked = GENESIS, 1, 0
    hashes: dict[int, str] = {}
    for e in entries:
        seq = int(e["seq"])
        if seq != expected:
            return Verdict(False, checked, expected, f"entry {expected} is missing")
        if e["prev_hash"] != prev:
            return Verdict(False, checked, seq, f"entry {seq} does not follow entry {seq - 1}")
        if entry_hash(tenant_id, e, prev) != e["hash"]:
            return Verdict(False, checked, seq, f"entry {seq} was altered")
        hashes[seq] = prev = e["hash"]
        expected, checked = expected + 1, checked + 1
    head = Head(checked, prev) if checked else None
    known = [(a, "its anchor") for a in anchors]
    if expected_head is not None:
        known.append((expected_head, "the expected head"))
    for was, what in known:
        if was.seq > checked:
            return Verdict(
                False, checked, checked + 1, f"the log ends at entry {checked} but entry {was.seq} existed "
                f"({what}): entries were deleted from the end", truncated=True, head=head,
            )  # fmt: skip
        if hashes.get(was.seq) != was.hash:
            return Verdict(False, checked, was.seq, f"entry {was.seq} does not match {what}", head=head)
    return Verdict(True, checked, head=head)
