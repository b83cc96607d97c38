"""The medicine cabinets plugin object: what the registry finds in ``plugins.medicine_cabinets``."""

from plugins.contract import ConsumerSpec, Name, Plugin
from plugins.lockers.hooks import HOOK
from plugins.medicine_cabinets import events, timers
from plugins.medicine_cabinets.config import PLUGIN_ID, MedicineCabinetsConfig
from plugins.medicine_cabinets.graphql_api import MedicineCabinetsMutation, MedicineCabinetsQuery
from plugins.medicine_cabinets.graphql_types import TYPES
from plugins.medicine_cabinets.web import PAGES

PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name=Name(sv="Läkemedelsskåp", en="Medicine cabinets"),
    description=Name(
        sv="Läkemedelsskåp i hemmet: öppning från mobilen mot dagens schema, sjuksköterskefack, "
        "manipulationssäker logg.",
        en="Medicine cabinets at home: opened from a phone against today's assignments, nurse-only compartments, "
        "a tamper-evident log.",
    ),
    requires_core=">=0.1,<1",
    depends_on={"lockers": ">=1.0,<2"},
    piccolo_app="plugins.medicine_cabinets.piccolo_app",
    query=MedicineCabinetsQuery,
    mutation=MedicineCabinetsMutation,
    types=TYPES,
    consumers=(
        ConsumerSpec("medicine_cabinets.timers", timers.run),
        ConsumerSpec("medicine_cabinets.log_checks", timers.run_checks),
    ),
    config=MedicineCabinetsConfig,
    pages=PAGES,
    hooks={HOOK: events.on_locker_events},
)
