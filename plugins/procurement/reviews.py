"""Shared experience: a municipality that has used a vendor's contract (a call-off under it, or a
share in its procurement) reviews the vendor, and the whole federation reads the reviews before
it buys again. A vendor reads its own reviews, without who wrote them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from backend.lib import FieldError
from plugins.procurement.access import ADMINS, PEOPLE, READ_SCOPE, WRITE_SCOPE
from plugins.procurement.federation import Caller, log
from tenants import audit
from tenants.database import Database

MAX_TEXT = 4000

# Contracts of the vendor that the municipality has used: a call-off, or a share in the procurement.
USED = """
SELECT c.id, c.procurement_id FROM procurement_contract c
WHERE c.vendor_id = $1 AND ($3::uuid IS NULL OR c.id = $3) AND (
  EXISTS (SELECT 1 FROM procurement_call_off o
          WHERE o.federation_id = c.federation_id AND o.contract_id = c.id AND o.municipality_id = $2)
  OR EXISTS (SELECT 1 FROM procurement_participant p
             WHERE p.federation_id = c.federation_id AND p.procurement_id = c.procurement_id
               AND p.municipality_id = $2 AND p.withdrawn_at IS NULL))
ORDER BY c.signed_at DESC LIMIT 1
"""
REVIEWS = """
SELECT r.id, r.vendor_id, r.contract_id, r.municipality_id, COALESCE(m.name, '') AS municipality, r.rating, r.text,
       r.author, r.created_at
FROM procurement_review r LEFT JOIN municipality m ON m.id = r.municipality_id AND m.federation_id = r.federation_id
WHERE r.vendor_id = $1 ORDER BY r.created_at DESC, r.id
"""


@dataclass(frozen=True)
class Review:
    id: UUID
    vendor_id: UUID
    contract_id: UUID | None
    municipality_id: UUID
    municipality: str
    rating: int
    text: str
    author: str | None  # None: hidden (from vendors)
    created_at: datetime


@dataclass(frozen=True)
class Reviews:
    vendor_id: UUID
    vendor_name: str
    reviews: list[Review]

    @property
    def average_rating(self) -> Decimal | None:
        if not self.reviews:
            return None
        mean = Decimal(sum(r.rating for r in self.reviews)) / len(self.reviews)
        return mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


def _review(row: Any, *, show_author: bool) -> Review:
    values = dict(row)
    if not show_author:
        values["author"] = None
    return Review(**values)


def checked_text(rating: int, text: str) -> str:
    problems = []
    if not 1 <= rating <= 5:
        problems.append(FieldError("rating", "Give a rating from 1 (poor) to 5 (excellent)."))
    text = text.strip()
    if not text:
        problems.append(FieldError("text", "Say in a few words what the rating is based on."))
    elif len(text) > MAX_TEXT:
        problems.append(FieldError("text", f"Keep the review to at most {MAX_TEXT} characters (it has {len(text)})."))
    if problems:
        raise api.ValidationFailed("The review was not saved: " + " ".join(p.message for p in problems), problems)
    return text


def reviewer(c: Caller) -> UUID:
    """The municipality a review is written for, once the caller is a person who administers it."""
    if c.municipality_id is None or c.principal.actor.kind != "user":
        raise api.PermissionDenied(
            "Reviews are written by a municipality's admin, signed in with the municipality chosen "
            "(header 'X-Samverka-Tenant')."
        )
    return api.check_access(c.principal, roles=ADMINS, scope=WRITE_SCOPE)


async def review(
    db: Database, c: Caller, *, vendor_id: UUID, contract_id: UUID | None, rating: int, text: str
) -> Review:
    """Record a municipality admin's review of a vendor whose contract the municipality has used."""
    municipality = reviewer(c)
    text = checked_text(rating, text)
    async with db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        conn = scope.connection
        if await conn.fetchval("SELECT 1 FROM procurement_vendor WHERE id = $1", vendor_id) is None:
            raise api.NotFound("Vendor", vendor_id)
        if contract_id is not None:
            owner = await conn.fetchval("SELECT vendor_id FROM procurement_contract WHERE id = $1", contract_id)
            if owner is None:
                raise api.NotFound("Contract", contract_id)
            if owner != vendor_id:
                raise api.ValidationFailed.on("contractId", "That contract is with another vendor.")
        used = await conn.fetchrow(USED, vendor_id, municipality, contract_id)
        if used is None:
            raise api.PermissionDenied(
                "Your municipality can review a vendor once it has used the vendor's contract: "
                "placed a call-off under it or taken part in its procurement."
            )
        row = await conn.fetchrow(
            """INSERT INTO procurement_review (federation_id, id, vendor_id, contract_id, municipality_id, rating,
                                               text, author)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               RETURNING id, vendor_id, contract_id, municipality_id, '' AS municipality, rating, text, author,
                         created_at""",
            scope.federation_id,
            uuid4(),
            vendor_id,
            contract_id,
            municipality,
            rating,
            text,
            c.label[:320],
        )
        details = {
            "vendor_id": str(vendor_id),
            "contract_id": str(contract_id) if contract_id else None,
            "rating": rating,
            "review_id": str(row["id"]),
        }
        await log(scope, c, "procurement.vendor_reviewed", procurement_id=used["procurement_id"], details=details)
    async with db.tenant(municipality) as scope:
        await audit.record(
            scope,
            actor=c.principal.actor,
            action="procurement.vendor_reviewed",
            target_kind="procurement_vendor",
            target_id=vendor_id,
            details=details,
        )
        name = await scope.connection.fetchval("SELECT name FROM municipality WHERE id = $1", municipality)
    return _review({**dict(row), "municipality": name or ""}, show_author=True)


def reader(c: Caller, vendor_id: UUID) -> bool:
    """Whether the caller may read the vendor's reviews, and with their authors: the federation's
    admins and its municipalities' people do; the vendor itself does, without authors."""
    if c.federation_admin:
        return True
    if c.vendor_id is not None:
        if c.vendor_id != vendor_id:
            raise api.PermissionDenied("A vendor reads only the reviews of its own organisation.")
        return False
    if c.municipality_id is None:
        raise api.PermissionDenied(
            "Choose your municipality (header 'X-Samverka-Tenant') to read the federation's vendor reviews."
        )
    api.check_access(c.principal, roles=PEOPLE, scope=READ_SCOPE)
    return True


async def reviews(db: Database, c: Caller, vendor_id: UUID) -> Reviews:
    show_author = reader(c, vendor_id)
    async with db.federation(c.federation_id, vendor_id=c.vendor_id) as scope:
        name = await scope.connection.fetchval("SELECT name FROM procurement_vendor WHERE id = $1", vendor_id)
        if name is None:
            raise api.NotFound("Vendor", vendor_id)
        rows = await scope.connection.fetch(REVIEWS, vendor_id)
    return Reviews(vendor_id, name, [_review(r, show_author=show_author) for r in rows])
