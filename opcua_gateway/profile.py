"""The vendor profile format: a declarative description of one vendor's address space.

A profile says how to find lockers and compartments (wildcard browse paths, node-id
templates, arrays indexed by compartment), which node feeds each canonical
``CompartmentState`` field (with unit conversion and enum maps), whether to subscribe
or poll, how each command is executed and confirmed, which vendor events become
alarms, and where the locker's keypad entries come from. ``profile_loader.load_profile``
reads and checks a file into these structs.

Templates are Python format strings over named variables (``"{site}/{cabinet}"``); the
loader checks every name a template uses against what the context provides.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from opcua_gateway.contracts import AlarmKind, Severity, SizeClass, SlotStatus, TemperatureClass

StateField = Literal["door_open", "locked", "occupied", "temperature_c", "setpoint_c", "temperature_class",
                     "size_class"]
STATE_FIELDS: tuple[StateField, ...] = ("door_open", "locked", "occupied", "temperature_c", "setpoint_c",
                                        "temperature_class", "size_class")
# The canonical type of each field.
FIELD_TYPES: dict[str, type] = {
    "door_open": bool, "locked": bool, "occupied": bool, "temperature_c": float, "setpoint_c": float,
    "temperature_class": TemperatureClass, "size_class": SizeClass,
}
VendorType = Literal["bool", "int", "float", "str"]
VariantName = Literal["Boolean", "SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64", "Float",
                      "Double", "String"]
Base = Literal["locker", "compartment"]
Scalar = str | bool | float


class _Spec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Profile parts: immutable, and a misspelt key is an error, not a silently ignored line."""


class Locate(_Spec, frozen=True, kw_only=True):
    """How to find lockers (from the Root node) or compartments (from each locker node).

    ``browse`` is a ``/``-separated browse path whose segments are shell wildcards matched
    against browse names (``Objects/Kylbox/Lockers/*``). For compartments ``array`` instead
    names an array variable below the locker: one compartment per element. Named groups of
    ``name_pattern`` (on the browse name) and ``id_pattern`` (on the node id text), and the
    variables of ``read`` (name -> relative path of a variable read once) become template
    variables; ``key`` renders the locker id or compartment key from them.
    """

    browse: str | None = None
    array: str | None = None
    name_pattern: str | None = None
    id_pattern: str | None = None
    read: dict[str, str] = {}
    key: str = "{name}"


class NodeRef(_Spec, frozen=True, kw_only=True):
    """One node: a relative browse ``path`` from ``base``, or a node-id template ``id``
    (``ns={ns};s=Site/{cabinet}/Door{door}``; ``{ns}`` is the index of the profile's namespace)."""

    path: str | None = None
    id: str | None = None
    base: Base | None = None  # default: the compartment node, or the locker for array compartments


class FieldSource(NodeRef, frozen=True, kw_only=True):
    """Where a canonical field comes from and how the vendor value converts.

    ``const`` gives a fixed value instead of a node. ``index`` picks the compartment's
    element of an array value. Numbers convert as ``value * scale + offset``; ``map`` maps
    vendor values to canonical ones (a value missing from it is reported, never guessed);
    ``status`` maps vendor values to a slot status that overrides the derived one.
    """

    const: Scalar | msgspec.UnsetType | None = msgspec.UNSET
    index: bool = False
    type: VendorType | None = None
    scale: float = 1.0
    offset: float = 0.0
    map: dict[str | int, Scalar | None] | None = None
    status: dict[str | int, SlotStatus] = {}


class Fields(_Spec, frozen=True, kw_only=True):
    door_open: FieldSource | None = None
    locked: FieldSource | None = None
    occupied: FieldSource | None = None
    temperature_c: FieldSource | None = None
    setpoint_c: FieldSource | None = None
    temperature_class: FieldSource
    size_class: FieldSource

    def sources(self) -> dict[str, FieldSource]:
        return {name: src for name in STATE_FIELDS if (src := getattr(self, name)) is not None}


class Acquisition(_Spec, frozen=True, kw_only=True):
    mode: Literal["subscribe", "poll"] = "subscribe"
    publishing_interval_ms: Annotated[int, msgspec.Meta(gt=0)] = 250
    poll_interval_s: Annotated[float, msgspec.Meta(gt=0)] = 1.0


class Argument(_Spec, frozen=True, kw_only=True):
    type: VariantName
    value: Scalar  # a string is a template


class MethodCall(NodeRef, frozen=True, kw_only=True):
    """Call ``method`` (a browse name) on the object the node reference names
    (default: the base node itself). When ``ok_results`` is given, the method's first
    output must be one of them; ``result_messages`` explains the others."""

    method: str
    args: list[Argument] = []
    ok_results: list[str | int | bool] | None = None
    result_messages: dict[str | int, str] = {}


class Write(NodeRef, frozen=True, kw_only=True):
    type: VariantName
    value: Scalar  # a string is a template


class Confirm(_Spec, frozen=True, kw_only=True):
    """Success means ``field`` reaches ``equals`` (a template for strings) within the command's timeout."""

    field: StateField
    equals: Scalar
    tolerance: Annotated[float, msgspec.Meta(ge=0)] = 0.0


class CommandSpec(_Spec, frozen=True, kw_only=True):
    call: MethodCall | None = None
    write: Write | None = None
    confirm: Confirm | None = None


class Commands(_Spec, frozen=True, kw_only=True):
    unlock: CommandSpec | None = None
    set_setpoint: CommandSpec | None = None


class EventAlarm(_Spec, frozen=True, kw_only=True):
    """Vendor OPC UA events of ``type`` (a browse name below BaseEventType) -> canonical alarms.

    With ``active_field`` a true value raises and a false one clears the alarm; without it
    every event raises. ``message`` is a template over the event's fields."""

    type: str
    source: Literal["locker", "server"] = "locker"
    compartment_field: str | None = None
    active_field: str | None = None
    value_field: str | None = None
    alarm: AlarmKind = AlarmKind.VENDOR
    severity: Severity = Severity.WARNING
    message: str = "{Message}"


class KeypadVariable(NodeRef, frozen=True, kw_only=True):
    """A String variable of the locker (``path`` from the locker node, or an ``id`` template over
    the locker's variables) that shows what was typed. With ``clear_after_read`` the gateway
    consumes each entry by writing "" to it, and the keypad then shows the next one."""

    clear_after_read: bool = True


class KeypadEvent(_Spec, frozen=True, kw_only=True):
    """One OPC UA event of ``type`` (a browse name below BaseEventType) per entry, emitted by
    the locker object; the code is its field ``code_field``."""

    type: Annotated[str, msgspec.Meta(min_length=1)]
    code_field: Annotated[str, msgspec.Meta(min_length=1)] = "Code"


class Keypad(_Spec, frozen=True, kw_only=True):
    """The locker's keypad: every entry becomes one ``CodeEntered``. Give ``variable`` or ``event``."""

    variable: KeypadVariable | None = None
    event: KeypadEvent | None = None


class Profile(_Spec, frozen=True, kw_only=True):
    vendor: str
    namespace: str  # the vendor's namespace URI; its index is {ns} in node-id templates
    description: str = ""
    lockers: Locate
    compartments: Locate
    fields: Fields
    acquisition: Acquisition = Acquisition()
    commands: Commands = Commands()
    events: list[EventAlarm] = []
    keypad: Keypad | None = None

    def base_of(self, ref: NodeRef) -> Base:
        if ref.base is not None:
            return ref.base
        return "locker" if self.compartments.array is not None else "compartment"


def split_path(path: str) -> list[str]:
    """``"A/B/*"`` -> ["A", "B", "*"]; ``"."`` or ``""`` is the start node itself."""
    return [part for part in path.split("/") if part not in ("", ".")]
