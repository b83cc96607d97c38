"""Shared plugins that municipalities enable for themselves (contract and registry: issue 3)."""
