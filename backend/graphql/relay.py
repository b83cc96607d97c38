"""Relay-style connections over keyset pages, capped in size."""

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from backend.lib import Page

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


def connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    edges = [Edge(cursor=c, node=convert(item)) for item, c in zip(page.items, page.cursors, strict=True)]
    end = page.cursors[-1] if page.cursors else None
    return Connection(edges=edges, page_info=PageInfo(has_next_page=page.has_next, end_cursor=end))
