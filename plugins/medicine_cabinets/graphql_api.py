"""The medicine cabinets plugin's GraphQL roots: the set-up half (``graphql_setup``), alarms
(``graphql_alarms``), staff opening a compartment, and the medication log that only tenant admins
and nurses read, verify or export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import strawberry

from backend import plugin_api as api
from backend.lib import utcnow
from plugins.medicine_cabinets import config, log, log_checks, log_pages, service
from plugins.medicine_cabinets.graphql_access import NO_SCOPE, STAFF, admin_or_nurse, maybe_id, parse_id
from plugins.medicine_cabinets.graphql_alarms import AlarmMutation, AlarmQuery
from plugins.medicine_cabinets.graphql_setup import SetupMutation, SetupQuery
from plugins.medicine_cabinets.graphql_types import (
    CabinetFailed,
    CabinetOpened,
    CabinetRefused,
    MedicationLogCheck,
    MedicationLogEntry,
    MedicationLogHeadInput,
    MedicationLogVerdict,
    opening,
)
from tenants import audit

EXPORT_LIMIT = 10_000  # entries in one JSON string (about 5 MB); the web download streams any number
TOO_MANY = (
    "Fler än 10 000 poster: välj en kortare period (from/to) eller ladda ner loggen på webben. / "
    "More than 10 000 entries: narrow the period (from/to) or use the web download of the log."
)
OpenResult = Annotated[
    CabinetOpened | CabinetRefused | CabinetFailed | api.Errors, strawberry.union("OpenCabinetCompartmentResult")
]


@strawberry.type
class MedicineCabinetsQuery(SetupQuery, AlarmQuery):
    @api.field(
        description="The medication log, newest first, narrowed by cabinet, care recipient or staff member and to "
        "entries written at or after `from` and before `to`; keyset-paged on `seq`, so a page after a cursor stays "
        "the same while entries are appended."
    )
    async def medication_log(
        self,
        info: api.Info,
        cabinet_id: strawberry.ID | None = None,
        care_recipient_id: strawberry.ID | None = None,
        staff_user_id: strawberry.ID | None = None,
        since: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        until: Annotated[datetime | None, strawberry.argument(name="to")] = None,
        first: int = 20,
        after: str | None = None,
    ) -> api.Connection[MedicationLogEntry]:
        tenant = await admin_or_nurse(info)
        narrowing = _narrowing(cabinet_id, care_recipient_id, staff_user_id, since, until)
        async with api.database(info).tenant(tenant) as scope:
            page = await log_pages.page(scope, narrowing, api.PageRequest(first, after))
        return api.connection(page, MedicationLogEntry.of)

    @api.field(
        description="The kept verdict of the last full check of the medication log and a check, now, of only the "
        "entries appended since (quick at any length of log); `verifyMedicationLog` checks the whole log."
    )
    async def medication_log_check(self, info: api.Info) -> MedicationLogCheck:
        tenant = await admin_or_nurse(info)
        async with api.database(info).tenant(tenant) as scope:
            return MedicationLogCheck.of(await log_checks.status(scope))

    @api.field(
        description="Whether the medication log's hash chain is intact, or its first broken entry; with "
        "`expectedHead` (from an earlier export), also that this head is still in the chain. It walks the whole "
        "log (about 20 s per million entries) and keeps its verdict as the one `medicationLogCheck` shows."
    )
    async def verify_medication_log(
        self, info: api.Info, expected_head: MedicationLogHeadInput | None = None
    ) -> MedicationLogVerdict:
        tenant = await admin_or_nurse(info)
        head = expected_head.head() if expected_head else None
        async with api.database(info).tenant(tenant) as scope:
            started = utcnow()
            verdict = await log.verify(scope, head)
            await log_checks.record(
                scope, log_checks.chain_only(verdict), source="api", started=started, done=utcnow(),
                by=info.context.principal.actor.id,
            )  # fmt: skip
        return MedicationLogVerdict.of(verdict)

    @api.field(
        description="The log with its chain as JSON, for a patient-safety review (lex Maria): entries "
        f"written at or after `from` and before `to`, at most {EXPORT_LIMIT:,}; a larger export is refused "
        "(narrow the period, or use the web download, which streams the whole log)."
    )
    async def export_medication_log(
        self,
        info: api.Info,
        cabinet_id: strawberry.ID | None = None,
        care_recipient_id: strawberry.ID | None = None,
        staff_user_id: strawberry.ID | None = None,
        since: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        until: Annotated[datetime | None, strawberry.argument(name="to")] = None,
    ) -> str:
        tenant = await admin_or_nurse(info)
        narrowing = _narrowing(cabinet_id, care_recipient_id, staff_user_id, since, until)
        async with api.database(info).tenant(tenant) as scope:
            if await log.count(scope, narrowing, at_most=EXPORT_LIMIT + 1) > EXPORT_LIMIT:
                raise api.ValidationFailed(TOO_MANY)
            verdict = await log_checks.full(scope, source="export", by=info.context.principal.actor.id)
            rows = [row async for rows in log.batches(scope, narrowing) for row in rows]
        return json.dumps(log.export(tenant, rows, verdict), ensure_ascii=False)


def _narrowing(
    cabinet_id: strawberry.ID | None,
    care_recipient_id: strawberry.ID | None,
    staff_user_id: strawberry.ID | None,
    since: datetime | None,
    until: datetime | None,
) -> log.Narrowing:
    """The filters as ids, and the period in UTC when no zone is given; `to` must come after `from`."""
    since, until = (t.replace(tzinfo=UTC) if t and t.tzinfo is None else t for t in (since, until))
    if since and until and since >= until:
        raise api.ValidationFailed.on("to", "Slutet måste komma efter början. / `to` must be after `from`.")
    return log.Narrowing(
        maybe_id(cabinet_id, "Cabinet"), maybe_id(care_recipient_id, "Care recipient"),
        maybe_id(staff_user_id, "User"), since, until,
    )  # fmt: skip


@strawberry.type
class MedicineCabinetsMutation(SetupMutation, AlarmMutation):
    @api.mutation(description="Open a medicine cabinet compartment: opened, refused (why) or failed.")
    @api.errors_as_data
    async def open_cabinet_compartment(self, info: api.Info, compartment_id: strawberry.ID) -> OpenResult:
        tenant = api.require_access(info, roles=STAFF, scope=NO_SCOPE)
        db = api.database(info)
        async with db.tenant(tenant) as scope:
            timeout = (await config.load(scope)).open_timeout_s
        actor = info.context.principal.actor
        try:
            result = await service.open_compartment(
                db, api.redis(info), tenant, parse_id(compartment_id, "Compartment"), actor=actor, now=utcnow(),
                timeout_s=timeout,
            )  # fmt: skip
        except api.NotFound:  # another municipality's compartment, or none: an access attempt is audited
            async with db.tenant(tenant) as scope:
                await audit.record(
                    scope, actor=actor, action="medicine_cabinets.open_denied", target_kind="locker_compartment",
                    target_id=str(compartment_id)[:100],
                )  # fmt: skip
            raise
        return opening(result)
