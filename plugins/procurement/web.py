"""The procurement plugin's web pages (``/web/plugins/procurement/...``) for the people of a member
municipality: its needs (the landing page), the procurements it takes part in, its contracts'
follow-up, and the federation's vendor reviews; and for federation admins each member's cost of
the shared contracts (``/web/federation/procurement/costs``). Every read and write is the GraphQL
resolvers' own service call."""

from __future__ import annotations

from litestar import Router

from plugins.contract import Name, WebPage
from plugins.procurement.web_costs import costs_page
from plugins.procurement.web_followup import follow_up_page, reviews_page
from plugins.procurement.web_needs import needs_page, record_need
from plugins.procurement.web_procurements import procurements_page

PAGES = (
    WebPage(
        path="/",
        title=Name(sv="Upphandling", en="Procurement"),
        handler=Router(path="/", route_handlers=[needs_page, record_need, procurements_page, follow_up_page]),
    ),
    # A plain handler: the foundation finds this plugin's templates/ beside the module that defines it.
    WebPage(path="/reviews", title=Name(sv="Leverantörsomdömen", en="Vendor reviews"), handler=reviews_page),
    WebPage(
        path="/costs",
        title=Name(sv="Kostnad per medlem", en="Cost per member"),
        handler=costs_page,
        audience="federation",
    ),
)

__all__ = ["PAGES"]
