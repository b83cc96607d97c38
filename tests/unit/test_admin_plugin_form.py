"""The administration's plugin settings form: browser text to the API's JSON values, and
msgspec's messages in Swedish; the rules themselves stay in plugins.config."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest

from backend.lib import ValidationFailed
from backend.web.admin.plugin_form import config_from_form, form_fields, setting_errors, setting_message
from backend.web.i18n import language
from plugins.config import describe, validate
from plugins.contract import secret


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    signature: Annotated[str, msgspec.Meta(min_length=1, max_length=80, description="Signed under every notice.")]
    limit: Annotated[int, msgspec.Meta(ge=10, le=2000, description="Longest notice, in characters.")] = 500
    hours: Annotated[float, msgspec.Meta(gt=0, le=72, description="Hours.")] = 24.0
    loud: bool = False
    note: str = ""
    token: Annotated[str, secret("Shared secret.")] = ""


SCHEMA = describe(Settings)


def test_numbers_take_a_decimal_comma_and_empty_ones_fall_back_to_the_default() -> None:
    form = {"config.signature": " IT ", "config.limit": "", "config.hours": "1,5", "config.note": ""}
    assert config_from_form(SCHEMA, form) == {"signature": "IT", "hours": 1.5, "loud": False, "note": ""}


def test_text_that_is_no_number_reaches_the_validation_which_refuses_it_on_its_field() -> None:
    config = config_from_form(SCHEMA, {"config.signature": "IT", "config.limit": "tolv"})
    with pytest.raises(ValidationFailed) as refused:
        validate(Settings, config)
    with language("sv"):
        by_setting, other = setting_errors(refused.value.fields)
    assert by_setting == {"limit": ["Ange ett heltal."]} and other == []


def test_an_empty_secret_keeps_the_stored_one_and_a_ticked_box_removes_it() -> None:
    kept = validate(Settings, config_from_form(SCHEMA, {"config.signature": "IT"}), {"token": "s3cret"})
    assert kept.secrets == {"token": "s3cret"}
    cleared = config_from_form(SCHEMA, {"config.signature": "IT", "clear.token": "1"})
    assert validate(Settings, cleared, {"token": "s3cret"}).secrets == {}


def test_a_required_text_left_empty_is_reported_as_required() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate(Settings, config_from_form(SCHEMA, {"config.signature": "  "}))
    assert [(f.field, f.message) for f in refused.value.fields] == [("config.signature", "This setting is required.")]


@pytest.mark.parametrize(
    ("message", "swedish"),
    [
        ("Expected `int` >= 10", "Ange ett värde som är minst 10."),
        ("Expected `float` > 0.0", "Ange ett värde som är större än 0."),
        ("Expected `float` <= 0.5", "Ange ett värde som är högst 0,5."),
        ("Expected `str` of length <= 80", "Använd högst 80 tecken."),
        ("Expected `bool`, got `str`", "Välj ja eller nej."),
    ],
)
def test_msgspec_messages_are_put_into_swedish(message: str, swedish: str) -> None:
    with language("sv"):
        assert setting_message(message) == swedish


def test_the_form_shows_stored_values_defaults_and_never_a_secret() -> None:
    with language("sv"):
        fields = {f.name: f for f in form_fields(SCHEMA, {"hours": 1.5}, ("token",))}
    assert fields["hours"].value == "1,5" and fields["hours"].inputmode == "decimal"
    assert fields["limit"].value == "500" and fields["limit"].default == "500"
    assert fields["token"].kind == "secret" and fields["token"].value == "" and fields["token"].secret_set
    assert fields["signature"].required and fields["loud"].kind == "checkbox" and not fields["loud"].checked
