"""Swedish personal identity numbers (personnummer, and samordningsnummer with day + 60), as plain
Python: a valid number is a real date that is not in the future and a Luhn check digit
(the ``personnummer`` library); it is kept as twelve digits, YYYYMMDDNNNC."""

from __future__ import annotations

import re
from datetime import date

from personnummer import personnummer

from backend.lib import ValidationFailed

FIELD = "personalIdentityNumber"
# Ten or twelve digits, with or without the separator: what a person types, or pastes into a note.
CANDIDATE = re.compile(r"(?<!\d)(?:\d{6}|\d{8})[-+]?\d{4}(?!\d)")


def normalised(text: str, *, today: date) -> str:
    """The twelve digits of a valid number; a typed error otherwise."""
    try:
        number = personnummer.parse(text.strip())
        born = number.get_date()
    except personnummer.PersonnummerException:
        born = None
    if born is None or born > today:
        raise ValidationFailed.on(
            FIELD,
            "Ogiltigt personnummer (ÅÅÅÅMMDD-NNNN, kontrollsiffran stämmer inte eller datumet finns inte). "
            "/ Not a valid personal identity number (date or check digit).",
        )
    return str(number.format(True))


def contains_number(text: str) -> bool:
    """Whether free text holds something that is a valid personal identity number."""
    return any(personnummer.valid(m.group(0)) for m in CANDIDATE.finditer(text))
