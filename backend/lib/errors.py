"""The one error tree of Samverka.

Services raise these; the edges translate them (GraphQL error unions and
extensions, HTTP problem responses, CLI messages). Codes are stable API.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class ErrorCode(str, Enum):
    NOT_FOUND = "NOT_FOUND"
    PERMISSION_DENIED = "PERMISSION_DENIED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    VALIDATION_FAILED = "VALIDATION_FAILED"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    PLUGIN_NOT_ENABLED = "PLUGIN_NOT_ENABLED"


@dataclass(frozen=True)
class FieldError:
    """One invalid input field: its path (e.g. ``input.email``) and what is wrong."""

    field: str
    message: str


class DomainError(Exception):
    code: ErrorCode = ErrorCode.VALIDATION_FAILED
    http_status: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """Raised alike for "does not exist" and "not yours", so ids leak nothing."""

    code = ErrorCode.NOT_FOUND
    http_status = 404

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} was not found.")
        self.kind = kind


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED
    http_status = 403


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED
    http_status = 401


class Conflict(DomainError):
    code = ErrorCode.CONFLICT
    http_status = 409


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED
    http_status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PluginNotEnabled(DomainError):
    code = ErrorCode.PLUGIN_NOT_ENABLED
    http_status = 403


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION_FAILED
    http_status = 400

    def __init__(self, message: str, fields: list[FieldError] | None = None) -> None:
        super().__init__(message)
        self.fields = list(fields or [])

    @classmethod
    def on(cls, field_name: str, message: str) -> ValidationFailed:
        return cls(message, [FieldError(field_name, message)])
