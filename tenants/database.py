"""The only way tenant data is read or written: a transaction scoped to one tenant.

``Database.tenant(tenant_id)`` opens a transaction and sets ``app.tenant_id``
for it alone (``set_config(..., true)``); every piccolo query inside runs on
that connection, and row-level security filters it. Outside such a transaction
tenant tables read as empty and writes fail: the system fails closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from piccolo.engine.postgres import PostgresEngine
from piccolo.table import Table

AfterCommit = Callable[[], Awaitable[None]]


@dataclass
class Scope:
    """An open transaction: the tenant it is scoped to (``None`` for federation-level work)."""

    tenant_id: UUID | None
    connection: Any
    federation_id: UUID | None = None
    after_commit: list[AfterCommit] = field(default_factory=list)
    audit_hooks: tuple[Callable[[Any], Awaitable[None]], ...] = ()

    def on_commit(self, callback: AfterCommit) -> None:
        """Run ``callback`` once the transaction has committed (jobs, notifications)."""
        self.after_commit.append(callback)

    @property
    def tenant(self) -> UUID:
        if self.tenant_id is None:
            raise RuntimeError("this work needs a tenant transaction, not a federation-level one")
        return self.tenant_id


class Database:
    """The app role's engine, bound to every table, and the transaction helpers."""

    def __init__(self, engine: PostgresEngine) -> None:
        self.engine = engine
        self.audit_hooks: tuple[Callable[[Any], Awaitable[None]], ...] = ()

    def on_audit(self, hook: Callable[[Any], Awaitable[None]]) -> None:
        """Call ``hook(record)`` after commit for every audit record written (live updates)."""
        self.audit_hooks = (*self.audit_hooks, hook)

    def bind(self, tables: Iterable[type[Table]]) -> None:
        for table in tables:
            table._meta.db = self.engine

    async def start(self, max_size: int = 10) -> None:
        await self.engine.start_connection_pool(min_size=1, max_size=max_size)

    async def close(self) -> None:
        await self.engine.close_connection_pool()

    @asynccontextmanager
    async def tenant(self, tenant_id: UUID) -> AsyncIterator[Scope]:
        """A transaction in which the database shows this tenant's rows and no others."""
        async with self._transaction(tenant=str(tenant_id)) as scope:
            scope.tenant_id = tenant_id
            yield scope

    @asynccontextmanager
    async def shared(self, *, user_id: UUID | None = None) -> AsyncIterator[Scope]:
        """A federation-level transaction: tenant tables read as empty here.

        With ``user_id`` the user's own memberships become readable (sign-in).
        """
        async with self._transaction(tenant="", user=str(user_id) if user_id else "") as scope:
            yield scope

    @asynccontextmanager
    async def federation(self, federation_id: UUID, *, vendor_id: UUID | None = None) -> AsyncIterator[Scope]:
        """A transaction on one federation's shared data (tables led by ``federation_id`` with the
        ``federation_isolation`` policy); tenant tables read as empty. ``vendor_id`` is the vendor
        organisation the caller acts for, which policies may use (e.g. a vendor's own sealed bids)."""
        async with self._transaction(
            tenant="", federation=str(federation_id), vendor=str(vendor_id) if vendor_id else ""
        ) as scope:
            scope.federation_id = federation_id
            yield scope

    @asynccontextmanager
    async def _transaction(
        self, *, tenant: str, user: str = "", federation: str = "", vendor: str = ""
    ) -> AsyncIterator[Scope]:
        transaction = self.engine.transaction(allow_nested=False)
        async with transaction:
            connection = transaction.connection
            await connection.execute(
                """SELECT set_config('app.tenant_id', $1, true), set_config('app.user_id', $2, true),
                          set_config('app.federation_id', $3, true), set_config('app.vendor_id', $4, true)""",
                tenant,
                user,
                federation,
                vendor,
            )
            scope = Scope(tenant_id=None, connection=connection, audit_hooks=self.audit_hooks)
            yield scope
        for callback in scope.after_commit:
            await callback()
