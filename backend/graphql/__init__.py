"""The GraphQL API: schema assembly, context, errors and the kernel's fields."""

from backend.graphql.schema import build_schema, export_sdl

__all__ = ["build_schema", "export_sdl"]
