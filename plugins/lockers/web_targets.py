"""The municipality's lockers and their compartments, grouped by site, for the staff pages'
choices (opening a compartment here, reporting a fault in the fault reports plugin): read with the
lockers plugin's own queries. Their options are the template ``lockers/staff/_target_options.html``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.lockers import queries


@dataclass(frozen=True)
class CompartmentChoice:
    id: UUID
    key: str
    temperature_class: str


@dataclass(frozen=True)
class LockerChoice:
    id: UUID
    name: str
    site: str
    compartments: tuple[CompartmentChoice, ...]


async def lockers(scope: api.Scope) -> list[LockerChoice]:
    """Every locker (by site, then name) with its compartments."""
    sites = {s["id"]: s["name"] for s in await queries.sites(scope)}
    found = []
    for row in await queries.lockers(scope, None):
        compartments, _ = await queries.compartments(scope, row["id"])
        choices = tuple(CompartmentChoice(c["id"], c["compartment_key"], c["temperature_class"]) for c in compartments)
        found.append(LockerChoice(row["id"], row["name"], sites.get(row["site_id"], ""), choices))
    return sorted(found, key=lambda locker: (locker.site, locker.name))


def parse_uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None
