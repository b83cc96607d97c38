"""The medicine cabinets plugin's GraphQL roots. Tenant admins set up recipients, cabinets,
restrictions, qualifications and assignments; staff open compartments; only tenant admins and
nurses read, verify or export the medication log."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated
from uuid import UUID

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.contract import Plugin
from plugins.medicine_cabinets import log, service
from plugins.medicine_cabinets.config import MedicineCabinetsConfig
from plugins.medicine_cabinets.graphql_types import (
    CabinetFailed,
    CabinetOpened,
    CabinetRefused,
    MedicationLogEntry,
    MedicationLogVerdict,
    MedicineCreated,
    MedicineDone,
    opening,
)

ADMINS = frozenset({api.Role.TENANT_ADMIN})
STAFF = frozenset({api.Role.TENANT_ADMIN, api.Role.STAFF})
NO_SCOPE = "medicine_cabinets:none"  # no token may act here: these are people's actions

CreatedResult = Annotated[MedicineCreated | api.Errors, strawberry.union("MedicineCreatedResult")]
DoneResult = Annotated[MedicineDone | api.Errors, strawberry.union("MedicineDoneResult")]
OpenResult = Annotated[
    CabinetOpened | CabinetRefused | CabinetFailed | api.Errors, strawberry.union("OpenCabinetCompartmentResult")
]


def _uuid(value: strawberry.ID, what: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise api.NotFound(what, str(value)) from None


async def _log_reader(info: api.Info) -> UUID:
    """Tenant admins, and staff with the nurse qualification, may read the log."""
    tenant = api.require_access(info, roles=STAFF, scope=NO_SCOPE)
    principal = info.context.principal
    if api.Role.TENANT_ADMIN in principal.roles_in(tenant):
        return tenant
    async with api.database(info).tenant(tenant) as scope:
        if principal.actor.id is not None and await service.is_nurse(scope, principal.actor.id):
            return tenant
    raise api.PermissionDenied("Loggen kan läsas av sjuksköterskor och administratörer. / Nurses and admins only.")


@strawberry.type
class MedicineCabinetsQuery:
    @api.field(description="The medication log, narrowed by cabinet, care recipient or staff member.")
    async def medication_log(
        self,
        info: api.Info,
        cabinet_id: strawberry.ID | None = None,
        care_recipient_id: strawberry.ID | None = None,
        staff_user_id: strawberry.ID | None = None,
    ) -> list[MedicationLogEntry]:
        tenant = await _log_reader(info)
        async with api.database(info).tenant(tenant) as scope:
            rows = await log.entries(
                scope,
                cabinet_id=_uuid(cabinet_id, "Cabinet") if cabinet_id else None,
                recipient_id=_uuid(care_recipient_id, "Care recipient") if care_recipient_id else None,
                staff_user_id=_uuid(staff_user_id, "User") if staff_user_id else None,
            )
        return [MedicationLogEntry.of(r) for r in rows]

    @api.field(description="Whether the medication log's hash chain is intact, or its first broken entry.")
    async def verify_medication_log(self, info: api.Info) -> MedicationLogVerdict:
        tenant = await _log_reader(info)
        async with api.database(info).tenant(tenant) as scope:
            return MedicationLogVerdict.of(await log.verify(scope))

    @api.field(description="The log with its chain as JSON, for a patient-safety review (lex Maria).")
    async def export_medication_log(
        self, info: api.Info, cabinet_id: strawberry.ID | None = None, care_recipient_id: strawberry.ID | None = None
    ) -> str:
        tenant = await _log_reader(info)
        async with api.database(info).tenant(tenant) as scope:
            verdict = await log.verify(scope)
            rows = await log.entries(
                scope,
                cabinet_id=_uuid(cabinet_id, "Cabinet") if cabinet_id else None,
                recipient_id=_uuid(care_recipient_id, "Care recipient") if care_recipient_id else None,
            )
        return json.dumps(log.export(tenant, rows, verdict), ensure_ascii=False)


@strawberry.type
class MedicineCabinetsMutation:
    @api.mutation(description="Add a care recipient by an internal reference (never a personal identity number).")
    @api.errors_as_data
    async def add_care_recipient(self, info: api.Info, reference: str) -> CreatedResult:
        tenant = api.require_access(info, roles=ADMINS, scope=NO_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            rid = await service.add_recipient(scope, reference, actor=info.context.principal.actor)
        return MedicineCreated(id=strawberry.ID(str(rid)))

    @api.mutation(description="Make a registered locker the medicine cabinet of a care recipient.")
    @api.errors_as_data
    async def add_medicine_cabinet(
        self,
        info: api.Info,
        locker_id: strawberry.ID,
        care_recipient_id: strawberry.ID,
        responsible_nurse_id: strawberry.ID | None = None,
    ) -> CreatedResult:
        tenant = api.require_access(info, roles=ADMINS, scope=NO_SCOPE)
        nurse = _uuid(responsible_nurse_id, "User") if responsible_nurse_id else None
        async with api.database(info).tenant(tenant) as scope:
            cid = await service.add_cabinet(
                scope, _uuid(locker_id, "Locker"), _uuid(care_recipient_id, "Care recipient"), nurse_id=nurse,
                actor=info.context.principal.actor,
            )  # fmt: skip
        return MedicineCreated(id=strawberry.ID(str(cid)))

    @api.mutation(description="Make a cabinet compartment nurse-only (e.g. narcotics).")
    @api.errors_as_data
    async def restrict_cabinet_compartment(self, info: api.Info, compartment_id: strawberry.ID) -> DoneResult:
        tenant = api.require_access(info, roles=ADMINS, scope=NO_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            await service.restrict(scope, _uuid(compartment_id, "Compartment"), actor=info.context.principal.actor)
        return MedicineDone()

    @api.mutation(description="Say whether a staff member is a nurse (may open nurse-only compartments, read the log).")
    @api.errors_as_data
    async def set_staff_qualification(self, info: api.Info, user_id: strawberry.ID, nurse: bool) -> DoneResult:
        tenant = api.require_access(info, roles=ADMINS, scope=NO_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            await service.qualify(scope, _uuid(user_id, "User"), nurse=nurse, actor=info.context.principal.actor)
        return MedicineDone()

    @api.mutation(description="Assign a staff member to a care recipient for a day.")
    @api.errors_as_data
    async def assign_staff(
        self, info: api.Info, user_id: strawberry.ID, care_recipient_id: strawberry.ID, day: date
    ) -> DoneResult:
        tenant = api.require_access(info, roles=ADMINS, scope=NO_SCOPE)
        async with api.database(info).tenant(tenant) as scope:
            await service.assign(
                scope, _uuid(user_id, "User"), _uuid(care_recipient_id, "Care recipient"), day,
                actor=info.context.principal.actor,
            )  # fmt: skip
        return MedicineDone()

    @api.mutation(description="Open a medicine cabinet compartment: opened, refused (why) or failed.")
    @api.errors_as_data
    async def open_cabinet_compartment(self, info: api.Info, compartment_id: strawberry.ID) -> OpenResult:
        tenant = api.require_access(info, roles=STAFF, scope=NO_SCOPE)
        db = api.database(info)
        async with db.tenant(tenant) as scope:
            settings = await api.plugin_settings(scope, _plugin())
        timeout = settings.open_timeout_s if isinstance(settings, MedicineCabinetsConfig) else 10.0
        result = await service.open_compartment(
            db, api.redis(info), tenant, _uuid(compartment_id, "Compartment"), actor=info.context.principal.actor,
            now=utcnow(), timeout_s=timeout,
        )  # fmt: skip
        return opening(result)


def _plugin() -> Plugin:
    from plugins.medicine_cabinets.plugin import PLUGIN  # the plugin object imports this module

    return PLUGIN
