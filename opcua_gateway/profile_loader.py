"""Load a vendor profile file and check what its structure alone cannot say.

Every error is a ``ConfigError`` naming the file, the line and the field, e.g.
``kylbox.yaml:14: fields.door_opn: Object contains unknown field `door_opn```.
"""

from __future__ import annotations

import re
import string
from enum import Enum
from pathlib import Path

import msgspec

from opcua_gateway.profile import FIELD_TYPES, FieldSource, Locate, NodeRef, Profile
from opcua_gateway.yamlsource import ConfigError, Document, PathKey, load

PROFILES_DIR = Path(__file__).resolve().parent / "profiles"
_BUNDLED_NAME = re.compile(r"^[a-z0-9_-]+$")
COMMAND_VARIABLES = frozenset({"setpoint_c", "setpoint_raw", "requested_by", "request_id"})


def profile_path(ref: str, relative_to: Path | None = None) -> Path:
    """A bundled profile by name (``kylbox``), or a file path (relative to the config file)."""
    if _BUNDLED_NAME.match(ref) and not ref.endswith((".yaml", ".yml")):
        return PROFILES_DIR / f"{ref}.yaml"
    path = Path(ref)
    return path if path.is_absolute() or relative_to is None else relative_to / path


def load_profile(ref: str | Path, relative_to: Path | None = None) -> Profile:
    file = ref if isinstance(ref, Path) else profile_path(ref, relative_to)
    doc = load(file)
    profile = doc.convert(Profile)
    _Checker(doc, profile).check()
    return profile


def template_names(template: str) -> set[str]:
    names = set()
    for _, name, _, _ in string.Formatter().parse(template):
        if name is not None:
            names.add(re.split(r"[.\[]", name, maxsplit=1)[0])
    return names


class _Checker:
    def __init__(self, doc: Document, profile: Profile) -> None:
        self.doc = doc
        self.profile = profile

    def fail(self, path: PathKey, message: str) -> ConfigError:
        return self.doc.error(path, message)

    def check(self) -> None:
        p = self.profile
        if p.lockers.browse is None or p.lockers.array is not None:
            raise self.fail(("lockers",), "lockers are found with `browse` (arrays index compartments only)")
        if (p.compartments.browse is None) == (p.compartments.array is None):
            raise self.fail(("compartments",), "give exactly one of `browse` or `array`")
        locker_vars = self._locate(("lockers",), p.lockers, {"name", "node_id", "ns"})
        shared = (locker_vars - {"name", "node_id"}) | {"locker", "ns"}
        own = {"index", "number", "name"} if p.compartments.array is not None else {"name", "node_id"}
        compartment_vars = self._locate(("compartments",), p.compartments, shared | own) | {"compartment"}
        for name, source in p.fields.sources().items():
            self._field(("fields", name), name, source, compartment_vars)
        self._commands(compartment_vars | COMMAND_VARIABLES)
        self._keypad(locker_vars | {"locker"})
        sources = p.fields.sources()
        for command in ("unlock", "set_setpoint"):
            spec = getattr(p.commands, command)
            if spec is not None and spec.confirm is not None and spec.confirm.field not in sources:
                raise self.fail(("commands", command, "confirm", "field"),
                                f"no source is given for `{spec.confirm.field}` in `fields`")

    def _locate(self, path: PathKey, locate: Locate, available: set[str]) -> set[str]:
        names = set(available) | set(locate.read)
        for attr in ("name_pattern", "id_pattern"):
            pattern = getattr(locate, attr)
            if pattern is None:
                continue
            try:
                names |= set(re.compile(pattern).groupindex)
            except re.error as exc:
                raise self.fail((*path, attr), f"not a valid regular expression: {exc}") from None
        self._template((*path, "key"), locate.key, names)
        return names

    def _template(self, path: PathKey, template: str, names: set[str]) -> None:
        try:
            used = template_names(template)
        except ValueError as exc:
            raise self.fail(path, f"not a valid template: {exc}") from None
        unknown = sorted(used - names)
        if unknown:
            raise self.fail(path, f"unknown template variable(s) {', '.join(unknown)}; "
                                  f"known here: {', '.join(sorted(names))}")

    def _node(self, path: PathKey, ref: NodeRef, names: set[str], *, optional: bool = False) -> None:
        if ref.path is not None and ref.id is not None:
            raise self.fail(path, "give `path` or `id`, not both")
        if ref.id is not None:
            self._template((*path, "id"), ref.id, names)
        elif ref.path is None and not optional:
            raise self.fail(path, "give a `path` (relative browse path) or an `id` (node-id template)")
        if ref.base == "compartment" and self.profile.compartments.array is not None:
            raise self.fail((*path, "base"), "array compartments have no node of their own; use base: locker")

    def _field(self, path: PathKey, name: str, source: FieldSource, names: set[str]) -> None:
        kind = FIELD_TYPES[name]
        if source.const is not msgspec.UNSET:
            if source.path is not None or source.id is not None:
                raise self.fail(path, "a `const` field has no `path` or `id`")
            self._canonical((*path, "const"), kind, source.const)
            return
        self._node(path, source, names)
        if source.index and self.profile.compartments.array is None:
            raise self.fail((*path, "index"), "`index` needs compartments found by `array`")
        for vendor_value, value in (source.map or {}).items():
            self._canonical((*path, "map", str(vendor_value)), kind, value)
        if source.map is None and kind in (bool, float) and source.type == "str":
            raise self.fail((*path, "type"), f"a `str` vendor value needs a `map` to become {kind.__name__}")

    def _canonical(self, path: PathKey, kind: type, value: object) -> None:
        if value is None:
            return
        if kind is bool:
            ok, expected = isinstance(value, bool), "a boolean"
        elif kind is float:
            ok, expected = isinstance(value, int | float) and not isinstance(value, bool), "a number"
        else:
            allowed = [str(member.value) for member in _members(kind)]
            ok, expected = value in allowed, "one of " + ", ".join(allowed)
        if not ok:
            raise self.fail(path, f"{value!r} is not a valid value; expected {expected}")

    def _commands(self, names: set[str]) -> None:
        for command in ("unlock", "set_setpoint"):
            spec = getattr(self.profile.commands, command)
            if spec is None:
                continue
            path: PathKey = ("commands", command)
            if (spec.call is None) == (spec.write is None):
                raise self.fail(path, "give exactly one of `call` or `write`")
            action = spec.call or spec.write
            key = "call" if spec.call is not None else "write"
            self._node((*path, key), action, names, optional=spec.call is not None)
            values: list[tuple[PathKey, object]] = (
                [(("args", i, "value"), a.value) for i, a in enumerate(spec.call.args)] if spec.call is not None
                else [(("value",), spec.write.value)])
            for sub, value in values:
                if isinstance(value, str):
                    self._template((*path, key, *sub), value, names)
            if spec.confirm is not None and isinstance(spec.confirm.equals, str):
                self._template((*path, "confirm", "equals"), spec.confirm.equals, names)


    def _keypad(self, names: set[str]) -> None:
        keypad = self.profile.keypad
        if keypad is None:
            return
        if (keypad.variable is None) == (keypad.event is None):
            raise self.fail(("keypad",), "give exactly one of `variable` or `event`")
        if keypad.variable is not None:
            if keypad.variable.base == "compartment":
                raise self.fail(("keypad", "variable", "base"),
                                "a keypad belongs to its locker: leave `base` out or use base: locker")
            self._node(("keypad", "variable"), keypad.variable, names)
        elif keypad.event is not None and keypad.event.type in {spec.type for spec in self.profile.events}:
            raise self.fail(("keypad", "event", "type"),
                            f"{keypad.event.type} is already mapped to alarms in `events`")


def _members(kind: type) -> list[Enum]:
    assert issubclass(kind, Enum)
    return list(kind)
