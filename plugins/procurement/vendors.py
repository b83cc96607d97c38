"""Vendor organisations of a federation: registration (public), and who they are.

A vendor registers itself with its organisation number and one person's account; that person then
signs in with the kernel's ``login`` (no municipality is chosen) and bids for the organisation. The
account is an ordinary ``app_user`` of the federation, created and hashed by ``tenants.accounts``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend import plugin_api as api
from backend.lib import FieldError
from plugins.procurement import federation
from tenants import accounts
from tenants.access import Actor, Principal
from tenants.database import Database

ORG_NUMBER = re.compile(r"^([0-9]{6})-?([0-9]{4})$")
MAX_NAME = 200


@dataclass(frozen=True)
class NewVendor:
    federation: str  # the federation's slug
    name: str
    org_number: str
    contact_email: str
    user_name: str
    password: str


@dataclass(frozen=True)
class VendorRecord:
    id: UUID
    federation_id: UUID
    name: str
    org_number: str
    contact_email: str
    created_at: datetime
    user_id: UUID | None = None

    @classmethod
    def of(cls, row: Any, user_id: UUID | None = None) -> VendorRecord:
        return cls(
            row["id"],
            row["federation_id"],
            row["name"],
            row["org_number"],
            row["contact_email"],
            row["created_at"],
            user_id,
        )


def luhn_ok(digits: str) -> bool:
    """The Luhn check of a Swedish personal or organisation number (its ten digits)."""
    total = 0
    for i, ch in enumerate(digits):
        n = int(ch) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def normal_org_number(value: str) -> str | None:
    """``NNNNNN-NNNN`` when ``value`` is a well-formed organisationsnummer (dash optional), else None.

    Sole traders (enskild firma) use the owner's personnummer, so the third digit is not required
    to be 2 or more as it is for legal persons; the check digit is.
    """
    m = ORG_NUMBER.match(value.strip())
    if m is None or not luhn_ok(m.group(1) + m.group(2)):
        return None
    return f"{m.group(1)}-{m.group(2)}"


def check(new: NewVendor) -> str:
    """The normalised org number, or every problem of the input at once."""
    problems = []
    if not new.name.strip():
        problems.append(FieldError("input.name", "Give the organisation's name."))
    elif len(new.name.strip()) > MAX_NAME:
        problems.append(FieldError("input.name", f"Use at most {MAX_NAME} characters."))
    org = normal_org_number(new.org_number)
    if org is None:
        problems.append(
            FieldError(
                "input.orgNumber",
                "Give the organisation number as NNNNNN-NNNN (ten digits, the last a check digit); "
                "the Swedish Companies Registration Office (Bolagsverket) lists it.",
            )
        )
    if not new.federation.strip():
        problems.append(FieldError("input.federation", "Give the federation's short name (slug)."))
    email = new.contact_email.strip().lower()
    local_part, _, domain = email.partition("@")
    if not accounts.EMAIL.match(email) or len(email) > accounts.MAX_EMAIL or len(local_part) > 64 or len(domain) > 255:
        problems.append(FieldError("input.contactEmail", "Give a valid e-mail address; it is also the sign-in."))
    if not new.user_name.strip() or len(new.user_name.strip()) > accounts.MAX_NAME:
        problems.append(
            FieldError("input.userName", f"Give the name of the person who signs in (at most {accounts.MAX_NAME}).")
        )
    if len(new.password) < accounts.MIN_PASSWORD:
        problems.append(FieldError("input.password", f"Use at least {accounts.MIN_PASSWORD} characters."))
    if problems:
        raise api.ValidationFailed("The vendor could not be registered.", problems)
    assert org is not None
    return org


async def federation_by_slug(db: Database, slug: str) -> UUID:
    async with db.shared() as scope:
        fid = await scope.connection.fetchval("SELECT id FROM federation WHERE slug = $1", slug.strip().lower())
    if fid is None:
        raise api.NotFound("Federation", slug)
    return UUID(str(fid))


async def register(db: Database, new: NewVendor) -> VendorRecord:
    """Create the vendor, its first user (the contact e-mail signs in) and the membership; logged.

    A second registration of the same organisation number in the federation is a conflict, as is
    an e-mail that already has an account. Nothing is written unless everything succeeds.
    """
    org = check(new)
    fid = await federation_by_slug(db, new.federation)
    vendor_id = uuid4()
    try:
        async with db.federation(fid) as scope:
            if await scope.connection.fetchval(
                "SELECT 1 FROM procurement_vendor WHERE federation_id = $1 AND org_number = $2", fid, org
            ):
                raise api.Conflict(
                    f"A vendor with the organisation number {org} is already registered here; "
                    "sign in with its account instead."
                )
            user = await accounts.create_user(
                scope, email=new.contact_email, name=new.user_name, password=new.password, federation_id=fid
            )
            row = await scope.connection.fetchrow(
                """INSERT INTO procurement_vendor (federation_id, id, name, org_number, contact_email)
                   VALUES ($1, $2, $3, $4, $5) RETURNING *""",
                fid,
                vendor_id,
                new.name.strip(),
                org,
                user.email,
            )
            await scope.connection.execute(
                "INSERT INTO procurement_vendor_member (federation_id, vendor_id, user_id) VALUES ($1, $2, $3)",
                fid,
                vendor_id,
                user.id,
            )
            who = federation.Caller(Principal(Actor("user", user.id, user.email), fid), fid, None, vendor_id, False)
            await federation.log(
                scope,
                who,
                "procurement.vendor_registered",
                details={"vendor_id": vendor_id, "name": row["name"], "org_number": org, "user_id": user.id},
            )
    except asyncpg.UniqueViolationError:  # the same org number registered at the same moment
        raise api.Conflict(f"A vendor with the organisation number {org} is already registered here.") from None
    return VendorRecord.of(row, user.id)


async def get(scope: api.Scope, vendor_id: UUID) -> VendorRecord:
    row = await scope.connection.fetchrow("SELECT * FROM procurement_vendor WHERE id = $1", vendor_id)
    if row is None:
        raise api.NotFound("Vendor", vendor_id)
    return VendorRecord.of(row)
