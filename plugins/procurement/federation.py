"""What every part of procurement shares: who the caller is at federation level, the
federation-level transaction, the append-only procurement log, ocids, and how each API module
hands its GraphQL roots to the plugin."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from tenants.access import Principal, require_signed_in
from tenants.database import Database

# OCDS ocid prefix of Samverka's procurements (a registered prefix would replace it).
OCID_PREFIX = "ocds-samverka"


@dataclass(frozen=True)
class Roots:
    """One API module's GraphQL contributions (any may be None)."""

    query: type | None = None
    mutation: type | None = None
    federation_query: type | None = None
    federation_mutation: type | None = None
    types: tuple[type, ...] = ()


@dataclass(frozen=True)
class Caller:
    """The principal at federation level: its federation, the municipality it acts in (when one
    is chosen), the vendor organisation it belongs to (vendor users), and whether it administers
    the federation."""

    principal: Principal
    federation_id: UUID
    municipality_id: UUID | None
    vendor_id: UUID | None
    federation_admin: bool

    @property
    def label(self) -> str:
        return self.principal.actor.label


async def federation_of_municipality(db: Database, municipality_id: UUID) -> UUID:
    async with db.shared() as scope:
        fid = await scope.connection.fetchval("SELECT federation_id FROM municipality WHERE id = $1", municipality_id)
    if fid is None:
        raise api.NotFound("Municipality", municipality_id)
    return UUID(str(fid))


async def caller(info: api.Info) -> Caller:
    """Resolve a resolver's caller; raises Unauthenticated for anonymous callers."""
    return await caller_of(api.database(info), info.context.principal)


async def caller_of(db: Database, p: Principal) -> Caller:
    """Resolve the caller of ``p`` (a resolver's or a web page's principal)."""
    require_signed_in(p)
    municipality = p.tenant_id
    federation = p.federation_id
    if federation is None and municipality is not None:  # an API token: its municipality's federation
        federation = await federation_of_municipality(db, municipality)
    if federation is None:
        raise api.PermissionDenied("This account belongs to no federation.")
    vendor: UUID | None = None
    if p.user_id is not None:
        async with db.federation(federation) as scope:
            vendor = await scope.connection.fetchval(
                "SELECT vendor_id FROM procurement_vendor_member WHERE federation_id = $1 AND user_id = $2",
                federation,
                p.user_id,
            )
    return Caller(p, federation, municipality, vendor, p.is_federation_admin)


def require_vendor(c: Caller) -> UUID:
    if c.vendor_id is None:
        raise api.PermissionDenied("This needs a vendor account (mutation registerVendor).")
    return c.vendor_id


def require_federation_admin(c: Caller) -> None:
    if not c.federation_admin:
        raise api.PermissionDenied("Only federation administrators do this.")


@asynccontextmanager
async def shared(info: api.Info, c: Caller) -> AsyncIterator[api.Scope]:
    """The caller's federation-level transaction (with its vendor, for sealed bids)."""
    async with api.database(info).federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        yield scope


async def log(
    scope: api.Scope,
    c: Caller | None,
    action: str,
    *,
    procurement_id: UUID | None = None,
    details: dict[str, Any] | None = None,
    label: str = "",
) -> None:
    """Append to the procurement log (append-only; the federation's audit trail)."""
    p = c.principal if c else None
    await scope.connection.execute(
        """INSERT INTO procurement_log (federation_id, procurement_id, actor_kind, actor_id, actor_label,
                                        municipality_id, vendor_id, action, details)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)""",
        scope.federation_id,
        procurement_id,
        p.actor.kind if p else "system",
        p.actor.id if p else None,
        (p.actor.label if p else label or "system")[:320],
        c.municipality_id if c else None,
        c.vendor_id if c else None,
        action,
        json.dumps(details or {}, default=str),
    )


def ocid(procurement_id: UUID) -> str:
    return f"{OCID_PREFIX}-{procurement_id}"
