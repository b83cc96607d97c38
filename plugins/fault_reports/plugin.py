"""The fault reports plugin object: what the registry finds in ``plugins.fault_reports``."""

from plugins.contract import ConsumerSpec, Name, Plugin
from plugins.fault_reports import gateway, timers
from plugins.fault_reports.access import SCOPES
from plugins.fault_reports.config import FaultReportsConfig
from plugins.fault_reports.domain import PLUGIN_ID
from plugins.fault_reports.graphql_api import FaultReportsMutation, FaultReportsQuery
from plugins.fault_reports.graphql_vendor import FaultReportsFederationMutation, FaultReportsFederationQuery
from plugins.fault_reports.web import PAGES
from plugins.lockers.hooks import HOOK

PLUGIN = Plugin(
    id=PLUGIN_ID,
    version="1.0.0",
    name=Name(sv="Felanmälan", en="Fault reports"),
    description=Name(
        sv="Personalen felanmäler skåp och fack: kategori, beskrivning och foto.",
        en="Staff report faults on lockers and compartments: category, description and a photo.",
    ),
    requires_core=">=0.1,<1",
    depends_on={"lockers": ">=1.0,<2"},
    piccolo_app="plugins.fault_reports.piccolo_app",
    query=FaultReportsQuery,
    mutation=FaultReportsMutation,
    federation_query=FaultReportsFederationQuery,
    federation_mutation=FaultReportsFederationMutation,
    pages=PAGES,
    scopes=SCOPES,
    config=FaultReportsConfig,
    consumers=(ConsumerSpec("fault_reports.timers", timers.run),),
    hooks={HOOK: gateway.on_locker_events},
)
