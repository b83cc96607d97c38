"""Expected failures as data (mutation unions), unexpected ones masked.

Every mutation returns ``<Success> | <Error types>``; query fields raise, and
``ErrorPolicy`` gives each GraphQL error a stable ``extensions.code``.
"""

import functools
import logging
from collections.abc import Awaitable, Callable
from enum import Enum
from typing import Any, ParamSpec, TypeAlias, TypeVar, get_args

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from backend.lib import DomainError, ErrorCode

log = logging.getLogger(__name__)

# Registers the domain enum itself as GraphQL's ErrorCode (strawberry.enum returns the class it is given).
strawberry.enum(ErrorCode, name="ErrorCode")


@strawberry.type
class FieldProblem:
    field: str
    message: str


@strawberry.interface
class Error:
    code: ErrorCode
    message: str


@strawberry.type
class NotFoundError(Error):
    pass


@strawberry.type
class PermissionDeniedError(Error):
    pass


@strawberry.type
class UnauthenticatedError(Error):
    pass


@strawberry.type
class ConflictError(Error):
    pass


@strawberry.type
class ValidationFailedError(Error):
    fields: list[FieldProblem]


@strawberry.type
class PluginNotEnabledError(Error):
    pass


# Every standard error; a mutation's result union is ``<Success> | Errors`` (see ``results``).
Errors: TypeAlias = (
    NotFoundError
    | PermissionDeniedError
    | UnauthenticatedError
    | ConflictError
    | ValidationFailedError
    | PluginNotEnabledError
)
ERROR_TYPES: tuple[type, ...] = get_args(Errors)


def error_value(exc: DomainError) -> Error:
    code = ErrorCode(exc.code.value)
    if exc.code is ErrorCode.VALIDATION_FAILED:
        fields = [FieldProblem(field=f.field, message=f.message) for f in getattr(exc, "fields", [])]
        return ValidationFailedError(code=code, message=exc.message, fields=fields)
    kind = {
        ErrorCode.NOT_FOUND: NotFoundError,
        ErrorCode.PERMISSION_DENIED: PermissionDeniedError,
        ErrorCode.UNAUTHENTICATED: UnauthenticatedError,
        ErrorCode.CONFLICT: ConflictError,
        ErrorCode.PLUGIN_NOT_ENABLED: PluginNotEnabledError,
        ErrorCode.RATE_LIMITED: PermissionDeniedError,
    }[exc.code]
    return kind(code=code, message=exc.message)


P = ParamSpec("P")
R = TypeVar("R")


def errors_as_data(resolver: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R | Error]]:
    """Turn the domain errors a mutation raises into members of its result union."""

    @functools.wraps(resolver)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R | Error:
        try:
            return await resolver(*args, **kwargs)
        except DomainError as exc:
            return error_value(exc)

    return wrapper


class GraphQLCode(str, Enum):
    BAD_REQUEST = "BAD_REQUEST"
    INTERNAL = "INTERNAL_SERVER_ERROR"


class ErrorPolicy(SchemaExtension):
    """Give each error a stable code; mask anything unexpected (logged with its trace)."""

    def on_operation(self) -> Any:
        yield
        result = self.execution_context.result
        if not result or not result.errors:
            return
        result.errors = [self._shape(e) for e in result.errors]

    def on_stream_result(self, result: Any) -> Any:
        """Subscriptions (and anything over WebSocket) are sent before ``on_operation`` ends."""
        if getattr(result, "errors", None):
            result.errors = [self._shape(e) for e in result.errors]
        yield

    @staticmethod
    def _shape(error: GraphQLError) -> GraphQLError:
        return shape_error(error)


MASKED = "Unexpected error; it has been logged. Try again, and report it if it persists."


def shape_error(error: GraphQLError) -> GraphQLError:
    """Give ``error`` its stable code, masking unexpected ones; in place, so every path can use it."""
    if (error.extensions or {}).get("code"):
        return error  # shaped already
    original = error.original_error
    if isinstance(original, DomainError):
        error.extensions = {**(error.extensions or {}), "code": original.code.value}
    elif original is None or isinstance(original, GraphQLError):
        # Parse, validation and variable-coercion errors: the request itself is wrong.
        error.extensions = {**(error.extensions or {}), "code": GraphQLCode.BAD_REQUEST.value}
    else:
        log.error("unexpected error in GraphQL resolver", exc_info=original)
        error.message = MASKED
        error.original_error = None
        error.extensions = {"code": GraphQLCode.INTERNAL.value}
    return error
