"""The medication log's hash chain, as plain Python: each entry's hash is SHA-256 over the
canonical JSON of its fields followed by the previous entry's hash."""

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
class Verdict:
    intact: bool
    checked: int
    broken_seq: int | None = None  # the first entry whose place in the chain does not hold
    reason: str = ""


def verify(tenant_id: UUID, entries: Iterable[Mapping[str, Any]]) -> Verdict:
    """Walk the entries in ``seq`` order: numbering without gaps from 1, each ``prev_hash`` the
    previous hash, each ``hash`` recomputed. A deleted entry shows as a gap or a broken link."""
    prev, expected, checked = GENESIS, 1, 0
    for e in entries:
        seq = int(e["seq"])
        if seq != expected:
            return Verdict(False, checked, expected, f"entry {expected} is missing")
        if e["prev_hash"] != prev:
            return Verdict(False, checked, seq, f"entry {seq} does not follow entry {seq - 1}")
        if entry_hash(tenant_id, e, prev) != e["hash"]:
            return Verdict(False, checked, seq, f"entry {seq} was altered")
        prev, expected, checked = e["hash"], expected + 1, checked + 1
    return Verdict(True, checked)
