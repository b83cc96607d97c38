"""Relay-style connections over keyset pages, capped in size."""

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from backend.lib import Page, PageRequest, ValidationFailed

T = TypeVar("T")
R = TypeVar("R")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


MAX_BIGINT = 2**63 - 1


def page_request(first: int, after: str | None, *, numeric: bool = False) -> PageRequest:
    """A page request whose cursor decodes to a key the database can compare.

    Cursors are opaque, so a forged one (a NUL character, a number past bigint) is the
    caller's mistake: refuse it as VALIDATION_FAILED rather than fail in the database.
    """
    page = PageRequest(first, after)
    key = page.after_key()
    if key is not None and (
        "\x00" in key or (numeric and not (key.isascii() and key.isdigit() and int(key) <= MAX_BIGINT))
    ):
        raise ValidationFailed.on("after", "'after' is not a cursor this API gave out.")
    return page


def connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    edges = [Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.cursors, strict=True)]
    end = page.cursors[-1] if page.cursors else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=end))
