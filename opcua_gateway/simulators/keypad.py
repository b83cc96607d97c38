"""Keypad variables (Kylbox, Frostlogik): one String variable per locker shows the entry its
keypad holds (``model.KeypadBuffer``) until a client consumes it by writing "" to it.

Only "" may be written; anything else is refused with ``BadInvalidArgument``. The next entry
is shown after the clearing write has landed (the runtime calls ``consumed_by`` from a PostWrite
callback), so a clear never wipes an entry it has not seen. The variable's source timestamp
is when the shown entry was typed: it stays the same across server restarts.
"""

from __future__ import annotations

from asyncua import ua
from asyncua.common.utils import ServiceError
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.status_codes import StatusCodes

from opcua_gateway.simulators.address_space import Reading
from opcua_gateway.simulators.model import LockerBank

_S = ua.VariantType.String


class KeypadVariables:
    """The keypad variables of one server, by node id."""

    def __init__(self, bank: LockerBank) -> None:
        self.bank = bank
        self.nodes: dict[ua.NodeId, str] = {}  # node -> locker id

    def add(self, node: ua.NodeId, locker: str) -> None:
        self.nodes[node] = locker

    def values(self) -> dict[ua.NodeId, Reading]:
        values: dict[ua.NodeId, Reading] = {}
        for node, locker in self.nodes.items():
            entry = self.bank.keypad(locker).shown
            values[node] = Reading("", _S) if entry is None else Reading(entry.code, _S, source_time=entry.typed_at)
        return values

    def check_write(self, node: ua.NodeId, value: ua.Variant) -> None:
        """Before a client's write: only a clear ("") is accepted."""
        if node in self.nodes and (value.VariantType is not _S or value.Value not in ("", None)):
            raise ServiceError(StatusCodes.BadInvalidArgument)

    def consumed_by(self, items: list[ua.WriteValue], results: list[ua.StatusCode]) -> bool:
        """After a client's write: True when it cleared a keypad variable (its next entry is due)."""
        consumed = False
        for item, result in zip(items, results, strict=True):
            locker = self.nodes.get(item.NodeId)
            if locker is not None and item.AttributeId == AttributeIds.Value and result.is_good():
                self.bank.keypad(locker).consumed()
                consumed = True
        return consumed
