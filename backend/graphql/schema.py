"""Assemble the one GraphQL schema (kernel + plugins), with its limits, and export it as SDL."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import strawberry
from graphql import ExecutionResult, GraphQLError, StringValueNode, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from backend.graphql.errors import ERROR_TYPES, ErrorPolicy, shape_error
from backend.graphql.kernel import KernelMutation, KernelQuery, KernelSubscription
from backend.graphql.notifications import NotificationMutation, NotificationQuery
from backend.graphql.plugins import PluginMutation, PluginQuery, plugin_roots
from plugins.registry import PluginRegistry

MAX_DEPTH = 10
MAX_TOKENS = 2000
MAX_ALIASES = 20
CACHE_SIZE = 512
SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"
NUL_MESSAGE = "Text in a request may not contain the NUL character (U+0000)."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


class NoNulInStringLiterals(ValidationRule):
    """PostgreSQL text cannot hold U+0000; a validation rule, so the validation cache covers it."""

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if "\x00" in node.value:
            self.report_error(GraphQLError(NUL_MESSAGE, node))


# The limiters build a validation rule class per instance, and the validation cache is keyed by the
# rule classes: built per request (an extension factory each), no validation would ever be a hit.
# So the rule classes are built once, here, and every request adds the same ones.
VALIDATION_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    NoNulInStringLiterals,
)


class RefuseNulInVariables(SchemaExtension):
    """The same for variables, which change with every request."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if _has_nul(context.variables):
            context.result = ExecutionResult(data=None, errors=[GraphQLError(NUL_MESSAGE)])
        yield


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Errors raised before execution (a syntax error caught by the parser cache) skip
        ``ErrorPolicy.on_operation``; shape them here, where every error path passes. Unexpected
        errors are logged with their trace by ``shape_error``; expected ones are not logged."""
        for error in errors:
            shape_error(error)


def build_schema(registry: PluginRegistry) -> strawberry.Schema:
    queries, mutations, subscriptions, types = plugin_roots(registry)
    return Schema(
        query=merge_types("Query", (KernelQuery, NotificationQuery, PluginQuery, *queries)),
        mutation=merge_types("Mutation", (KernelMutation, NotificationMutation, PluginMutation, *mutations)),
        subscription=merge_types("Subscription", (KernelSubscription, *subscriptions)),
        types=[*ERROR_TYPES, *types],
        extensions=[
            ErrorPolicy,
            lambda: ParserCache(maxsize=CACHE_SIZE),
            lambda: ValidationCache(maxsize=CACHE_SIZE),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: AddValidationRules(list(VALIDATION_RULES)),
            RefuseNulInVariables,
        ],
        config=StrawberryConfig(auto_camel_case=True),
    )


def export_sdl() -> str:
    """The committed schema: the kernel and the built-in plugins (not third-party ones)."""
    return build_schema(PluginRegistry.discover(entry_points=False)).as_str().rstrip() + "\n"
