"""A follow-up line in words, in Swedish (the default for municipal users) and English."""

from __future__ import annotations

from decimal import Decimal

from plugins.procurement.bidding_text import sek_en, sek_sv

NAMES = {
    "availability": ("Tillgänglighet", "Availability"),
    "temperature_compliance": ("Temperaturefterlevnad", "Temperature compliance"),
    "fault_response": ("Inställelsetid vid fel", "Fault response time"),
    "fault_fix": ("Åtgärdstid vid fel", "Fault fix time"),
}


def _number(value: Decimal, *, sv: bool) -> str:
    text = format(value.normalize(), "f")
    return text.replace(".", ",") if sv else text


def _amount(value: Decimal, unit: str, *, sv: bool) -> str:
    return f"{_number(value, sv=sv)} {'%' if unit == 'percent' else 'h'}"


def summary(
    metric: str, unit: str, measured: Decimal | None, target: Decimal, breached: bool, penalty: Decimal
) -> tuple[str, str]:
    """E.g. ``Tillgänglighet 97,8888 % (mål minst 99 %): ej uppfylld, vite 10 000,00 kr.``"""
    sv_name, en_name = NAMES.get(metric, (metric, metric))
    if measured is None:
        return (
            f"{sv_name}: inget att mäta för perioden (inga data ännu), inget vite.",
            f"{en_name}: nothing to measure for the period (no data yet); no penalty.",
        )
    sv_goal = f"mål {'minst' if unit == 'percent' else 'högst'} {_amount(target, unit, sv=True)}"
    en_goal = f"target {'at least' if unit == 'percent' else 'at most'} {_amount(target, unit, sv=False)}"
    sv_verdict = f"ej uppfylld, vite {sek_sv(penalty)}" if breached else "uppfylld"
    en_verdict = f"breached, penalty {sek_en(penalty)}" if breached else "met"
    return (
        f"{sv_name} {_amount(measured, unit, sv=True)} ({sv_goal}): {sv_verdict}.",
        f"{en_name} {_amount(measured, unit, sv=False)} ({en_goal}): {en_verdict}.",
    )
