"""Felanmälan / Fault reports: staff report a fault on a locker or one of its compartments, with a
category, a description and an optional photo. A first, minimal plugin: routing to vendors,
statuses beyond 'reported' and service levels come later, on the same table."""

from plugins.fault_reports.plugin import PLUGIN

__all__ = ["PLUGIN"]
