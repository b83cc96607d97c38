"""Vendor profiles and the gateway configuration load, and their errors say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from opcua_gateway.config import load_config
from opcua_gateway.contracts import SlotStatus
from opcua_gateway.profile_loader import PROFILES_DIR, load_profile
from opcua_gateway.yamlsource import ConfigError

KYLBOX = (PROFILES_DIR / "kylbox.yaml").read_text()


def write(tmp_path: Path, text: str, name: str = "vendor.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


@pytest.mark.parametrize("vendor", ["kylbox", "frostlogik", "nordlas"])
def test_the_bundled_profiles_load(vendor: str) -> None:
    profile = load_profile(vendor)
    assert profile.vendor == vendor
    assert profile.namespace == f"urn:samverka:sim:{vendor}"
    assert profile.commands.unlock is not None and profile.commands.unlock.confirm is not None


def test_the_frostlogik_profile_polls_arrays_in_tenths() -> None:
    profile = load_profile("frostlogik")
    assert profile.acquisition.mode == "poll"
    assert profile.compartments.array == "DoorStates"
    temperature = profile.fields.temperature_c
    assert temperature is not None and temperature.index and temperature.scale == 0.1
    door = profile.fields.door_open
    assert door is not None and door.status == {2: SlotStatus.OUT_OF_ORDER}


def test_a_misspelt_field_is_an_error_naming_file_line_and_field(tmp_path: Path) -> None:
    text = KYLBOX.replace("  door_open: {path: DoorOpen", "  door_opn: {path: DoorOpen")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    error = caught.value
    assert error.file == str(path)
    assert error.line == line_of(text, "door_opn")
    assert error.field == "fields.door_opn"
    assert "unknown field" in error.message
    assert str(error).startswith(f"{path}:{error.line}: fields.door_opn:")


def test_a_wrong_value_type_names_the_nested_field(tmp_path: Path) -> None:
    text = KYLBOX.replace("publishing_interval_ms: 250", "publishing_interval_ms: fast")
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "acquisition.publishing_interval_ms"
    assert caught.value.line == line_of(text, "publishing_interval_ms")


def test_an_unknown_template_variable_is_named_with_the_known_ones(tmp_path: Path) -> None:
    text = KYLBOX.replace('key: "{n}"', 'key: "{number}"')
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "compartments.key"
    assert "number" in caught.value.message and "known here" in caught.value.message


def test_an_enum_map_to_a_value_the_contract_does_not_know_is_refused(tmp_path: Path) -> None:
    text = KYLBOX.replace("map: {chilled: chilled, frozen: frozen, ambient: ambient}",
                          "map: {chilled: chilled, frozen: deep-frozen, ambient: ambient}")
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "fields.temperature_class.map.frozen"
    assert "deep-frozen" in caught.value.message


def test_a_confirmation_on_a_field_without_a_source_is_refused(tmp_path: Path) -> None:
    text = KYLBOX.replace("  door_open: {path: DoorOpen, type: bool}\n", "")
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "commands.unlock.confirm.field"


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    text = KYLBOX.replace("  browse: Compartment*", "  browse: [Compartment*")
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.line is not None and caught.value.line >= line_of(text, "[Compartment*")


def test_a_bad_regular_expression_is_reported_where_it_is(tmp_path: Path) -> None:
    text = KYLBOX.replace('name_pattern: "^Compartment0*(?P<n>\\\\d+)$"', 'name_pattern: "^Compartment(?P<n"')
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "compartments.name_pattern"
    assert caught.value.line == line_of(text, "name_pattern")


CONFIG = """\
redis_url: unix:///tmp/redis.sock
outbox: data/outbox.sqlite3
pki_dir: data/pki
alarms: {door_ajar_s: 60}
endpoints:
  - id: 3f2a.kylbox-1
    url: opc.tcp://127.0.0.1:4841
    profile: kylbox
  - id: 3f2a.nordlas-1
    url: opc.tcp://127.0.0.1:4843
    profile: nordlas
    security: sign_and_encrypt
    trust: [certs/nordlas.der]
    username: gateway
    password_env: NORDLAS_PASSWORD
"""


def test_the_configuration_loads_with_paths_relative_to_its_file(tmp_path: Path) -> None:
    settings = load_config(write(tmp_path, CONFIG, "gateway.yaml"))
    assert settings.outbox == tmp_path / "data" / "outbox.sqlite3"
    kylbox, nordlas = settings.endpoints
    assert kylbox.profile.vendor == "kylbox" and kylbox.alarms.door_ajar_s == 60
    assert kylbox.trust == (tmp_path / "data" / "pki" / "trusted",)
    assert nordlas.trust == (tmp_path / "certs" / "nordlas.der",)
    assert nordlas.config.security == "sign_and_encrypt"


def test_a_configuration_error_names_the_endpoint_line(tmp_path: Path) -> None:
    text = CONFIG.replace("url: opc.tcp://127.0.0.1:4843", "url: http://127.0.0.1:4843")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text, "gateway.yaml"))
    assert caught.value.field == "endpoints[1].url"
    assert caught.value.line == line_of(text, "http://")


def test_a_broken_profile_stops_the_configuration_with_the_profile_file_named(tmp_path: Path) -> None:
    write(tmp_path, KYLBOX.replace("vendor: kylbox", "vendr: kylbox"), "custom.yaml")
    text = CONFIG.replace("profile: kylbox", "profile: custom.yaml")
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text, "gateway.yaml"))
    assert caught.value.file == str(tmp_path / "custom.yaml")


KEYPAD = "  variable: {path: Keypad/Entry, clear_after_read: true}"


def test_each_bundled_profile_says_where_its_keypad_entries_come_from() -> None:
    kylbox, frostlogik, nordlas = (load_profile(vendor).keypad for vendor in ("kylbox", "frostlogik", "nordlas"))
    assert kylbox is not None and kylbox.variable is not None and kylbox.variable.path == "Keypad/Entry"
    assert frostlogik is not None and frostlogik.variable is not None and frostlogik.variable.clear_after_read
    assert nordlas is not None and nordlas.event is not None
    assert (nordlas.event.type, nordlas.event.code_field) == ("NordlasKeypadEventType", "Code")


def test_a_misspelt_keypad_key_is_an_error_naming_file_line_and_field(tmp_path: Path) -> None:
    text = KYLBOX.replace(KEYPAD, "  variable: {path: Keypad/Entry, clear_after_reed: true}")
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_profile(path)
    assert caught.value.file == str(path)
    assert caught.value.field == "keypad.variable.clear_after_reed"
    assert caught.value.line == line_of(text, "clear_after_reed")


def test_a_keypad_with_both_a_variable_and_an_event_is_refused(tmp_path: Path) -> None:
    text = KYLBOX.replace(KEYPAD, KEYPAD + "\n  event: {type: KylboxKeypadEventType}")
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "keypad"
    assert line_of(text, "keypad:") <= (caught.value.line or 0) <= line_of(text, "KylboxKeypadEventType")
    assert "exactly one of `variable` or `event`" in caught.value.message


def test_a_keypad_on_a_compartment_or_with_an_unknown_template_variable_is_refused(tmp_path: Path) -> None:
    text = KYLBOX.replace(KEYPAD, "  variable: {path: Keypad/Entry, base: compartment}")
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "keypad.variable.base"
    text = KYLBOX.replace(KEYPAD, '  variable: {id: "ns={ns};s=Keypads/{door}"}')
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "keypad.variable.id"
    assert "door" in caught.value.message and "locker" in caught.value.message


def test_a_keypad_event_without_a_type_is_refused(tmp_path: Path) -> None:
    text = KYLBOX.replace(KEYPAD, '  event: {type: "", code_field: Code}')
    with pytest.raises(ConfigError) as caught:
        load_profile(write(tmp_path, text))
    assert caught.value.field == "keypad.event.type"
    assert caught.value.line == line_of(text, "event:")
