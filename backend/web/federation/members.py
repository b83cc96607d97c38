"""The federation's member municipalities as its admins see them: name, code, population, how
many people have a role there, and which installed plugins each has enabled. Read with the
kernel's own services, each member in its own tenant transaction."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backend.lib import MAX_PAGE_SIZE, PageRequest
from plugins.contract import Plugin
from plugins.registry import PluginRegistry
from plugins.state import enabled_ids
from tenants.accounts import list_tenant_users
from tenants.database import Database, Scope
from tenants.provisioning import all_municipalities

# Swedish alphabetical order: å, ä and ö come after z (in that order).
_SWEDISH = str.maketrans({"å": "{", "ä": "|", "ö": "}", "æ": "|", "ø": "}"})


def swedish_order(name: str) -> str:
    """A sort key that puts names in Swedish alphabetical order (Grästorp before Götene)."""
    return name.casefold().translate(_SWEDISH)


@dataclass(frozen=True)
class Member:
    id: UUID
    slug: str
    name: str
    code: str
    population: int | None
    users: int
    enabled: frozenset[str]  # plugin ids enabled there (installed ones only)


async def count_users(scope: Scope) -> int:
    """People holding any role in the scope's municipality (page by page through the kernel)."""
    total, after = 0, None
    while True:
        page = await list_tenant_users(scope, PageRequest(first=MAX_PAGE_SIZE, after=after))
        total += len(page.items)
        if not page.has_next:
            return total
        after = page.cursors[-1]


async def members(db: Database, registry: PluginRegistry, federation_id: UUID) -> list[Member]:
    """Every member of the federation, in Swedish name order."""
    installed = {p.id for p in registry}
    result = []
    for m in await all_municipalities(db, federation_id=federation_id):
        async with db.tenant(m.id) as scope:
            enabled = await enabled_ids(scope)
            users = await count_users(scope)
        result.append(Member(m.id, m.slug, m.name, m.code, m.population, users, enabled & installed))
    return sorted(result, key=lambda x: (swedish_order(x.name), x.slug))


def plugin_columns(registry: PluginRegistry) -> list[Plugin]:
    """The installed plugins, in the registry's order (dependencies first)."""
    return list(registry)
