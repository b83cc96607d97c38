"""Upphandling / Procurement of services: needs, joint procurements by rule, sealed vendor bids,
reproducible evaluation, contracts with service levels followed up from real data, shared
experience, OCDS open data and cost allocation (issue 6; docs/design/procurement.md)."""

from plugins.procurement.plugin import PLUGIN

__all__ = ["PLUGIN"]
