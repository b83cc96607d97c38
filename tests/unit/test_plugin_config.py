"""Plugin configuration is checked field by field; secrets are kept apart."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from backend.lib import ValidationFailed
from plugins.config import describe, load, validate
from plugins.contract import secret


class Config(msgspec.Struct, forbid_unknown_fields=True):
    signature: Annotated[str, msgspec.Meta(min_length=1, description="Signed under notices.")]
    max_length: Annotated[int, msgspec.Meta(ge=10, le=2000)] = 500
    api_key: Annotated[str, secret("Key of the vendor API.")] = ""


def problems(given: dict[str, object], stored: dict[str, object] | None = None) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        validate(Config, given, stored)
    return {f.field: f.message for f in caught.value.fields}


def test_every_bad_field_is_reported_at_once_on_its_own_path() -> None:
    found = problems({"max_length": "many", "colour": "red"})
    assert set(found) == {"config.signature", "config.max_length", "config.colour"}
    assert found["config.signature"] == "This setting is required."
    assert found["config.colour"] == "Unknown setting."
    assert "Expected `int`, got `str`" in found["config.max_length"]


def test_constraints_are_enforced() -> None:
    assert "config.max_length" in problems({"signature": "x", "max_length": 5})


def test_secrets_are_split_off_kept_when_left_out_and_cleared_with_null() -> None:
    first = validate(Config, {"signature": "Hemtjänsten", "api_key": "s3cret"})
    assert first.public == {"signature": "Hemtjänsten"} and first.secrets == {"api_key": "s3cret"}
    kept = validate(Config, {"signature": "Ny"}, first.secrets)
    assert kept.secrets == {"api_key": "s3cret"}
    cleared = validate(Config, {"signature": "Ny", "api_key": None}, first.secrets)
    assert cleared.secrets == {}
    assert load(Config, kept.public, kept.secrets) == Config(signature="Ny", api_key="s3cret")


def test_the_schema_is_described_with_secrets_marked() -> None:
    fields = {f.name: f for f in describe(Config)}
    assert fields["api_key"].secret and not fields["signature"].secret
    assert fields["signature"].required and fields["max_length"].default == 500
    assert fields["signature"].description == "Signed under notices."
    assert fields["max_length"].type == "int"


def test_a_plugin_without_configuration_refuses_any() -> None:
    with pytest.raises(ValidationFailed):
        validate(None, {"x": 1})
    assert validate(None, {}).public == {}


def test_a_configuration_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValidationFailed):
        validate(Config, ["signature"])  # type: ignore[arg-type]
