"""Registering sites, gateway endpoints and lockers with their compartments: every problem
with the input is reported on its field at once, and nothing is saved unless all is well."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from backend import plugin_api as api
from backend.lib import FieldError
from opcua_gateway.contracts import SizeClass, TemperatureClass
from plugins.lockers import domain
from tenants import audit
from tenants.access import Actor

MAX_COMPARTMENTS = 200
VENDOR = re.compile(r"^[a-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class NewSite:
    name: str
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class NewEndpoint:
    name: str
    vendor: str
    url: str


@dataclass(frozen=True)
class NewCompartment:
    key: str
    temperature_class: TemperatureClass
    size_class: SizeClass


@dataclass(frozen=True)
class NewLocker:
    site_id: str
    endpoint_id: str
    vendor_locker_id: str
    name: str
    compartments: tuple[NewCompartment, ...]


def _text(problems: list[FieldError], field: str, value: str, limit: int, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        problems.append(FieldError(field, "Fill this in."))
    elif len(value) > limit:
        problems.append(FieldError(field, f"Use at most {limit} characters."))
    return value


def _refuse(problems: list[FieldError], what: str) -> None:
    if problems:
        raise api.ValidationFailed(f"The {what} could not be registered; nothing was saved.", problems)


async def register_site(scope: api.Scope, new: NewSite, *, actor: Actor) -> Any:
    problems: list[FieldError] = []
    name = _text(problems, "name", new.name, 200)
    address = _text(problems, "address", new.address, 500, required=False)
    if (new.latitude is None) != (new.longitude is None):
        problems.append(
            FieldError(
                "latitude" if new.latitude is None else "longitude", "Give both latitude and longitude, or neither."
            )
        )
    if new.latitude is not None and not -90 <= new.latitude <= 90:
        problems.append(FieldError("latitude", "Use a latitude between -90 and 90."))
    if new.longitude is not None and not -180 <= new.longitude <= 180:
        problems.append(FieldError("longitude", "Use a longitude between -180 and 180."))
    if name and await scope.connection.fetchval(
        "SELECT 1 FROM lockers_site WHERE tenant_id = $1 AND lower(name) = lower($2)", scope.tenant, name
    ):
        problems.append(FieldError("name", "A site with this name is registered already."))
    _refuse(problems, "site")
    row = await scope.connection.fetchrow(
        """INSERT INTO lockers_site (tenant_id, id, name, address, latitude, longitude)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        scope.tenant,
        uuid4(),
        name,
        address,
        new.latitude,
        new.longitude,
    )
    await audit.record(
        scope,
        actor=actor,
        action="lockers.site_registered",
        target_kind="locker_site",
        target_id=row["id"],
        details={"name": name},
    )
    return row


async def register_endpoint(scope: api.Scope, new: NewEndpoint, *, actor: Actor) -> Any:
    problems: list[FieldError] = []
    name = new.name.strip()
    if not domain.ENDPOINT_NAME.match(name):
        problems.append(FieldError("name", "Use 1-40 lower-case letters, digits and '-'."))
    if not VENDOR.match(new.vendor):
        problems.append(FieldError("vendor", "Use the vendor profile's name: 1-40 of a-z, 0-9, '_' and '-'."))
    url = new.url.strip()
    if not url.startswith("opc.tcp://") or len(url) > 500 or any(c.isspace() for c in url) or len(url) < 11:
        problems.append(FieldError("url", "Give the OPC UA address, e.g. opc.tcp://10.0.0.5:4840."))
    endpoint_id = domain.endpoint_id_for(scope.tenant, name)
    if not problems and await scope.connection.fetchval(
        "SELECT 1 FROM lockers_endpoint WHERE tenant_id = $1 AND id = $2", scope.tenant, endpoint_id
    ):
        problems.append(FieldError("name", "An endpoint with this name is registered already."))
    _refuse(problems, "endpoint")
    row = await scope.connection.fetchrow(
        """INSERT INTO lockers_endpoint (tenant_id, id, name, vendor, url) VALUES ($1, $2, $3, $4, $5)
           RETURNING *""",
        scope.tenant,
        endpoint_id,
        name,
        new.vendor,
        url,
    )
    await audit.record(
        scope,
        actor=actor,
        action="lockers.endpoint_registered",
        target_kind="locker_endpoint",
        target_id=endpoint_id,
        details={"vendor": new.vendor, "url": url},
    )
    return row


def _uuid(value: str) -> UUID | None:
    try:
        return UUID(value)
    except ValueError:
        return None


def _check_compartments(problems: list[FieldError], compartments: tuple[NewCompartment, ...]) -> None:
    if not 1 <= len(compartments) <= MAX_COMPARTMENTS:
        problems.append(FieldError("compartments", f"Give 1-{MAX_COMPARTMENTS} compartments."))
    seen: set[str] = set()
    for i, c in enumerate(compartments):
        key = c.key.strip()
        if not 0 < len(key) <= domain.MAX_COMPARTMENT_KEY:
            problems.append(FieldError(f"compartments[{i}].key", f"Use 1-{domain.MAX_COMPARTMENT_KEY} characters."))
        elif key in seen:
            problems.append(FieldError(f"compartments[{i}].key", f"The key '{key}' is given twice."))
        seen.add(key)


async def register_locker(scope: api.Scope, new: NewLocker, *, actor: Actor) -> Any:
    conn, tenant = scope.connection, scope.tenant
    problems: list[FieldError] = []
    name = _text(problems, "name", new.name, 200)
    vendor_id = _text(problems, "vendorLockerId", new.vendor_locker_id, domain.MAX_LOCKER_KEY)
    site_id = _uuid(new.site_id)
    if site_id is None or not await conn.fetchval(
        "SELECT 1 FROM lockers_site WHERE tenant_id = $1 AND id = $2", tenant, site_id
    ):
        problems.append(FieldError("siteId", "No such site here."))
    endpoint_known = await conn.fetchval(
        "SELECT 1 FROM lockers_endpoint WHERE tenant_id = $1 AND id = $2", tenant, new.endpoint_id
    )
    if not endpoint_known:
        problems.append(FieldError("endpointId", "No such endpoint here: register it first."))
    elif vendor_id and await conn.fetchval(
        "SELECT 1 FROM lockers_locker WHERE tenant_id = $1 AND endpoint_id = $2 AND vendor_locker_id = $3",
        tenant,
        new.endpoint_id,
        vendor_id,
    ):
        problems.append(FieldError("vendorLockerId", "This endpoint has a locker with this id already."))
    _check_compartments(problems, new.compartments)
    _refuse(problems, "locker")
    try:
        return await _insert_locker(scope, new, name, vendor_id, site_id, actor)
    except asyncpg.UniqueViolationError:  # registered by someone else in the meantime
        raise api.ValidationFailed.on("vendorLockerId", "This endpoint has a locker with this id already.") from None


async def _insert_locker(
    scope: api.Scope, new: NewLocker, name: str, vendor_id: str, site_id: UUID | None, actor: Actor
) -> Any:
    conn, tenant = scope.connection, scope.tenant
    row = await conn.fetchrow(
        """INSERT INTO lockers_locker (tenant_id, id, site_id, endpoint_id, vendor_locker_id, name)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        tenant,
        uuid4(),
        site_id,
        new.endpoint_id,
        vendor_id,
        name,
    )
    await conn.execute(
        """INSERT INTO lockers_compartment (tenant_id, id, locker_id, compartment_key, temperature_class, size_class)
           SELECT $1, gen_random_uuid(), $2, k, t, s FROM unnest($3::text[], $4::text[], $5::text[]) AS c(k, t, s)""",
        tenant,
        row["id"],
        [c.key.strip() for c in new.compartments],
        [c.temperature_class.value for c in new.compartments],
        [c.size_class.value for c in new.compartments],
    )
    await audit.record(
        scope,
        actor=actor,
        action="lockers.locker_registered",
        target_kind="locker",
        target_id=row["id"],
        details={
            "name": name,
            "endpoint_id": new.endpoint_id,
            "vendor_locker_id": vendor_id,
            "compartments": [c.key.strip() for c in new.compartments],
        },
    )
    return row
