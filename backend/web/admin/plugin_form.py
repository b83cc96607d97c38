"""A plugin's settings as an HTML form: fields from its msgspec schema, form text back to JSON values.

The rules stay in ``plugins.config``: this module only turns what a browser sends (strings) into the
JSON values the GraphQL API would send, and leaves anything it cannot read as the raw string, so
``plugins.config.validate`` reports it on its field with the same message the API gives. Those
messages (msgspec's) are then put into words in the user's language.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from backend.lib import FieldError
from backend.web.i18n import N_, current_language, gettext
from plugins.config import ConfigField

CONFIG_PREFIX = "config."
CLEAR_PREFIX = "clear."
NUMBER_TYPES = {"int": "number", "float": "number"}
CHECKED = {"1", "true", "on"}


@dataclass(frozen=True)
class FormField:
    """One setting as the form shows it."""

    name: str  # the setting's name in the schema
    input_name: str  # the form control's name
    label: str
    kind: str  # text | number | checkbox | secret
    value: str  # what the control shows (never a secret's value)
    checked: bool
    required: bool
    secret_set: bool
    inputmode: str | None  # "numeric" for whole numbers, "decimal" for decimals
    default: str  # the default as shown ("" when there is none, and always for secrets)
    errors: tuple[str, ...]


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
        return text.replace(".", ",") if current_language() == "sv" else text
    if isinstance(value, str | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _kind(spec: ConfigField) -> str:
    if spec.secret:
        return "secret"
    if spec.type == "bool":
        return "checkbox"
    return NUMBER_TYPES.get(spec.type, "text")


def form_fields(
    schema: list[ConfigField],
    stored: Mapping[str, Any],
    secrets_set: tuple[str, ...] | frozenset[str],
    *,
    submitted: Mapping[str, str] | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> list[FormField]:
    """The controls for ``schema``: the stored values (defaults where none is stored), or what was
    submitted when the form comes back with errors."""
    result = []
    for spec in schema:
        input_name = CONFIG_PREFIX + spec.name
        kind = _kind(spec)
        if kind == "secret":
            value = ""
        elif submitted is not None:
            value = submitted.get(input_name, "")
        else:
            value = _shown(stored.get(spec.name, spec.default))
        result.append(
            FormField(
                name=spec.name,
                input_name=input_name,
                label=gettext(spec.description) if spec.description else spec.name,
                kind=kind,
                value=value,
                checked=value in CHECKED if kind == "checkbox" else False,
                required=spec.required,
                secret_set=spec.name in secrets_set,
                inputmode={"int": "numeric", "float": "decimal"}.get(spec.type),
                default="" if spec.secret or spec.required else _shown(spec.default),
                errors=tuple((errors or {}).get(spec.name, [])),
            )
        )
    return result


def _number(text: str, kind: str) -> Any:
    """A whole or decimal number (a decimal comma is accepted); the text itself if it is none."""
    cleaned = text.replace("\u00a0", "").replace(" ", "")
    try:
        return int(cleaned) if kind == "int" else float(cleaned.replace(",", "."))
    except ValueError:
        return text


def config_from_form(schema: list[ConfigField], form: Mapping[str, str]) -> dict[str, Any]:
    """The configuration object the form stands for, as the API's ``config`` argument.

    An empty number or a required text left empty is left out (the default applies, or the
    validation says the setting is required); an empty secret is left out (the stored one is kept);
    a ticked "clear" box sends ``null`` (the secret is removed).
    """
    config: dict[str, Any] = {}
    for spec in schema:
        raw = form.get(CONFIG_PREFIX + spec.name, "")
        text = raw.strip()
        if spec.secret:
            if form.get(CLEAR_PREFIX + spec.name) and not spec.required:
                config[spec.name] = None
            elif raw:
                config[spec.name] = raw
        elif spec.type == "bool":
            config[spec.name] = text in CHECKED
        elif spec.type in NUMBER_TYPES:
            if text:
                config[spec.name] = _number(text, spec.type)
        elif spec.type == "str":
            if text or not spec.required:
                config[spec.name] = text
        elif text:
            try:
                config[spec.name] = json.loads(text)
            except ValueError:
                config[spec.name] = text
    return config


_EXPECTED_TYPE = re.compile(r"^Expected `(\w+)`, got `\w+`$")
_BOUND = re.compile(r"^Expected `(\w+)` (>=|<=|>|<) (-?[\d.]+)$")
_LENGTH = re.compile(r"^Expected `str` of length (>=|<=) (\d+)$")
_TYPE_MESSAGES = {
    "int": N_("Enter a whole number."),
    "float": N_("Enter a number."),
    "bool": N_("Choose yes or no."),
    "str": N_("Enter text."),
}
_BOUND_MESSAGES = {
    ">=": N_("Enter a value of at least %(limit)s."),
    "<=": N_("Enter a value of at most %(limit)s."),
    ">": N_("Enter a value greater than %(limit)s."),
    "<": N_("Enter a value less than %(limit)s."),
}
_LENGTH_MESSAGES = {
    ">=": N_("Use at least %(limit)s characters."),
    "<=": N_("Use at most %(limit)s characters."),
}


def _limit(text: str) -> str:
    number = float(text)
    shown = str(int(number)) if number.is_integer() else text
    return shown.replace(".", ",") if current_language() == "sv" else shown


def setting_message(message: str) -> str:
    """A validation message of ``plugins.config`` in the user's language (msgspec's are English)."""
    if found := _EXPECTED_TYPE.match(message):
        return gettext(_TYPE_MESSAGES.get(found.group(1), N_("The value has the wrong type.")))
    if found := _BOUND.match(message):
        return gettext(_BOUND_MESSAGES[found.group(2)], limit=_limit(found.group(3)))
    if found := _LENGTH.match(message):
        return gettext(_LENGTH_MESSAGES[found.group(1)], limit=found.group(2))
    return gettext(message)


def setting_errors(fields: list[FieldError]) -> tuple[dict[str, list[str]], list[str]]:
    """Errors per setting name (``config.<name>``), and the rest (unknown settings, other fields)."""
    by_setting: dict[str, list[str]] = {}
    other: list[str] = []
    for problem in fields:
        if problem.field.startswith(CONFIG_PREFIX):
            by_setting.setdefault(problem.field[len(CONFIG_PREFIX) :], []).append(setting_message(problem.message))
        else:
            other.append(gettext(problem.message))
    return by_setting, other


__all__ = ["FormField", "config_from_form", "form_fields", "setting_errors", "setting_message"]
