"""Keyset pages with a size cap, shared by every list the API serves."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from backend.lib.errors import ValidationFailed

T = TypeVar("T")

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class PageRequest:
    """``first`` items after the opaque cursor ``after`` (a keyset position)."""

    first: int = DEFAULT_PAGE_SIZE
    after: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.first <= MAX_PAGE_SIZE:
            raise ValidationFailed.on("first", f"'first' must be between 1 and {MAX_PAGE_SIZE}.")

    def after_key(self) -> str | None:
        if self.after is None:
            return None
        try:
            return base64.urlsafe_b64decode(self.after.encode()).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise ValidationFailed.on("after", "'after' is not a cursor this API gave out.") from None


def encode_cursor(key: str) -> str:
    return base64.urlsafe_b64encode(key.encode()).decode()


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    cursors: Sequence[str]
    has_next: bool

    @classmethod
    def from_rows(cls, rows: Sequence[T], keys: Sequence[str], request: PageRequest) -> Page[T]:
        """Build a page from up to ``first + 1`` rows fetched in order (the extra tells has_next)."""
        has_next = len(rows) > request.first
        return cls(rows[: request.first], [encode_cursor(k) for k in keys[: request.first]], has_next)
