"""Assemble the one GraphQL schema, with its limits, and export it as SDL."""

from pathlib import Path

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from backend.graphql.errors import ERROR_TYPES, ErrorPolicy
from backend.graphql.kernel import KernelMutation, KernelQuery, KernelSubscription

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 20
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def build_schema() -> strawberry.Schema:
    query = merge_types("Query", (KernelQuery,))
    mutation = merge_types("Mutation", (KernelMutation,))
    subscription = merge_types("Subscription", (KernelSubscription,))
    return strawberry.Schema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=list(ERROR_TYPES),
        extensions=[
            ErrorPolicy,
            QueryDepthLimiter(max_depth=MAX_DEPTH),
            MaxTokensLimiter(max_token_count=MAX_TOKENS),
            MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


def export_sdl(schema: strawberry.Schema | None = None) -> str:
    return (schema or build_schema()).as_str().rstrip() + "\n"
