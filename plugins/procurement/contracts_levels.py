"""Service levels of a contract: availability and temperature compliance in percent, fault response
and fix times in hours by severity. A level with a penalty is an SLA, one without a KPI that is
only followed. Follow-up results refer to the levels, so they are changed, never removed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from backend.lib import FieldError
from plugins.procurement import federation
from plugins.procurement.bidding_buyer import buyer_procurement
from plugins.procurement.bidding_input import money_problem, raise_problems
from plugins.procurement.federation import Caller

PERCENT_METRICS = ("availability", "temperature_compliance")
HOUR_METRICS = ("fault_response", "fault_fix")
SEVERITIES = ("critical", "high", "normal")
MAX_LEVELS = 50
MAX_TARGET = Decimal("9999999.999")  # numeric(10, 3)


@dataclass(frozen=True)
class Level:
    metric: str
    severity: str | None
    target: Decimal
    unit: str
    penalty_sek: Decimal


def _level_problems(i: int, level: Level) -> list[FieldError | None]:
    at = f"levels[{i}]"
    problems: list[FieldError | None] = []
    if level.metric not in PERCENT_METRICS + HOUR_METRICS:
        return [FieldError(f"{at}.metric", f"Choose one of {', '.join(PERCENT_METRICS + HOUR_METRICS)}.")]
    unit = "percent" if level.metric in PERCENT_METRICS else "hours"
    if level.unit != unit:
        problems.append(FieldError(f"{at}.unit", f"{level.metric} is measured in {unit}."))
    if level.metric in PERCENT_METRICS and level.severity is not None:
        problems.append(FieldError(f"{at}.severity", f"{level.metric} has no severity: leave it out."))
    if level.severity is not None and level.severity not in SEVERITIES:
        problems.append(FieldError(f"{at}.severity", f"Choose one of {', '.join(SEVERITIES)}."))
    try:
        exact = level.target.is_finite() and level.target == level.target.quantize(Decimal("0.001"))
    except InvalidOperation:
        exact = False
    if not exact:
        problems.append(FieldError(f"{at}.target", "Give the target as a number with at most three decimals."))
    elif unit == "percent" and not Decimal(0) <= level.target <= Decimal(100):
        problems.append(FieldError(f"{at}.target", "A percentage target is between 0 and 100."))
    elif unit == "hours" and not Decimal(0) < level.target <= MAX_TARGET:
        problems.append(FieldError(f"{at}.target", "A time target is more than 0 hours."))
    problems.append(money_problem(f"{at}.penaltySek", level.penalty_sek))
    return problems


def check_levels(levels: Sequence[Level]) -> None:
    problems: list[FieldError | None] = []
    if not 1 <= len(levels) <= MAX_LEVELS:
        problems.append(FieldError("levels", f"Give 1 to {MAX_LEVELS} service levels."))
    seen: set[tuple[str, str | None]] = set()
    for i, level in enumerate(levels):
        problems += _level_problems(i, level)
        if (level.metric, level.severity) in seen:
            problems.append(FieldError(f"levels[{i}]", "This metric and severity come twice: give each once."))
        seen.add((level.metric, level.severity))
    raise_problems("The service levels were not set; nothing changed.", problems)


async def set_service_levels(scope: api.Scope, c: Caller, contract_id: UUID, levels: Sequence[Level]) -> list[Any]:
    """Add or change the contract's levels, keyed by metric and severity (levels not named stay as they
    are: follow-up results refer to them). Logged with old and new values."""
    check_levels(levels)
    conn = scope.connection
    ct = await conn.fetchrow("SELECT * FROM procurement_contract WHERE id = $1", contract_id)
    if ct is None:
        raise api.NotFound("Contract", contract_id)
    await buyer_procurement(scope, c, ct["procurement_id"], lock=True)
    if ct["status"] != "active":
        raise api.Conflict(f"The contract is {ct['status']}: its service levels can no longer change.")
    existing = {
        (r["metric"], r["severity"]): r
        for r in await conn.fetch("SELECT * FROM procurement_service_level WHERE contract_id = $1", contract_id)
    }
    changes = []
    for level in levels:
        old = existing.get((level.metric, level.severity))
        if old is None:
            await conn.execute(
                """INSERT INTO procurement_service_level (federation_id, id, contract_id, metric, severity, target,
                                                          unit, penalty_sek) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""",
                scope.federation_id,
                uuid4(),
                contract_id,
                level.metric,
                level.severity,
                level.target,
                level.unit,
                level.penalty_sek,
            )
        else:
            await conn.execute(
                "UPDATE procurement_service_level SET target = $2, unit = $3, penalty_sek = $4 WHERE id = $1",
                old["id"],
                level.target,
                level.unit,
                level.penalty_sek,
            )
        changes.append(
            {
                "metric": level.metric,
                "severity": level.severity,
                "target": level.target,
                "unit": level.unit,
                "penalty_sek": level.penalty_sek,
                "before": None if old is None else {"target": old["target"], "penalty_sek": old["penalty_sek"]},
            }
        )
    await federation.log(
        scope,
        c,
        "procurement.service_levels_set",
        procurement_id=ct["procurement_id"],
        details={"contract_id": contract_id, "levels": changes},
    )
    return (await service_levels(scope, [contract_id]))[contract_id]


async def service_levels(scope: api.Scope, contract_ids: Sequence[UUID]) -> dict[UUID, list[Any]]:
    """The levels of each contract: by metric, then severity (critical first)."""
    rows = await scope.connection.fetch(
        """SELECT * FROM procurement_service_level WHERE contract_id = ANY($1::uuid[])
           ORDER BY metric, array_position(ARRAY['critical', 'high', 'normal']::varchar[], severity) NULLS FIRST""",
        list(contract_ids),
    )
    result: dict[UUID, list[Any]] = {cid: [] for cid in contract_ids}
    for r in rows:
        result[r["contract_id"]].append(r)
    return result
