"""The procurement plugin object. Each API module contributes its GraphQL roots (``ROOTS``);
this merges them into the plugin's roots."""

from __future__ import annotations

from strawberry.tools import merge_types

from plugins.contract import Name, Plugin
from plugins.procurement import bidding_api, contracts_api, followup_api, needs_api, ocds_api, setup_api
from plugins.procurement.access import SCOPES
from plugins.procurement.config import PLUGIN_ID, ProcurementConfig
from plugins.procurement.federation import Roots
from plugins.procurement.web import PAGES

MODULES: tuple[Roots, ...] = tuple(
    m.ROOTS for m in (needs_api, setup_api, bidding_api, contracts_api, followup_api, ocds_api)
)


def _merged(name: str, roots: list[type | None]) -> type | None:
    present = tuple(r for r in roots if r is not None)
    return merge_types(name, present) if present else None


PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name=Name(sv="Upphandling", en="Procurement"),
    description=Name(
        sv="Samordnad upphandling av tjänster: behov, anbud, utvärdering, avtal med servicenivåer och uppföljning.",
        en="Joint procurement of services: needs, bids, evaluation, contracts with service levels and follow-up.",
    ),
    requires_core=">=0.1,<1",
    piccolo_app="plugins.procurement.piccolo_app",
    query=_merged("ProcurementQuery", [m.query for m in MODULES]),
    mutation=_merged("ProcurementMutation", [m.mutation for m in MODULES]),
    federation_query=_merged("ProcurementFederationQuery", [m.federation_query for m in MODULES]),
    federation_mutation=_merged("ProcurementFederationMutation", [m.federation_mutation for m in MODULES]),
    types=tuple(t for m in MODULES for t in m.types),
    pages=PAGES,
    config=ProcurementConfig,
    scopes=SCOPES,
)
