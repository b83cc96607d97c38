"""Small shared building blocks every package may import: the error tree and time."""

from backend.lib.clock import LOCAL_ZONE, local_day, utcnow
from backend.lib.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    FieldError,
    NotFound,
    PermissionDenied,
    PluginNotEnabled,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from backend.lib.paging import MAX_PAGE_SIZE, Page, PageRequest

__all__ = [
    "LOCAL_ZONE",
    "MAX_PAGE_SIZE",
    "Conflict",
    "DomainError",
    "ErrorCode",
    "FieldError",
    "NotFound",
    "Page",
    "PageRequest",
    "PermissionDenied",
    "PluginNotEnabled",
    "RateLimited",
    "Unauthenticated",
    "ValidationFailed",
    "local_day",
    "utcnow",
]
