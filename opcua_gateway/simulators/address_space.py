"""Helpers the vendor modules share to build their address spaces and answer with asyncua.

asyncua types its identifiers as ``int``/``str`` subclasses (``ua.Int32``, ``ua.String``,
``ua.UInt32``); the constructors here take plain values so the rest stays simply typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from asyncua import ua
from asyncua.common.node import Node
from asyncua.common.utils import ServiceError
from asyncua.ua.status_codes import StatusCodes

from opcua_gateway.simulators.model import LockedOut, SetpointRefused, SimulatorError


def standard_node(object_id: int) -> ua.NodeId:
    """A node of the OPC UA namespace 0, e.g. ``standard_node(ObjectIds.Server)``."""
    return ua.NodeId(ua.Int32(object_id))


def string_node(identifier: str, idx: int) -> ua.NodeId:
    return ua.NodeId(ua.String(identifier), ua.Int16(idx))


def status(code: int) -> ua.StatusCode:
    """A status code from ``StatusCodes``."""
    return ua.StatusCode(ua.UInt32(code))


def data_value(variant: ua.Variant, *, code: int | None = None, source_time: datetime | None = None) -> ua.DataValue:
    """A value stamped now (server time; source time too unless given), optionally with a status code."""
    now = ua.DateTime.now(UTC)
    source = now if source_time is None else ua.DateTime.combine(source_time.date(), source_time.timetz())
    if code is None:
        return ua.DataValue(variant, SourceTimestamp=source, ServerTimestamp=now)
    return ua.DataValue(variant, StatusCode=status(code), SourceTimestamp=source, ServerTimestamp=now)


def argument(name: str, variant_type: ua.VariantType, description: str) -> ua.Argument:
    """A named, described method argument (asyncua leaves names empty when given bare types)."""
    arg = ua.Argument()
    arg.Name = name
    arg.DataType = standard_node(variant_type.value)
    arg.ValueRank = ua.ValueRank.Scalar
    arg.Description = ua.LocalizedText(description)
    return arg


async def add_variable(
    parent: Node,
    nodeid: ua.NodeId | int,
    name: str,
    value: Any,
    variant_type: ua.VariantType,
    *,
    writable: bool = False,
) -> Node:
    """A variable under ``parent`` with a fixed data type (one-dimensional when ``value`` is a
    list). ``nodeid`` is a full node id, or a namespace index to get a numeric one."""
    bname: ua.QualifiedName | str = name if isinstance(nodeid, int) else ua.QualifiedName(name, nodeid.NamespaceIndex)
    node = await parent.add_variable(nodeid, bname, value, varianttype=variant_type)
    if isinstance(value, list):
        await node.write_value_rank(ua.ValueRank.OneDimension)
        await node.write_array_dimensions([len(value)])  # type: ignore[arg-type]  # asyncua types it int; the attribute is UInt32[]
    if writable:
        await node.set_writable()
    return node


@dataclass(frozen=True, slots=True)
class Reading:
    """What one node shows: a value of a variant type, or Bad (``BadSensorFailure``).
    ``source_time`` is when the value came about (default: when it is written)."""

    value: Any
    variant_type: ua.VariantType
    bad: bool = False
    source_time: datetime | None = None

    def data_value(self) -> ua.DataValue:
        if self.bad:
            return data_value(ua.Variant(None, ua.VariantType.Null), code=StatusCodes.BadSensorFailure)
        return data_value(ua.Variant(self.value, self.variant_type), source_time=self.source_time)


def status_for(error: SimulatorError) -> ua.StatusCode:
    """The OPC UA status a refused action answers with."""
    if isinstance(error, LockedOut):
        return status(StatusCodes.BadInvalidState)
    if isinstance(error, SetpointRefused):
        return status(StatusCodes.BadOutOfRange)
    return status(StatusCodes.BadInvalidArgument)


def refuse(error: SimulatorError) -> ServiceError:
    """The ``ServiceError`` that makes asyncua answer a write with the refusal's status."""
    return ServiceError(status_for(error).value)
