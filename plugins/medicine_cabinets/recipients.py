"""Care recipients' personal identity numbers, kept only where the municipality turned the
``personal_identity_numbers`` setting on: checked (date and check digit), one per person in the
municipality, in a column of their own that the log, audit details and exports never see; shown
to tenant admins and nurses. Turning the setting off erases them (a trigger, see the migration)."""

from __future__ import annotations

from uuid import UUID

from backend import plugin_api as api
from backend.lib import local_day
from plugins.medicine_cabinets import config, identity
from tenants import audit
from tenants.access import Actor

TURN_ON = (
    "Personnummer används inte i den här kommunen. En administratör kan slå på inställningen "
    "personal_identity_numbers för Läkemedelsskåp. / Personal identity numbers are off in this municipality: "
    'a tenant admin can turn them on with configurePlugin(pluginId: "medicine_cabinets", '
    "config: {personal_identity_numbers: true}) or on the plugin's settings page."
)


async def checked_number(scope: api.Scope, text: str, *, recipient_id: UUID | None = None) -> str:
    """The normalised number, once the setting is on, it is valid and no other recipient has it."""
    if not (await config.load(scope)).personal_identity_numbers:
        raise api.ValidationFailed.on(identity.FIELD, TURN_ON)
    number = identity.normalised(text, today=local_day())
    if await scope.connection.fetchval(
        """SELECT EXISTS (SELECT 1 FROM medicine_cabinets_recipient
                          WHERE tenant_id = $1 AND personal_identity_number = $2 AND id IS DISTINCT FROM $3)""",
        scope.tenant, number, recipient_id,
    ):  # fmt: skip
        raise api.Conflict("En annan brukare har det personnumret. / Another care recipient has this number.")
    return number


async def set_number(scope: api.Scope, recipient_id: UUID, text: str | None, *, actor: Actor) -> None:
    """Set (or, with ``None``, clear) a care recipient's number; the audit says which, never the number."""
    number = await checked_number(scope, text, recipient_id=recipient_id) if text else None
    changed = await scope.connection.execute(
        "UPDATE medicine_cabinets_recipient SET personal_identity_number = $3 WHERE tenant_id = $1 AND id = $2",
        scope.tenant, recipient_id, number,
    )  # fmt: skip
    if changed == "UPDATE 0":
        raise api.NotFound("Care recipient", recipient_id)
    await audit.record(
        scope, actor=actor, action="medicine_cabinets.personal_identity_number_set", target_kind="care_recipient",
        target_id=recipient_id, details={"personal_identity_number": "set" if number else "cleared"},
    )  # fmt: skip


async def numbers(scope: api.Scope) -> dict[UUID, str]:
    """The numbers kept, by care recipient; none while the setting is off."""
    if not (await config.load(scope)).personal_identity_numbers:
        return {}
    rows = await scope.connection.fetch(
        """SELECT id, personal_identity_number FROM medicine_cabinets_recipient
           WHERE tenant_id = $1 AND personal_identity_number IS NOT NULL""",
        scope.tenant,
    )
    return {r["id"]: r["personal_identity_number"] for r in rows}
