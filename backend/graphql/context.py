"""The one typed context of every GraphQL operation."""

from typing import Any

from strawberry.litestar import BaseContext
from strawberry.types import Info as StrawberryInfo

from backend.services import Services
from tenants.access import ANONYMOUS, Principal


class Context(BaseContext, kw_only=True):
    services: Services
    principal: Principal = ANONYMOUS
    connection_params: dict[str, Any] | None = None
    bearer_token: str | None = None
    enabled_plugins: frozenset[str] | None = None


Info = StrawberryInfo[Context, None]
