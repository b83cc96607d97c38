"""OPC UA subscriptions for one session: data changes (queuesize=1; keypad variables keep a
queue, so no entry is skipped) and vendor events (alarms and keypad entries).

The handler only enqueues (node id, Reading) pairs and events on the endpoint's feed;
the endpoint's processor does the rest. asyncua's auto-reconnect restores the
subscription, and the same handler keeps feeding the same queue.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from asyncua import ua
from asyncua.client.client import Client
from asyncua.common.events import Event
from asyncua.common.node import Node
from asyncua.common.subscription import DataChangeNotif, Subscription
from asyncua.ua.object_ids import ObjectIds
from asyncua.ua.uaerrors import UaStatusCodeError

from opcua_gateway.mapping import Reading
from opcua_gateway.profile import EventAlarm, KeypadEvent, Profile
from opcua_gateway.resolve import Resolver, Topology
from opcua_gateway.transport import reading_of, std_node

log = logging.getLogger(__name__)
Item = tuple[ua.NodeId, Reading] | Event
_EVENT_TYPE_DEPTH = 6
_KEYPAD_QUEUE = 16


@dataclass
class Feed:
    queue: asyncio.Queue[Item] = field(default_factory=asyncio.Queue)
    subscription: Subscription | None = None
    event_types: dict[Any, EventAlarm | KeypadEvent] = field(default_factory=dict)  # type node id -> profile entry


class _Handler:
    def __init__(self, feed: Feed) -> None:
        self.feed = feed

    def datachange_notification(self, node: Node, val: Any, data: DataChangeNotif) -> None:
        self.feed.queue.put_nowait((node.nodeid, reading_of(data.monitored_item.Value)))

    def event_notification(self, event: Event) -> None:
        self.feed.queue.put_nowait(event)

    def status_change_notification(self, status: ua.StatusChangeNotification) -> None:
        log.info("subscription status change: %s", status.Status)


async def subscribe(client: Client, profile: Profile, topology: Topology, feed: Feed) -> Subscription:
    interval = float(profile.acquisition.publishing_interval_ms)
    sub = await client.create_subscription(interval, _Handler(feed))
    await _data_changes(client, sub, list(topology.bindings), 1, interval, feed)
    await _data_changes(client, sub, list(topology.keypads), _KEYPAD_QUEUE, interval, feed)
    resolver = Resolver(client, profile)
    specs: list[EventAlarm | KeypadEvent] = list(profile.events)
    if profile.keypad is not None and profile.keypad.event is not None:
        specs.append(profile.keypad.event)
    for spec in specs:
        event_type = await find_event_type(resolver, spec.type)
        if event_type is None:
            log.warning("event type %s not found on the server; its events are not mapped", spec.type)
            continue
        feed.event_types[event_type] = spec
        sources = ([place.node for place in topology.lockers.values() if place.node is not None]
                   if isinstance(spec, KeypadEvent) or spec.source == "locker" else [std_node(ObjectIds.Server)])
        for source in sources:
            try:
                await sub.subscribe_events(source, event_type)
            except UaStatusCodeError as exc:  # e.g. the node emits no events: values still flow
                log.warning("cannot subscribe to %s events of %s: %s", spec.type, source.to_string(), exc)
    return sub


async def _data_changes(client: Client, sub: Subscription, nodes: list[ua.NodeId], queuesize: int,
                        interval: float, feed: Feed) -> None:
    if not nodes:
        return
    results = await sub.subscribe_data_change([client.get_node(n) for n in nodes], queuesize=queuesize,
                                              sampling_interval=ua.Double(interval / 2))
    for node, result in zip(nodes, results, strict=True):
        if isinstance(result, ua.StatusCode):  # e.g. BadNodeIdUnknown: a profile/server mismatch
            feed.queue.put_nowait((node, Reading.bad(result.name)))


async def find_event_type(resolver: Resolver, name: str) -> ua.NodeId | None:
    """The node id of the event type with browse name ``name`` below BaseEventType."""
    level = [std_node(ObjectIds.BaseEventType)]
    for _ in range(_EVENT_TYPE_DEPTH):
        children = await resolver.children(level)
        found = [c for kids in children.values() for c in kids]
        for child in found:
            if child.name == name:
                return child.node
        level = [c.node for c in found]
        if not level:
            break
    return None
