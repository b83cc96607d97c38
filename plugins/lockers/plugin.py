"""The lockers plugin object: what the registry finds in ``plugins.lockers``."""

from plugins.contract import ConsumerSpec, Name, Plugin
from plugins.lockers.access import SCOPES
from plugins.lockers.config import PLUGIN_ID, LockersConfig
from plugins.lockers.graphql_api import LockersMutation, LockersQuery, LockersSubscription
from plugins.lockers.graphql_types import TYPES
from plugins.lockers.ingest import consume
from plugins.lockers.web import PAGES

PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name=Name(sv="Leveransskåp", en="Delivery lockers"),
    description=Name(
        sv="Tempererade leveransskåp via OPC UA: status, temperatur, larm och fjärröppning.",
        en="Tempered delivery lockers over OPC UA: state, temperature, alarms and remote opening.",
    ),
    requires_core=">=0.1,<1",
    piccolo_app="plugins.lockers.piccolo_app",
    query=LockersQuery,
    mutation=LockersMutation,
    subscription=LockersSubscription,
    types=TYPES,
    consumers=(ConsumerSpec("lockers.ingest", consume),),
    pages=PAGES,
    config=LockersConfig,
    scopes=SCOPES,
)
