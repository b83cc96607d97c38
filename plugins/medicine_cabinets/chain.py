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
EXPECTED_HEAD = "the expected head"  # how a reviewer's head is named in a finding
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
    of_expected_head: bool = False  # the finding is about a reviewer's head, not against the log


class Walk:
    """The chain checked one entry at a time in ``seq`` order, keeping only the previous hash (and
    the hashes of the few ``watch``ed entries), so a log of millions of entries needs no list. From
    ``start`` (a head an earlier check found intact) it checks only the entries after it; ``checked``
    is then the number of the last entry that held, not how many this walk read."""

    def __init__(self, tenant_id: UUID, watch: Iterable[int] = (), start: Head | None = None) -> None:
        self.tenant_id = tenant_id
        self.prev, self.checked = (start.hash, start.seq) if start else (GENESIS, 0)
        self.seen: dict[int, str | None] = {seq: None for seq in watch}

    @property
    def head(self) -> Head | None:
        return Head(self.checked, self.prev) if self.checked else None

    def step(self, e: Mapping[str, Any]) -> Verdict | None:
        """Numbering without gaps from 1, ``prev_hash`` the previous hash, ``hash`` recomputed;
        the verdict on the first entry where one of these does not hold."""
        seq, expected, checked = int(e["seq"]), self.checked + 1, self.checked
        if seq != expected:
            return Verdict(False, checked, expected, f"entry {expected} is missing")
        if e["prev_hash"] != self.prev:
            return Verdict(False, checked, seq, f"entry {seq} does not follow entry {seq - 1}")
        if entry_hash(self.tenant_id, e, self.prev) != e["hash"]:
            return Verdict(False, checked, seq, f"entry {seq} was altered")
        self.prev, self.checked = e["hash"], expected
        if seq in self.seen:
            self.seen[seq] = self.prev
        return None

    def against(self, was: Head, what: str, found: str | None) -> Verdict | None:
        """A head known from elsewhere (``what``) against the walked chain, in which the entry
        ``was.seq`` has the hash ``found``: beyond the chain's end (truncated) or another hash."""
        reviewer = what == EXPECTED_HEAD
        if was.seq > self.checked:
            return Verdict(
                False, self.checked, self.checked + 1, f"the log ends at entry {self.checked} but entry {was.seq} "
                f"existed ({what}): entries were deleted from the end", truncated=True, head=self.head,
                of_expected_head=reviewer,
            )  # fmt: skip
        if found != was.hash:
            return Verdict(
                False, self.checked, was.seq, f"entry {was.seq} does not match {what}", head=self.head,
                of_expected_head=reviewer,
            )  # fmt: skip
        return None


def known_heads(anchors: Iterable[Head], expected_head: Head | None) -> list[tuple[Head, str]]:
    """The heads to check after the walk, in the order their findings are reported: the anchors
    by ``seq`` (so an anchor that differs wins over one beyond the end), then the reviewer's head."""
    known = [(a, "its anchor") for a in sorted(anchors, key=lambda a: a.seq)]
    return known + ([(expected_head, EXPECTED_HEAD)] if expected_head is not None else [])


def verify(
    tenant_id: UUID,
    entries: Iterable[Mapping[str, Any]],
    anchors: Iterable[Head] = (),
    expected_head: Head | None = None,
) -> Verdict:
    """Walk the entries in ``seq`` order: numbering without gaps from 1, each ``prev_hash`` the
    previous hash, each ``hash`` recomputed. A deleted entry shows as a gap or a broken link.
    Then every anchored head, and ``expected_head``, must be an entry of the chain with that hash.
    Only the hashes of the anchored entries are kept (``log.verify`` checks anchors in SQL)."""
    known = known_heads(anchors, expected_head)
    walk = Walk(tenant_id, watch=(was.seq for was, _ in known))
    for e in entries:
        if broken := walk.step(e):
            return broken
    for was, what in known:
        if found := walk.against(was, what, walk.seen.get(was.seq)):
            return found
    return Verdict(True, walk.checked, head=walk.head)
