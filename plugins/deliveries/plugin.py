"""The deliveries plugin object: what the registry finds in ``plugins.deliveries``."""

from plugins.contract import ConsumerSpec, Name, Plugin
from plugins.deliveries import lifecycle, timers
from plugins.deliveries.access import SCOPES
from plugins.deliveries.config import PLUGIN_ID, DeliveriesConfig
from plugins.deliveries.graphql_api import (
    DeliveriesFederationQuery,
    DeliveriesMutation,
    DeliveriesQuery,
    DeliveriesSubscription,
)
from plugins.deliveries.graphql_types import TYPES
from plugins.deliveries.web import PAGES
from plugins.lockers.hooks import HOOK

PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name=Name(sv="Leveranser", en="Deliveries"),
    description=Name(
        sv="Leveranser till tempererade skåp: bokning av fack, engångskoder, obruten kylkedja och avisering.",
        en="Deliveries into tempered lockers: compartment booking, single-use codes, a proven cold chain, notices.",
    ),
    requires_core=">=0.1,<1",
    depends_on={"lockers": ">=1.0,<2"},
    piccolo_app="plugins.deliveries.piccolo_app",
    query=DeliveriesQuery,
    federation_query=DeliveriesFederationQuery,
    mutation=DeliveriesMutation,
    subscription=DeliveriesSubscription,
    types=TYPES,
    consumers=(ConsumerSpec("deliveries.timers", timers.run),),
    pages=PAGES,
    config=DeliveriesConfig,
    scopes=SCOPES,
    hooks={HOOK: lifecycle.on_locker_events},
)
