"""Execute one locker command as the vendor profile says, and confirm it.

The command is a method call or a variable write (arguments rendered from templates),
retried across a reconnect, bounded by the command's timeout; success is the profile's
confirmation (e.g. ``door_open`` becomes true) seen in fresh values before the deadline.
Outcomes: confirmed; rejected (the vendor or the profile refuses); failed (no connection,
an error); timeout (no answer or no confirmation in time). It never hangs.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any, Literal

from asyncua import ua
from asyncua.client.client import Client
from asyncua.ua.uaerrors import UaStatusCodeError

from opcua_gateway.contracts import CommandResult, LockerCommand, SetSetpoint, UnlockCompartment
from opcua_gateway.endpoint import EndpointRunner
from opcua_gateway.mapping import canonical, to_vendor
from opcua_gateway.profile import CommandSpec, Confirm, MethodCall, Scalar, Write
from opcua_gateway.resolve import Place, ResolveError, Resolver
from opcua_gateway.transport import CONNECTION_ERRORS, is_transient

log = logging.getLogger(__name__)
Outcome = Literal["confirmed", "failed", "timeout", "rejected"]


class Refused(Exception):
    """The vendor answered, and the answer is no."""


async def execute(runner: EndpointRunner, command: LockerCommand, deadline: float) -> CommandResult:
    """Run ``command`` on ``runner``'s endpoint until ``deadline`` (loop time) at the latest."""
    outcome, detail = await _execute(runner, command, deadline)
    log.info("%s: %s %s/%s -> %s %s", runner.endpoint.id, type(command).__name__, command.locker,
             command.compartment, outcome, detail)
    return CommandResult(request_id=command.request_id, endpoint_id=command.endpoint_id, outcome=outcome,
                         detail=detail, at=datetime.now(UTC))


async def _execute(runner: EndpointRunner, command: LockerCommand, deadline: float) -> tuple[Outcome, str]:
    commands = runner.profile.commands
    spec = commands.unlock if isinstance(command, UnlockCompartment) else commands.set_setpoint
    if spec is None:
        return "rejected", f"the {runner.profile.vendor} profile has no {type(command).__name__} command"
    topology, resolver = runner.topology, runner.resolver
    if topology is None or resolver is None:
        return "failed", runner.transport.last_error or "the endpoint is not connected"
    place = topology.compartments.get((command.locker, command.compartment))
    if place is None:
        return "rejected", f"no compartment {command.compartment} in locker {command.locker} at this endpoint"
    variables = _variables(runner, command, place)
    try:
        async with asyncio.timeout_at(deadline):
            await runner.transport.retry(lambda client: _act(client, resolver, spec, place, variables),
                                         deadline=deadline)
    except Refused as exc:
        return "rejected", str(exc)
    except TimeoutError:
        return "timeout", "the vendor did not answer in time"
    except UaStatusCodeError as exc:
        if is_transient(exc):
            return "failed", f"connection lost: {exc}"
        return "rejected", f"the vendor answered {ua.StatusCode(exc.code).name}"
    except ResolveError as exc:
        return "failed", f"the profile does not match the server: {exc}"
    except CONNECTION_ERRORS as exc:
        return "failed", f"{type(exc).__name__}: {exc}"
    if spec.confirm is None:
        return "confirmed", "the vendor accepted the command (no confirmation configured)"
    confirm = spec.confirm
    expected = _expected(confirm, variables)
    if not await runner.wait_until(lambda: _holds(runner, command, confirm, expected), deadline):
        return "timeout", f"{confirm.field} did not become {expected!r} in time"
    if isinstance(command, UnlockCompartment):
        await runner.emit([runner.model.opened(command.locker, command.compartment, by=command.requested_by,
                                               request_id=command.request_id, at=datetime.now(UTC))])
    return "confirmed", f"{confirm.field} is {expected!r}"


def _variables(runner: EndpointRunner, command: LockerCommand, place: Place) -> dict[str, object]:
    variables = place.vars | {"compartment": place.key, "request_id": command.request_id,
                              "requested_by": command.requested_by}
    if isinstance(command, SetSetpoint):
        source = runner.profile.fields.setpoint_c
        raw = to_vendor(source, command.setpoint_c) if source is not None else command.setpoint_c
        variables |= {"setpoint_c": command.setpoint_c, "setpoint_raw": raw}
    return variables


async def _act(client: Client, resolver: Resolver, spec: CommandSpec, place: Place,
               variables: dict[str, object]) -> None:
    if spec.call is not None:
        await _call(client, resolver, spec.call, place, variables)
    elif spec.write is not None:
        await _write(client, resolver, spec.write, place, variables)


async def _call(client: Client, resolver: Resolver, call: MethodCall, place: Place,
                variables: dict[str, object]) -> None:
    obj = await resolver.node(call, place)
    methods = [c.node for c in (await resolver.children([obj]))[obj] if c.name == call.method]
    if not methods:
        raise ResolveError(f"no method {call.method} on {obj.to_string()}")
    args = [variant(a.type, render(a.value, variables)) for a in call.args]
    result: Any = await client.get_node(obj).call_method(methods[0], *args)
    first = result[0] if isinstance(result, list) and result else result
    if call.ok_results is not None and first not in call.ok_results:
        reason = call.result_messages.get(first, call.result_messages.get(str(first), "")) if isinstance(
            first, str | int) else ""
        raise Refused(f"{call.method} returned {first!r}" + (f": {reason}" if reason else ""))


async def _write(client: Client, resolver: Resolver, write: Write, place: Place,
                 variables: dict[str, object]) -> None:
    node = await resolver.node(write, place)
    value = variant(write.type, render(write.value, variables))
    await client.get_node(node).write_value(ua.DataValue(value))


def render(value: Scalar, variables: dict[str, object]) -> Scalar:
    return value.format_map(variables) if isinstance(value, str) else value


def variant(type_name: str, value: Scalar) -> ua.Variant:
    """A profile argument as an OPC UA Variant of the declared type."""
    kind = ua.VariantType[type_name]
    python: object
    if type_name == "Boolean":
        python = value if isinstance(value, bool) else str(value).strip().lower() in ("true", "1", "yes")
    elif type_name in ("Float", "Double"):
        python = float(value)
    elif type_name == "String":
        python = str(value)
    else:
        python = int(float(value))
    return ua.Variant(python, kind)


def _expected(confirm: Confirm, variables: dict[str, object]) -> object:
    value = render(confirm.equals, variables)
    if isinstance(value, str) and confirm.field in ("door_open", "locked", "occupied"):
        return value.strip().lower() == "true"
    if isinstance(value, str) and confirm.field in ("temperature_c", "setpoint_c"):
        return float(value)
    return canonical(confirm.field, value)


def _holds(runner: EndpointRunner, command: LockerCommand, confirm: Confirm, expected: object) -> bool:
    actual = runner.model.raw_value(command.locker, command.compartment, confirm.field)
    if isinstance(actual, float) and isinstance(expected, float):
        return abs(actual - expected) <= confirm.tolerance + 1e-9
    return bool(actual == expected)
