"""Per-tenant plugin configuration: validated field by field against the plugin's schema.

Every problem is reported at once, each on its field; secrets are split off so
the API can store them without ever returning them.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

import msgspec

from backend.lib import FieldError, ValidationFailed
from plugins.contract import SECRET


@dataclass(frozen=True)
class ConfigField:
    name: str
    type: str
    required: bool
    secret: bool
    description: str
    default: Any


def _meta(annotation: Any) -> tuple[bool, str]:
    secret, description = False, ""
    for extra in typing.get_args(annotation)[1:] if typing.get_origin(annotation) is typing.Annotated else ():
        if isinstance(extra, msgspec.Meta):
            secret = secret or bool((extra.extra or {}).get(SECRET))
            description = extra.description or description
    return secret, description


def _type_name(annotation: Any) -> str:
    base = typing.get_args(annotation)[0] if typing.get_origin(annotation) is typing.Annotated else annotation
    return getattr(base, "__name__", None) or str(base).replace("typing.", "")


def _struct_fields(schema: type[msgspec.Struct]) -> tuple[msgspec.inspect.Field, ...]:
    info = msgspec.inspect.type_info(schema)
    assert isinstance(info, msgspec.inspect.StructType)
    return info.fields


def describe(schema: type[msgspec.Struct]) -> list[ConfigField]:
    hints = typing.get_type_hints(schema, include_extras=True)
    fields = []
    for f in _struct_fields(schema):
        secret, description = _meta(hints[f.name])
        default = None if f.default is msgspec.NODEFAULT else f.default
        fields.append(ConfigField(f.encode_name, _type_name(hints[f.name]), f.required, secret, description, default))
    return fields


@dataclass(frozen=True)
class ValidConfig:
    public: dict[str, Any]
    secrets: dict[str, Any]


def validate(
    schema: type[msgspec.Struct] | None, given: dict[str, Any], stored_secrets: dict[str, Any] | None = None
) -> ValidConfig:
    """Check ``given`` (public values plus any new secret values) against ``schema``.

    Secrets left out keep their stored value; a secret given as ``null`` is cleared.
    """
    if not isinstance(given, dict):
        raise ValidationFailed.on("config", "The configuration must be a JSON object.")
    if schema is None:
        if given:
            raise ValidationFailed(
                "This plugin takes no configuration.",
                [FieldError(f"config.{k}", "Unknown setting.") for k in sorted(given)],
            )
        return ValidConfig({}, {})
    fields = {f.name: f for f in describe(schema)}
    hints = typing.get_type_hints(schema, include_extras=True)
    by_encode = {f.encode_name: f.name for f in _struct_fields(schema)}
    problems = [FieldError(f"config.{k}", "Unknown setting.") for k in sorted(set(given) - set(fields))]
    public: dict[str, Any] = {}
    secrets: dict[str, Any] = dict(stored_secrets or {})
    for name, spec in fields.items():
        if name not in given:
            if spec.secret and name in secrets:
                continue
            if spec.required:
                problems.append(FieldError(f"config.{name}", "This setting is required."))
            continue
        value = given[name]
        if value is None and spec.secret and not spec.required:
            secrets.pop(name, None)
            continue
        try:
            converted = msgspec.convert(value, hints[by_encode[name]])
        except msgspec.ValidationError as exc:
            problems.append(FieldError(f"config.{name}", str(exc).split(" - at ")[0]))
            continue
        (secrets if spec.secret else public)[name] = msgspec.to_builtins(converted)
    if problems:
        raise ValidationFailed("The configuration is invalid; nothing was saved.", problems)
    return ValidConfig(public, secrets)


def load(schema: type[msgspec.Struct], public: dict[str, Any], secrets: dict[str, Any]) -> Any:
    """The typed configuration a plugin's code reads (defaults filled in)."""
    return msgspec.convert({**public, **secrets}, schema)
