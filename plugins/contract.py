"""What a plugin is: the one typed object a plugin package exports as ``PLUGIN``.

A plugin brings tables (a piccolo app with its migrations), GraphQL root types,
dramatiq actors, web pages and a per-tenant configuration schema. The core never
imports a plugin by name; the registry finds it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

if TYPE_CHECKING:  # the worker's runtime imports the registry, which imports this module
    from backend.jobs.runtime import Runtime


@dataclass(frozen=True)
class Name:
    """User-facing text in Swedish (the default) and English."""

    sv: str
    en: str


@dataclass(frozen=True)
class ActorSpec:
    """A dramatiq actor. With ``plugin_id`` set, the first argument is the tenant id and the
    worker skips the job for tenants that have not enabled the plugin."""

    name: str
    fn: Callable[..., Awaitable[Any]]
    queue: str = "default"
    max_retries: int = 5
    plugin_id: str | None = None


@dataclass(frozen=True)
class ConsumerSpec:
    """A long-running task of the worker process, e.g. a Redis stream consumer.

    ``samverka worker`` starts ``fn(runtime)`` on its event loop after boot, restarts it (after a
    pause) when it raises, and cancels it on shutdown. ``fn`` serves every tenant, so it must
    scope its own work with ``runtime.db.tenant(...)`` and check enablement itself.
    """

    name: str
    fn: Callable[[Runtime], Awaitable[None]]


Audience = Literal["municipality", "staff", "federation"]


@dataclass(frozen=True)
class WebPage:
    """A page of the web UI a plugin contributes; ``audience`` says where it lives and who sees it.

    * ``"municipality"``: mounted at ``/web/plugins/<plugin id>/<path>``, only in municipalities
      that enabled the plugin (404 elsewhere), listed in the main navigation.
    * ``"staff"``: mounted and guarded the same way, listed on the staff home ``/web/staff`` (made
      for phones) instead of the main navigation. The handler checks the staff role itself.
    * ``"federation"``: mounted at ``/web/federation/<plugin id>/<path>`` for federation
      administrators only (403 for anyone else), with no municipality chosen and no enablement
      guard (the handler reports per member, e.g. "not enabled"); listed on the federation's pages.

    ``path`` is where the page's link points, relative to its mount; ``handler`` is a litestar route
    handler or router, mounted under the same prefix. ``roles`` (kernel role values, e.g.
    ``"tenant_admin"``; empty: everyone of the audience) says whom the link is shown to, so nobody
    is offered a page that answers 403; the handler still checks access itself. A plugin's
    templates live in ``templates/`` beside the module that defines its first plain handler and
    are named ``<plugin id>/<file>``.
    """

    path: str
    title: Name
    handler: Any  # a litestar route handler or router
    audience: Audience = "municipality"
    roles: frozenset[str] = frozenset()

    def shown_to(self, roles: Iterable[Any]) -> bool:
        """Whether a user holding ``roles`` (kernel ``Role`` members or their values) in the
        municipality is offered the link; a federation administrator, whom the kernel's role checks
        let in everywhere, always is. Compared by value: an Enum member hashes by its name."""
        held = {str(getattr(role, "value", role)) for role in roles}
        return not self.roles or bool(held & (self.roles | {"federation_admin"}))

    def href(self, plugin_id: str) -> str:
        """Where the page's link points."""
        root = "/web/federation" if self.audience == "federation" else "/web/plugins"
        return f"{root}/{plugin_id}/{self.path.lstrip('/')}"


SECRET = "secret"


def secret(description: str = "") -> msgspec.Meta:
    """Mark a configuration field secret: write-only through the API, never shown again."""
    return msgspec.Meta(description=description, extra={SECRET: True})


SecretStr = Annotated[str, secret()]


@dataclass(frozen=True)
class Plugin:
    id: str
    version: str
    name: Name
    description: Name
    requires_core: str = ">=0.1"
    depends_on: Mapping[str, str] = field(default_factory=dict)
    piccolo_app: str | None = None
    query: type | None = None
    # Query fields across the federation's members (federation admins): no municipality is chosen,
    # so they are not behind the enablement guard and check access and enablement themselves.
    federation_query: type | None = None
    federation_mutation: type | None = None  # the same for mutations (e.g. vendors, who act for no municipality)
    mutation: type | None = None
    subscription: type | None = None
    types: tuple[type, ...] = ()
    actors: tuple[ActorSpec, ...] = ()
    consumers: tuple[ConsumerSpec, ...] = ()
    pages: tuple[WebPage, ...] = ()
    config: type[msgspec.Struct] | None = None
    scopes: frozenset[str] = frozenset()
    # Named extension points another plugin offers, e.g. ``{"lockers.events": fn}``: the offering
    # plugin calls ``fn`` (for tenants that enabled this plugin) with arguments it documents.
    hooks: Mapping[str, Callable[..., Awaitable[Any]]] = field(default_factory=dict)
