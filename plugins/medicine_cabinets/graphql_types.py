"""GraphQL types of the medicine cabinets plugin."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from backend import plugin_api as api
from plugins.medicine_cabinets import chain, log_checks, service
from plugins.medicine_cabinets.graphql_alarms import ALARM_TYPES
from plugins.medicine_cabinets.graphql_setup_types import SETUP_TYPES


def _id(value: Any) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(value))


@strawberry.type(description="Created: its id.")
class MedicineCreated:
    id: strawberry.ID


@strawberry.type(description="Done.")
class MedicineDone:
    ok: bool = True


CreatedResult = Annotated[MedicineCreated | api.Errors, strawberry.union("MedicineCreatedResult")]
DoneResult = Annotated[MedicineDone | api.Errors, strawberry.union("MedicineDoneResult")]


@strawberry.type(description="The compartment opened; the entry in the medication log.")
class CabinetOpened:
    request_id: strawberry.ID
    log_seq: int


@strawberry.type(description="Refused before anything was sent; `reason`: not_assigned, nurse_only or offline.")
class CabinetRefused:
    reason: str
    message: str
    log_seq: int


@strawberry.type(description="Sent, but the cabinet failed or did not answer in time; try again or call support.")
class CabinetFailed:
    request_id: strawberry.ID
    detail: str
    log_seq: int


def opening(
    result: service.Opened | service.Refused | service.Failed,
) -> CabinetOpened | CabinetRefused | CabinetFailed:
    if isinstance(result, service.Opened):
        return CabinetOpened(request_id=strawberry.ID(str(result.request_id)), log_seq=result.seq)
    if isinstance(result, service.Refused):
        return CabinetRefused(reason=result.code, message=result.message, log_seq=result.seq)
    return CabinetFailed(request_id=strawberry.ID(str(result.request_id)), detail=result.detail, log_seq=result.seq)


@strawberry.type(description="One entry of the hash-chained medication log.")
class MedicationLogEntry:
    seq: int
    at: datetime
    kind: str
    cabinet_id: strawberry.ID | None
    compartment_id: strawberry.ID | None
    care_recipient_id: strawberry.ID | None
    staff_user_id: strawberry.ID | None
    request_id: strawberry.ID | None
    detail: str
    prev_hash: str
    hash: str

    @classmethod
    def of(cls, r: dict[str, Any]) -> MedicationLogEntry:
        return cls(
            seq=r["seq"], at=r["at"], kind=r["kind"], cabinet_id=_id(r["cabinet_id"]),
            compartment_id=_id(r["compartment_id"]), care_recipient_id=_id(r["recipient_id"]),
            staff_user_id=_id(r["staff_user_id"]), request_id=_id(r["request_id"]), detail=r["detail"],
            prev_hash=r["prev_hash"], hash=r["hash"],
        )  # fmt: skip


@strawberry.type(
    description="Whether the log's chain holds; if not, the first entry where it breaks. `truncated`: entries "
    "known to have existed (anchored, or the expected head) are gone from the end. `headSeq` and `headHash`: "
    "the last entry checked, to keep and pass as `expectedHead` in a later review."
)
class MedicationLogVerdict:
    intact: bool
    checked: int
    broken_seq: int | None
    reason: str
    truncated: bool
    head_seq: int | None
    head_hash: str | None

    @classmethod
    def of(cls, v: chain.Verdict) -> MedicationLogVerdict:
        return cls(
            intact=v.intact, checked=v.checked, broken_seq=v.broken_seq, reason=v.reason, truncated=v.truncated,
            head_seq=v.head.seq if v.head else None, head_hash=v.head.hash if v.head else None,
        )  # fmt: skip


@strawberry.type(
    description="The medication log's kept verdict and what was checked since, without walking the whole log. "
    "`wholeLog`: the latest full check (`checkedAt`, by `source`: daily in the background, requested, or "
    "`verifyMedicationLog`), which covers the entries up to its `headSeq`; null if the log was never checked whole. "
    "`newEntries`: checked now, only the `newEntriesChecked` entries after that head (their links from its hash, "
    "their hashes, their anchors) and that the head entry is unchanged; null if there is no intact full check to "
    "start from. `requestedAt`: a full check was asked for and runs in the background soon. `intact`: both hold "
    "(null: never checked whole)."
)
class MedicationLogCheck:
    intact: bool | None
    checked_at: datetime | None
    source: str | None
    whole_log: MedicationLogVerdict | None
    new_entries: MedicationLogVerdict | None
    new_entries_checked: int
    requested_at: datetime | None

    @classmethod
    def of(cls, s: log_checks.Status) -> MedicationLogCheck:
        kept = s.kept
        return cls(
            intact=s.intact, checked_at=kept.at if kept else None, source=kept.source if kept else None,
            whole_log=MedicationLogVerdict.of(kept.verdict) if kept else None,
            new_entries=MedicationLogVerdict.of(s.newer) if s.newer else None, new_entries_checked=s.newer_count,
            requested_at=s.requested_at,
        )  # fmt: skip


@strawberry.input(description="A head of the log kept from an earlier export or verification.")
class MedicationLogHeadInput:
    seq: int
    hash: str

    def head(self) -> chain.Head:
        if self.seq < 1 or len(self.hash) != 64 or any(ch not in "0123456789abcdef" for ch in self.hash):
            raise api.ValidationFailed.on("expectedHead", "En post (seq >= 1) och en SHA-256 i hex. / seq and hash.")
        return chain.Head(self.seq, self.hash)


TYPES: tuple[type, ...] = (
    CabinetOpened, CabinetRefused, CabinetFailed, MedicationLogEntry, MedicationLogVerdict, MedicationLogCheck,
    *SETUP_TYPES,
    *ALARM_TYPES,
)  # fmt: skip
