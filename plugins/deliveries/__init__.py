"""Leveranser / Deliveries: grocery and pharmacy orders delivered into tempered lockers and
picked up by staff or citizens when it suits them, with single-use codes, a lifecycle driven by
real locker events, and a proven cold chain (issue 5; docs/adr/0009-deliveries.md)."""

from plugins.deliveries.plugin import PLUGIN

__all__ = ["PLUGIN"]
