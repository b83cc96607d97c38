"""``samverka gateway discover``: browse an unknown server and draft a vendor profile.

The draft guesses what it can (repeated objects with the same variables are the
compartments, their parents the lockers; field names by keywords; methods found on
them; a keypad from a String variable of the locker or an event type named "keypad")
and marks every guess with TODO for the human who finishes the profile. The
address space it saw is listed at the end as comments.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIdNames, ObjectIds

from opcua_gateway.transport import CONNECTION_ERRORS, std_node

# canonical field -> keywords in a variable's browse name (lower case), first match wins
GUESSES: dict[str, tuple[str, ...]] = {
    "door_open": ("dooropen", "door", "state"), "locked": ("locked", "lock", "bolt"),
    "occupied": ("occupied", "occupancy", "load"), "setpoint_c": ("setpoint", "tempset", "set"),
    "temperature_c": ("temperature", "temp"), "temperature_class": ("class", "zone"), "size_class": ("size",),
}
_MAX_NODES = 5000


class DiscoverError(RuntimeError):
    pass


@dataclass
class Seen:
    path: str
    name: str
    node: ua.NodeId
    node_class: ua.NodeClass
    data_type: str = ""
    value: object = None
    array: bool = False
    children: list[Seen] = field(default_factory=list)

    def variables(self) -> list[Seen]:
        return [c for c in self.children if c.node_class == ua.NodeClass.Variable]

    def methods(self) -> list[Seen]:
        return [c for c in self.children if c.node_class == ua.NodeClass.Method]


async def draft_profile(url: str, *, depth: int = 7, username: str | None = None,
                        password_env: str | None = None) -> str:
    client = Client(url, timeout=5)
    if username:
        client.set_user(username)
        if password_env:
            client.set_password(os.environ.get(password_env, ""))
    try:
        await client.connect()
    except CONNECTION_ERRORS as exc:
        raise DiscoverError(f"cannot connect to {url}: {exc}") from None
    try:
        namespaces = await client.get_namespace_array()
        root = Seen("Objects", "Objects", std_node(ObjectIds.ObjectsFolder), ua.NodeClass.Object)
        await _browse(client, [root], depth)
        keypad_events = await _keypad_event_types(client)
    finally:
        await client.disconnect()
    return render(url, namespaces, root, keypad_events)


async def _keypad_event_types(client: Client) -> dict[str, list[str]]:
    """Vendor event types right below BaseEventType whose name says keypad, with their fields."""
    found: dict[str, list[str]] = {}
    base = client.get_node(std_node(ObjectIds.BaseEventType))
    for child in await base.get_children(refs=ObjectIds.HasSubtype):
        name = (await child.read_browse_name()).Name or ""
        if child.nodeid.NamespaceIndex > 0 and "keypad" in name.lower():
            found[name] = [(await p.read_browse_name()).Name or "" for p in await child.get_properties()]
    return found


async def _browse(client: Client, level: list[Seen], depth: int) -> None:
    count = 0
    for _ in range(depth):
        nodes = [s for s in level if s.node_class == ua.NodeClass.Object]
        if not nodes or count > _MAX_NODES:
            return
        results = await client.browse_nodes([client.get_node(s.node) for s in nodes])
        level = []
        for seen, (_, result) in zip(nodes, results, strict=True):
            for ref in result.References or []:
                if not ref.IsForward or ref.NodeClass not in (ua.NodeClass.Object, ua.NodeClass.Variable,
                                                               ua.NodeClass.Method):
                    continue
                if ref.NodeId.NamespaceIndex == 0 and seen.path == "Objects":
                    continue  # the Server object and other standard nodes
                name = ref.BrowseName.Name or ""
                child = Seen(f"{seen.path}/{name}", name, ref.NodeId, ref.NodeClass)
                seen.children.append(child)
                level.append(child)
        count += len(level)
        await _describe(client, [s for s in level if s.node_class == ua.NodeClass.Variable])


async def _describe(client: Client, variables: list[Seen]) -> None:
    if not variables:
        return
    ids = [v.node for v in variables]
    values, types = await asyncio.gather(client.uaclient.read_attributes(ids, AttributeIds.Value),
                                         client.uaclient.read_attributes(ids, AttributeIds.DataType))
    for seen, value, data_type in zip(variables, values, types, strict=True):
        raw = value.Value.Value if value.Value is not None else None
        seen.value, seen.array = raw, isinstance(raw, list)
        type_id = data_type.Value.Value if data_type.Value is not None else None
        identifier = type_id.Identifier if isinstance(type_id, ua.NodeId) else None
        seen.data_type = ObjectIdNames.get(identifier, str(type_id)) if isinstance(identifier, int) else ""


def _compartments(root: Seen) -> list[Seen]:
    """The largest group of objects that share the same set of variable names."""
    objects: list[Seen] = []
    stack = [root]
    while stack:
        seen = stack.pop()
        stack.extend(seen.children)
        if seen.node_class == ua.NodeClass.Object and len(seen.variables()) >= 2:
            objects.append(seen)
    signatures = Counter(frozenset(v.name for v in o.variables()) for o in objects)
    if not signatures:
        return []
    best, _ = signatures.most_common(1)[0]
    return [o for o in objects if frozenset(v.name for v in o.variables()) == best]


def _pattern(names: list[str]) -> str:
    """A wildcard that matches all names: their common prefix + ``*`` (or the one name)."""
    if len(set(names)) == 1:
        return names[0]
    prefix = os.path.commonprefix(names)  # noqa: RUF071  # a common prefix of names is what is wanted
    return re.sub(r"\d+$", "", prefix) + "*"


def _wildcard_path(paths: list[str]) -> str:
    parts = [p.split("/") for p in paths]
    if len({len(p) for p in parts}) != 1:
        return "TODO"
    return "/".join(_pattern([p[i] for p in parts]) for i in range(len(parts[0])))


def _field_lines(variables: list[Seen], indexed: bool) -> list[str]:
    lines, used = [], set()
    for name, keywords in GUESSES.items():
        match = next((v for k in keywords for v in variables if k in v.name.lower() and v.name not in used), None)
        if match is None:
            lines.append(f"  {name}: {{path: TODO}}   # TODO: no variable looks like {name}")
            continue
        used.add(match.name)
        kind = {"Boolean": "bool", "Double": "float", "Float": "float", "String": "str"}.get(
            match.data_type, "int" if "Int" in match.data_type else "TODO")
        extra = ", index: true" if indexed else ""
        sample = match.value[0] if indexed and isinstance(match.value, list) and match.value else match.value
        note = f"# TODO check: {match.data_type} sample {sample!r}"
        if kind == "str" or name in ("temperature_class", "size_class"):
            note += "; map vendor values -> canonical (map: {...})"
        lines.append(f"  {name}: {{path: {match.name}, type: {kind}{extra}}}   {note}")
    return lines


def _keypad_lines(root: Seen, locker_path: str, events: dict[str, list[str]]) -> list[str]:
    below = [s for s in _all(root) if s.node_class == ua.NodeClass.Variable and s.data_type == "String"
             and s.path.startswith(locker_path + "/") and "keypad" in s.path[len(locker_path):].lower()]
    if below:
        path = below[0].path[len(locker_path) + 1:]
        return ["keypad:", f"  variable: {{path: {path}, clear_after_read: true}}   "
                           "# TODO check: does writing \"\" consume an entry?", ""]
    if events:
        name, fields = next(iter(events.items()))
        code = next((f for f in fields if "code" in f.lower()), "TODO")
        return ["keypad:", f"  event: {{type: {name}, code_field: {code}}}   # TODO check; fields: {', '.join(fields)}",
                ""]
    return ["# keypad: none found (keypad: {variable: {path: ...}} or {event: {type: ..., code_field: ...}})", ""]


def render(url: str, namespaces: list[str], root: Seen, keypad_events: dict[str, list[str]] | None = None) -> str:
    compartments = _compartments(root)
    first = compartments[0] if compartments else next((s for s in _all(root) if s.node.NamespaceIndex > 0), root)
    index = first.node.NamespaceIndex
    vendor_ns = namespaces[index] if 0 < index < len(namespaces) else "TODO"
    out = [f"# Draft profile from `samverka gateway discover {url}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC).",
           "# Every TODO needs a human; the address space seen is listed at the end.",
           "vendor: TODO-vendor-name", f"namespace: {vendor_ns}", ""]
    indexed = False
    if len(compartments) >= 2:
        lockers = sorted({c.path.rsplit("/", 1)[0] for c in compartments})
        out += ["lockers:", f"  browse: {_wildcard_path(lockers)}   # TODO check", "  key: \"{name}\"", "",
                "compartments:", f"  browse: {_pattern([c.name for c in compartments])}   # TODO check",
                "  key: \"{name}\"   # TODO: name_pattern with a named group for a shorter key", ""]
        sample = compartments[0]
        locker_path = sample.path.rsplit("/", 1)[0]
    else:
        arrays = [s for s in _all(root) if s.node_class == ua.NodeClass.Variable and s.array]
        holder = _parent(root, arrays[0]) if arrays else root
        indexed = bool(arrays)
        out += ["lockers:", f"  browse: {holder.path if arrays else 'TODO'}   # TODO check", "  key: \"{name}\"", "",
                "compartments:", f"  array: {arrays[0].name if arrays else 'TODO'}   # TODO check",
                "  key: \"{number}\"", ""]
        sample = holder
        locker_path = holder.path
    out += ["fields:", *_field_lines(sample.variables(), indexed), "",
            "acquisition:", "  mode: subscribe   # TODO: poll (with poll_interval_s) if subscriptions do not work",
            "  publishing_interval_ms: 250", "", "commands:"]
    methods = sample.methods() or next((p.methods() for p in [_parent(root, sample)] if p), [])
    listed = ", ".join(m.name for m in methods) or "none found: maybe a variable write (write: {...})"
    guess = next((m.name for m in methods if any(k in m.name.lower() for k in ("unlock", "open", "release"))),
                 "TODO")
    out += ["  unlock:", f"    call: {{method: {guess}}}   # TODO check; methods found: " + listed,
            "    confirm: {field: door_open, equals: true}", "",
            *_keypad_lines(root, locker_path, keypad_events or {}), "# Address space seen:"]
    out += [f"#   {s.path}  {s.node_class.name} {s.data_type} {_short(s.value)} ({s.node.to_string()})".rstrip()
            for s in _all(root) if s is not root]
    return "\n".join(out) + "\n"


def _all(root: Seen) -> list[Seen]:
    found, stack = [], [root]
    while stack:
        seen = stack.pop(0)
        found.append(seen)
        stack.extend(seen.children)
    return found


def _parent(root: Seen, child: Seen) -> Seen:
    return next((s for s in _all(root) if child in s.children), root)


def _short(value: object) -> str:
    if value is None:
        return ""
    text = repr(value)
    return "= " + (text if len(text) < 50 else text[:47] + "...")
