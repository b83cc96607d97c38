"""Reading a contract's follow-up: who sees which lines, and the lines grouped by month and
municipality with their totals."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.procurement.access import PEOPLE, READ_SCOPE
from plugins.procurement.federation import Caller

LINES = """
SELECT f.month, f.municipality_id, COALESCE(m.name, '') AS municipality, f.service_level_id,
       COALESCE(s.metric, f.details->>'metric') AS metric, COALESCE(s.severity, f.details->>'severity') AS severity,
       COALESCE(f.details->>'unit', s.unit) AS unit, f.measured, f.target, f.breached, f.penalty_sek, f.details,
       f.computed_at
FROM procurement_followup f
LEFT JOIN procurement_service_level s ON s.federation_id = f.federation_id AND s.id = f.service_level_id
LEFT JOIN municipality m ON m.id = f.municipality_id AND m.federation_id = f.federation_id
WHERE f.contract_id = $1 AND ($2::date IS NULL OR f.month = $2) AND ($3::uuid IS NULL OR f.municipality_id = $3)
ORDER BY f.month, m.name, f.municipality_id, metric, severity NULLS FIRST, f.service_level_id
"""


def own_lines_only(c: Caller, contract: Any) -> UUID | None:
    """The municipality whose lines alone the caller sees, or None for all lines: federation
    admins, the leading municipality and the contract's vendor see all; a member municipality's
    people (or its token with procurement:read) see their own."""
    if c.federation_admin or (c.vendor_id is not None and c.vendor_id == contract["vendor_id"]):
        return None
    if c.municipality_id is None:
        raise api.PermissionDenied(
            "Choose your municipality (header 'X-Samverka-Tenant') to see its follow-up; "
            "only federation administrators and the contract's vendor see it without one."
        )
    api.check_access(c.principal, roles=PEOPLE, scope=READ_SCOPE)
    return None if c.municipality_id == contract["lead_municipality_id"] else c.municipality_id


@dataclass(frozen=True)
class Line:
    service_level_id: UUID
    metric: str
    severity: str | None
    unit: str
    measured: Decimal | None
    target: Decimal
    breached: bool
    penalty_sek: Decimal
    details: dict[str, Any]


@dataclass
class MunicipalityMonth:
    municipality_id: UUID
    municipality: str
    lines: list[Line] = field(default_factory=list)

    @property
    def breaches(self) -> int:
        return sum(x.breached for x in self.lines)

    @property
    def penalty_sek(self) -> Decimal:
        return sum((x.penalty_sek for x in self.lines), Decimal(0))


@dataclass
class Month:
    month: date
    computed_at: datetime
    municipalities: list[MunicipalityMonth] = field(default_factory=list)

    @property
    def breaches(self) -> int:
        return sum(m.breaches for m in self.municipalities)

    @property
    def penalty_sek(self) -> Decimal:
        return sum((m.penalty_sek for m in self.municipalities), Decimal(0))


async def months(scope: api.Scope, contract_id: UUID, month: date | None, municipality: UUID | None) -> list[Month]:
    """The stored follow-up, month by month, each municipality's lines with totals."""
    result: dict[date, Month] = {}
    by_municipality: dict[tuple[date, UUID], MunicipalityMonth] = {}
    for r in await scope.connection.fetch(LINES, contract_id, month, municipality):
        m = result.setdefault(r["month"], Month(r["month"], r["computed_at"]))
        key = (r["month"], r["municipality_id"])
        if key not in by_municipality:
            by_municipality[key] = MunicipalityMonth(r["municipality_id"], r["municipality"])
            m.municipalities.append(by_municipality[key])
        details = r["details"]
        by_municipality[key].lines.append(
            Line(
                r["service_level_id"],
                r["metric"],
                r["severity"],
                r["unit"],
                r["measured"],
                r["target"],
                r["breached"],
                r["penalty_sek"],
                json.loads(details) if isinstance(details, str) else dict(details),
            )
        )
    return list(result.values())
