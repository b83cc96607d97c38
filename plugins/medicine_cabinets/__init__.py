"""Läkemedelsskåp / Medicine cabinets: lockers in care recipients' homes that staff open from their
phones, checked against today's assignments and nurse-only compartments, with a hash-chained,
append-only log of every opening (docs/adr/0011-medicine-cabinets.md)."""

from plugins.medicine_cabinets.plugin import PLUGIN

__all__ = ["PLUGIN"]
