"""Federations and their member municipalities (the tenants)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from backend.lib import Conflict, FieldError, NotFound, Page, PageRequest, ValidationFailed
from tenants import audit
from tenants.access import Actor
from tenants.database import Database, Scope
from tenants.tables import Federation, Municipality

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
CODE = re.compile(r"^\d{4}$")


@dataclass(frozen=True)
class MunicipalityRecord:
    id: UUID
    federation_id: UUID
    slug: str
    name: str
    code: str
    population: int | None
    created_at: datetime


def _municipality(row: dict[str, Any]) -> MunicipalityRecord:
    return MunicipalityRecord(**{k: row[k] for k in MunicipalityRecord.__dataclass_fields__})


def slugify(name: str) -> str:
    table = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "ü": "u"})
    return re.sub(r"[^a-z0-9]+", "-", name.lower().translate(table)).strip("-")


def validate_municipality(*, name: str, code: str, slug: str | None, population: int | None) -> str:
    """Check a new municipality's fields; returns the slug to use."""
    slug = slug or slugify(name)
    problems = []
    if not name.strip():
        problems.append(FieldError("name", "Give the municipality a name."))
    elif len(name.strip()) > 200:
        problems.append(FieldError("name", "Use at most 200 characters."))
    if not SLUG.match(slug):
        problems.append(FieldError("slug", "Use lower-case letters, digits and hyphens."))
    if not CODE.match(code):
        problems.append(FieldError("code", "The municipality code (kommunkod) is four digits, e.g. 1494."))
    if population is not None and population < 0:
        problems.append(FieldError("population", "Population cannot be negative."))
    if problems:
        raise ValidationFailed("The municipality could not be created.", problems)
    return slug


async def ensure_federation(scope: Scope, *, slug: str, name: str) -> UUID:
    existing = await Federation.select(Federation.id).where(Federation.slug == slug).first()
    if existing:
        return existing["id"]  # type: ignore[no-any-return]  # piccolo rows are untyped dicts
    federation_id = uuid4()
    await Federation.insert(Federation(id=federation_id, slug=slug, name=name))
    return federation_id


async def create_municipality(
    db: Database,
    *,
    federation_id: UUID,
    name: str,
    code: str,
    slug: str | None = None,
    population: int | None = None,
    actor: Actor,
) -> MunicipalityRecord:
    """Add a member municipality (a new tenant) and open its audit log."""
    slug = validate_municipality(name=name, code=code, slug=slug, population=population)
    tenant_id = uuid4()
    # One transaction, already scoped to the new tenant, so the row and its first audit entry land together.
    async with db.tenant(tenant_id) as scope:
        if not await Federation.exists().where(Federation.id == federation_id):
            raise NotFound("Federation", federation_id)
        if await Municipality.exists().where(Municipality.slug == slug):
            raise Conflict(f"A municipality with the slug '{slug}' already exists.")
        await Municipality.insert(
            Municipality(
                id=tenant_id,
                federation_id=federation_id,
                slug=slug,
                name=name.strip(),
                code=code,
                population=population,
            )
        )
        await audit.record(
            scope,
            actor=actor,
            action="municipality.created",
            target_kind="municipality",
            target_id=tenant_id,
            details={"name": name, "slug": slug, "code": code},
        )
    return await get_municipality(db, tenant_id)


async def get_municipality(db: Database, tenant_id: UUID) -> MunicipalityRecord:
    async with db.shared():
        row = await Municipality.select().where(Municipality.id == tenant_id).first()
    if row is None:
        raise NotFound("Municipality", tenant_id)
    return _municipality(row)


async def find_municipality(db: Database, ref: str) -> MunicipalityRecord:
    """By slug or id, as a client names it in a header or on the command line."""
    async with db.shared():
        query = Municipality.select()
        try:
            row = await query.where(Municipality.id == UUID(ref)).first()
        except ValueError:
            row = await query.where(Municipality.slug == ref.lower()).first()
    if row is None:
        raise NotFound("Municipality", ref)
    return _municipality(row)


async def list_municipalities(
    db: Database, page: PageRequest, *, federation_id: UUID | None = None, only: frozenset[UUID] | None = None
) -> Page[MunicipalityRecord]:
    """In name order; ``only`` restricts to the ids a caller may see."""
    query = Municipality.select().order_by(Municipality.slug).limit(page.first + 1)
    after = page.after_key()
    if after is not None:
        query = query.where(Municipality.slug > after)
    if federation_id is not None:
        query = query.where(Municipality.federation_id == federation_id)
    if only is not None:
        if not only:
            return Page([], [], False)
        query = query.where(Municipality.id.is_in(list(only)))
    async with db.shared():
        rows = [_municipality(r) for r in await query]
    return Page.from_rows(rows, [r.slug for r in rows], page)


async def all_municipalities(db: Database, *, federation_id: UUID | None = None) -> list[MunicipalityRecord]:
    """Every municipality, page by page (for operators' commands, not for the API)."""
    result: list[MunicipalityRecord] = []
    page = PageRequest(first=100)
    while True:
        chunk = await list_municipalities(db, page, federation_id=federation_id)
        result.extend(chunk.items)
        if not chunk.has_next:
            return result
        page = PageRequest(first=100, after=chunk.cursors[-1])
