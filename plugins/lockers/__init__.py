"""Leveransskåp / Delivery lockers: the built-in plugin that stores what the OPC UA gateway
reports (docs/design/lockers.md) and lets staff see and open compartments."""

from plugins.lockers.plugin import PLUGIN

__all__ = ["PLUGIN"]
