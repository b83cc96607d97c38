"""Validating a request's document is cached: the same text is validated once, and a refused
document (too deep, too many aliases) is refused again from the cache with the same message."""

from __future__ import annotations

from typing import Any

from strawberry.extensions.validation_cache import _get_validate_cache

from backend.graphql.schema import CACHE_SIZE, MAX_ALIASES, MAX_DEPTH, build_schema
from plugins.registry import PluginRegistry

SCHEMA = build_schema(PluginRegistry.discover(entry_points=False))


def deep(levels: int) -> str:
    inner = "__typename"
    for n in range(levels):
        inner = f"f{n} {{ {inner} }}"
    return f"{{ {inner} }}"


async def test_the_same_document_is_validated_once_and_the_limits_still_refuse() -> None:
    cache: Any = _get_validate_cache(CACHE_SIZE)  # a functools.lru_cache wrapper
    ok, too_deep = "{ __typename }", deep(MAX_DEPTH + 2)
    aliases = "{ " + " ".join(f"a{n}: __typename" for n in range(MAX_ALIASES + 1)) + " }"
    for query in (ok, too_deep, aliases):
        await SCHEMA.execute(query)  # the first time it is validated
    hits = cache.cache_info().hits
    assert (await SCHEMA.execute(ok)).data == {"__typename": "Query"}
    refused = [await SCHEMA.execute(q) for q in (too_deep, aliases)]
    assert cache.cache_info().hits == hits + 3  # all three came from the cache
    depth, many = ([e.message for e in r.errors or []] for r in refused)
    assert any(f"exceeds maximum operation depth of {MAX_DEPTH}" in m for m in depth), depth
    assert any("aliases" in m for m in many), many
    assert all(r.data is None for r in refused)
