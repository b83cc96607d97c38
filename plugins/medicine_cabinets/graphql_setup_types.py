"""GraphQL types of the set-up lists: care recipients, cabinets with their compartments, staff
qualifications and assignments."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from plugins.medicine_cabinets import listing, queries


def _id(value: object) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.type(description="A person whose medicines a cabinet holds, known by an internal reference.")
class CareRecipient:
    id: strawberry.ID
    reference: str
    created_at: datetime
    has_cabinet: bool
    personal_identity_number: str | None = strawberry.field(
        description="Twelve digits, only where the municipality keeps them (shown to tenant admins and nurses)."
    )

    @classmethod
    def of(cls, r: listing.Recipient, number: str | None) -> CareRecipient:
        return cls(
            id=_id(r.id), reference=r.reference, created_at=r.created_at, has_cabinet=r.has_cabinet,
            personal_identity_number=number,
        )  # fmt: skip


@strawberry.type(description="A compartment of a medicine cabinet; `nurseOnly`: opens for nurses only.")
class CabinetCompartment:
    id: strawberry.ID
    key: str
    nurse_only: bool
    door_open: bool | None
    locked: bool | None


@strawberry.type(description="A locker placed in a care recipient's home as a medicine cabinet.")
class MedicineCabinet:
    id: strawberry.ID
    locker_id: strawberry.ID
    locker_name: str
    care_recipient_id: strawberry.ID
    care_recipient_reference: str
    responsible_nurse_id: strawberry.ID | None
    online: bool
    compartments: list[CabinetCompartment]

    @classmethod
    def of(cls, c: queries.CabinetView) -> MedicineCabinet:
        return cls(
            id=_id(c.id), locker_id=_id(c.locker_id), locker_name=c.locker_name, care_recipient_id=_id(c.recipient_id),
            care_recipient_reference=c.recipient_reference,
            responsible_nurse_id=_id(c.responsible_nurse_id) if c.responsible_nurse_id else None, online=c.online,
            compartments=[
                CabinetCompartment(id=_id(p.id), key=p.key, nurse_only=p.restricted, door_open=p.door_open,
                                   locked=p.locked)
                for p in c.compartments
            ],
        )  # fmt: skip


@strawberry.type(description="A person working in the municipality and whether they are a nurse here.")
class StaffQualification:
    user_id: strawberry.ID
    name: str
    nurse: bool

    @classmethod
    def of(cls, q: listing.Qualification) -> StaffQualification:
        return cls(user_id=_id(q.user_id), name=q.name, nurse=q.nurse)


@strawberry.type(description="A staff member assigned to a care recipient on a day.")
class StaffAssignment:
    user_id: strawberry.ID
    user_name: str
    care_recipient_id: strawberry.ID
    care_recipient_reference: str
    day: date

    @classmethod
    def of(cls, a: listing.Assignment) -> StaffAssignment:
        return cls(
            user_id=_id(a.user_id), user_name=a.user_name, care_recipient_id=_id(a.recipient_id),
            care_recipient_reference=a.recipient_reference, day=a.day,
        )  # fmt: skip


SETUP_TYPES: tuple[type, ...] = (
    CareRecipient, CabinetCompartment, MedicineCabinet, StaffQualification, StaffAssignment,
)  # fmt: skip
