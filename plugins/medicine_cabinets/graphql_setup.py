"""The set-up half of the plugin's GraphQL roots (tenant admins): list, add, change and remove care
recipients, cabinets, nurse-only compartments, qualifications and assignments (a day or a run of
days at once); and ``myCabinetsToday`` for the signed-in staff member."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import strawberry

from backend import plugin_api as api
from backend.lib import local_day
from plugins.medicine_cabinets import listing, queries, recipients, service, setup
from plugins.medicine_cabinets.graphql_access import (
    NO_SCOPE,
    STAFF,
    admin,
    admin_change,
    admin_or_nurse,
    maybe_id,
    parse_id,
)
from plugins.medicine_cabinets.graphql_setup_types import (
    CareRecipient,
    MedicineCabinet,
    StaffAssignment,
    StaffQualification,
)
from plugins.medicine_cabinets.graphql_types import CreatedResult, DoneResult, MedicineCreated, MedicineDone


@strawberry.type
class SetupQuery:
    @api.field(description="The municipality's care recipients (tenant admins and nurses).")
    async def care_recipients(self, info: api.Info) -> list[CareRecipient]:
        tenant = await admin_or_nurse(info)
        async with api.database(info).tenant(tenant) as scope:
            numbers = await recipients.numbers(scope)
            return [CareRecipient.of(r, numbers.get(r.id)) for r in await listing.recipients(scope)]

    @api.field(description="The municipality's medicine cabinets, or one care recipient's.")
    async def medicine_cabinets(
        self, info: api.Info, care_recipient_id: strawberry.ID | None = None
    ) -> list[MedicineCabinet]:
        recipient = maybe_id(care_recipient_id, "Care recipient")
        async with api.database(info).tenant(admin(info)) as scope:
            return [MedicineCabinet.of(c) for c in await queries.cabinets(scope, recipient_id=recipient)]

    @api.field(description="Everyone working in the municipality and whether each is a nurse here.")
    async def staff_qualifications(self, info: api.Info) -> list[StaffQualification]:
        async with api.database(info).tenant(admin(info)) as scope:
            return [StaffQualification.of(q) for q in await listing.qualifications(scope)]

    @api.field(description="Who is assigned to whom on `day` (through `lastDay`, at most 62 days).")
    async def cabinet_assignments(
        self, info: api.Info, day: date, last_day: date | None = None
    ) -> list[StaffAssignment]:
        tenant = admin(info)
        service.days_between(day, last_day)
        async with api.database(info).tenant(tenant) as scope:
            return [StaffAssignment.of(a) for a in await listing.assignments(scope, day, last_day)]

    @api.field(description="The cabinets the signed-in staff member is assigned to today.")
    async def my_cabinets_today(self, info: api.Info) -> list[MedicineCabinet]:
        tenant = api.require_access(info, roles=STAFF, scope=NO_SCOPE)
        user = info.context.principal.actor.id
        if user is None:
            raise api.PermissionDenied("Bara personal med egen inloggning. / Staff signed in as themselves only.")
        async with api.database(info).tenant(tenant) as scope:
            return [MedicineCabinet.of(c) for c in await queries.todays_cabinets(scope, user, local_day())]


@strawberry.type
class SetupMutation:
    @api.mutation(description="Add a care recipient by an internal reference (a personal identity number: see below).")
    @api.errors_as_data
    async def add_care_recipient(
        self, info: api.Info, reference: str, personal_identity_number: str | None = None
    ) -> CreatedResult:
        rid = await admin_change(
            info,
            lambda scope, actor: service.add_recipient(
                scope, reference, personal_identity_number=personal_identity_number, actor=actor
            ),
        )
        return MedicineCreated(id=strawberry.ID(str(rid)))

    @api.mutation(
        description="Set (or with null clear) a care recipient's personal identity number; only where the "
        "municipality turned the setting personal_identity_numbers on."
    )
    @api.errors_as_data
    async def set_care_recipient_personal_identity_number(
        self, info: api.Info, care_recipient_id: strawberry.ID, personal_identity_number: str | None = None
    ) -> DoneResult:
        rid = parse_id(care_recipient_id, "Care recipient")
        await admin_change(
            info, lambda scope, actor: recipients.set_number(scope, rid, personal_identity_number, actor=actor)
        )
        return MedicineDone()

    @api.mutation(description="Remove a care recipient and their assignments (refused while they have a cabinet).")
    @api.errors_as_data
    async def remove_care_recipient(self, info: api.Info, care_recipient_id: strawberry.ID) -> DoneResult:
        rid = parse_id(care_recipient_id, "Care recipient")
        await admin_change(info, lambda scope, actor: setup.remove_recipient(scope, rid, actor=actor))
        return MedicineDone()

    @api.mutation(description="Make a registered locker the medicine cabinet of a care recipient.")
    @api.errors_as_data
    async def add_medicine_cabinet(
        self,
        info: api.Info,
        locker_id: strawberry.ID,
        care_recipient_id: strawberry.ID,
        responsible_nurse_id: strawberry.ID | None = None,
    ) -> CreatedResult:
        locker, rid = parse_id(locker_id, "Locker"), parse_id(care_recipient_id, "Care recipient")
        nurse = maybe_id(responsible_nurse_id, "User")
        cid = await admin_change(
            info, lambda scope, actor: service.add_cabinet(scope, locker, rid, nurse_id=nurse, actor=actor)
        )
        return MedicineCreated(id=strawberry.ID(str(cid)))

    @api.mutation(description="Change who hears of an unauthorised opening (null: the municipality's alert address).")
    @api.errors_as_data
    async def set_cabinet_responsible_nurse(
        self, info: api.Info, cabinet_id: strawberry.ID, user_id: strawberry.ID | None = None
    ) -> DoneResult:
        cid, nurse = parse_id(cabinet_id, "Medicine cabinet"), maybe_id(user_id, "User")
        await admin_change(info, lambda scope, actor: setup.set_responsible_nurse(scope, cid, nurse, actor=actor))
        return MedicineDone()

    @api.mutation(description="The locker is no longer a medicine cabinet; the log keeps its entries.")
    @api.errors_as_data
    async def remove_medicine_cabinet(self, info: api.Info, cabinet_id: strawberry.ID) -> DoneResult:
        cid = parse_id(cabinet_id, "Medicine cabinet")
        await admin_change(info, lambda scope, actor: setup.remove_cabinet(scope, cid, actor=actor))
        return MedicineDone()

    @api.mutation(description="Make a cabinet compartment nurse-only (e.g. narcotics).")
    @api.errors_as_data
    async def restrict_cabinet_compartment(self, info: api.Info, compartment_id: strawberry.ID) -> DoneResult:
        cid = parse_id(compartment_id, "Compartment")
        await admin_change(info, lambda scope, actor: service.restrict(scope, cid, actor=actor))
        return MedicineDone()

    @api.mutation(description="Lift a compartment's nurse-only restriction.")
    @api.errors_as_data
    async def unrestrict_cabinet_compartment(self, info: api.Info, compartment_id: strawberry.ID) -> DoneResult:
        cid = parse_id(compartment_id, "Compartment")
        await admin_change(info, lambda scope, actor: setup.unrestrict(scope, cid, actor=actor))
        return MedicineDone()

    @api.mutation(description="Say whether a staff member is a nurse (may open nurse-only compartments, read the log).")
    @api.errors_as_data
    async def set_staff_qualification(self, info: api.Info, user_id: strawberry.ID, nurse: bool) -> DoneResult:
        uid = parse_id(user_id, "User")
        await admin_change(info, lambda scope, actor: service.qualify(scope, uid, nurse=nurse, actor=actor))
        return MedicineDone()

    @api.mutation(description="Assign a staff member to a care recipient on `day` (through `lastDay`: a week at once).")
    @api.errors_as_data
    async def assign_staff(
        self,
        info: api.Info,
        user_id: strawberry.ID,
        care_recipient_id: strawberry.ID,
        day: date,
        last_day: date | None = None,
    ) -> DoneResult:
        return await _days(info, service.assign, user_id, care_recipient_id, day, last_day)

    @api.mutation(description="Take a staff member off a care recipient on `day` (through `lastDay`).")
    @api.errors_as_data
    async def unassign_staff(
        self,
        info: api.Info,
        user_id: strawberry.ID,
        care_recipient_id: strawberry.ID,
        day: date,
        last_day: date | None = None,
    ) -> DoneResult:
        return await _days(info, setup.unassign, user_id, care_recipient_id, day, last_day)


async def _days(
    info: api.Info,
    change: Callable[..., Awaitable[int]],
    user_id: strawberry.ID,
    care_recipient_id: strawberry.ID,
    day: date,
    last_day: date | None,
) -> MedicineDone:
    """Assign or unassign a staff member for a run of days."""
    uid, rid = parse_id(user_id, "User"), parse_id(care_recipient_id, "Care recipient")
    await admin_change(info, lambda scope, actor: change(scope, uid, rid, day, last_day=last_day, actor=actor))
    return MedicineDone()
