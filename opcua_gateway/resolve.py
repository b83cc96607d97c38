"""Find a profile's lockers, compartments and field nodes in a live address space.

Browse paths are resolved level by level with one batched Browse call per level over
hierarchical references only; a segment is a shell wildcard on the browse name. Node-id
templates are rendered from the variables the locate rules collected.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaStringParsingError

from opcua_gateway.model import Binding
from opcua_gateway.profile import Locate, NodeRef, Profile, split_path
from opcua_gateway.transport import std_node

log = logging.getLogger(__name__)

class ResolveError(LookupError):
    """The address space does not have what the profile describes."""


@dataclass(frozen=True)
class Found:
    node: ua.NodeId
    name: str


@dataclass
class Place:
    """A locker or compartment: its node (None for array elements) and template variables."""

    key: str
    node: ua.NodeId | None
    locker_node: ua.NodeId
    vars: dict[str, object]


@dataclass
class Topology:
    ns: int
    lockers: dict[str, Place] = field(default_factory=dict)
    compartments: dict[tuple[str, str], Place] = field(default_factory=dict)
    bindings: dict[ua.NodeId, list[Binding]] = field(default_factory=dict)
    keypads: dict[ua.NodeId, str] = field(default_factory=dict)  # keypad variable -> its locker

    def nodes(self) -> list[ua.NodeId]:
        """Every variable to subscribe to or poll: field sources and keypads."""
        return [*self.bindings, *self.keypads]

    def signature(self) -> frozenset[tuple[str, str, str, int | None, str]]:
        return frozenset((b.locker, b.compartment, b.field, b.index, node.to_string())
                         for node, found in self.bindings.items() for b in found) | frozenset(
            (locker, "", "keypad", None, node.to_string()) for node, locker in self.keypads.items())


class Resolver:
    def __init__(self, client: Client, profile: Profile) -> None:
        self.client = client
        self.profile = profile
        self._children: dict[ua.NodeId, list[Found]] = {}

    async def topology(self) -> Topology:
        ns = await self.client.get_namespace_index(self.profile.namespace)
        topo = Topology(ns)
        root = Found(std_node(ObjectIds.RootFolder), "Root")
        for found in await self.browse(root.node, split_path(self.profile.lockers.browse or "")):
            place = await self._place(self.profile.lockers, found, found.node, {"ns": ns})
            if place is not None:
                topo.lockers[place.key] = place
        for locker in topo.lockers.values():
            for place in await self._compartments(locker):
                topo.compartments[(locker.key, place.key)] = place
        await self.children([p.node for p in topo.compartments.values() if p.node is not None])  # one batch
        for (locker_key, key), place in topo.compartments.items():
            for name, source in self.profile.fields.sources().items():
                if source.path is None and source.id is None:
                    continue  # a constant
                node = await self.node(source, place)
                index = place.vars.get("index") if source.index else None
                topo.bindings.setdefault(node, []).append(
                    Binding(locker_key, key, name, index if isinstance(index, int) else None))
        await self._keypads(topo)
        return topo

    async def _keypads(self, topo: Topology) -> None:
        """Each locker's keypad variable; a locker without one is logged and has no keypad."""
        keypad = self.profile.keypad
        if keypad is None or keypad.variable is None:
            return
        ref = keypad.variable
        for locker in topo.lockers.values():
            try:
                if ref.id is not None:
                    node = ua.NodeId.from_string(_render(ref.id, locker.vars | {"locker": locker.key}))
                else:
                    node = await self._one(locker.locker_node, ref.path or "")
            except (ResolveError, UaStringParsingError) as exc:
                log.warning("locker %s has no keypad variable: %s", locker.key, exc)
                continue
            topo.keypads[node] = locker.key

    async def _compartments(self, locker: Place) -> list[Place]:
        locate = self.profile.compartments
        inherited = {k: v for k, v in locker.vars.items() if k not in ("name", "node_id")} | {"locker": locker.key}
        places: list[Place] = []
        if locate.array is not None:
            array = await self._one(locker.locker_node, locate.array)
            value = (await self.client.get_node(array).read_data_value()).Value
            items = value.Value if value is not None else None
            if not isinstance(items, list):
                raise ResolveError(f"{locate.array} below locker {locker.key} is not an array")
            for index in range(len(items)):
                vars_ = inherited | {"index": index, "number": index + 1, "name": str(index + 1)}
                places.append(Place(_render(locate.key, vars_), None, locker.locker_node, vars_))
            return places
        for found in await self.browse(locker.locker_node, split_path(locate.browse or "")):
            place = await self._place(locate, found, locker.locker_node, inherited)
            if place is not None:
                places.append(place)
        return places

    async def _place(self, locate: Locate, found: Found, locker_node: ua.NodeId,
                     inherited: dict[str, object]) -> Place | None:
        vars_: dict[str, object] = {**inherited, "name": found.name, "node_id": found.node.to_string()}
        for pattern, text in ((locate.name_pattern, found.name), (locate.id_pattern, found.node.to_string())):
            if pattern is None:
                continue
            match = re.search(pattern, text)
            if match is None:
                return None  # a pattern also filters: this node is not one of ours
            vars_.update({k: v for k, v in match.groupdict().items() if v is not None})
        for name, path in locate.read.items():
            node = await self._one(found.node, path)
            vars_[name] = str(await self.client.get_node(node).read_value())
        return Place(_render(locate.key, vars_), found.node, locker_node, vars_)

    async def node(self, ref: NodeRef, place: Place) -> ua.NodeId:
        """The node a reference names, for one compartment (or its locker)."""
        if ref.id is not None:
            return ua.NodeId.from_string(_render(ref.id, place.vars | {"compartment": place.key}))
        base = place.locker_node if self.profile.base_of(ref) == "locker" or place.node is None else place.node
        return await self._one(base, ref.path or "")

    async def _one(self, start: ua.NodeId, path: str) -> ua.NodeId:
        found = await self.browse(start, split_path(path))
        if len(found) != 1:
            what = "nothing" if not found else f"{len(found)} nodes"
            raise ResolveError(f"browse path {path!r} from {start.to_string()} finds {what}")
        return found[0].node

    async def browse(self, start: ua.NodeId, segments: Sequence[str]) -> list[Found]:
        current = [Found(start, "")]
        for segment in segments:
            children = await self.children([f.node for f in current])
            current = [c for found in current for c in children[found.node] if fnmatch.fnmatchcase(c.name, segment)]
        return current

    async def children(self, nodes: Sequence[ua.NodeId]) -> dict[ua.NodeId, list[Found]]:
        """Hierarchical children of each node, one Browse call for all that are not cached."""
        missing = [n for n in dict.fromkeys(nodes) if n not in self._children]
        if missing:
            params = ua.BrowseParameters()
            params.View = ua.ViewDescription()
            params.RequestedMaxReferencesPerNode = 0
            params.NodesToBrowse = [_description(n) for n in missing]
            results = await self.client.uaclient.browse(params)
            for node, result in zip(missing, results, strict=True):
                refs = list(result.References or [])
                point = result.ContinuationPoint
                while point:
                    more = await self.client.uaclient.browse_next(_next(point))
                    refs += list(more[0].References or [])
                    point = more[0].ContinuationPoint
                self._children[node] = [Found(r.NodeId, r.BrowseName.Name or "") for r in refs]
        return {n: self._children[n] for n in nodes}


def _description(node: ua.NodeId) -> ua.BrowseDescription:
    desc = ua.BrowseDescription()
    desc.NodeId = node
    desc.BrowseDirection = ua.BrowseDirection.Forward
    desc.ReferenceTypeId = std_node(ObjectIds.HierarchicalReferences)
    desc.IncludeSubtypes = True
    desc.ResultMask = ua.BrowseResultMask.All
    return desc


def _next(point: bytes) -> ua.BrowseNextParameters:
    params = ua.BrowseNextParameters()
    params.ContinuationPoints = [point]
    return params


def _render(template: str, variables: dict[str, object]) -> str:
    try:
        return template.format_map(variables)
    except (KeyError, IndexError, ValueError) as exc:
        raise ResolveError(f"template {template!r}: {exc}") from None
