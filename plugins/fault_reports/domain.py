"""Fault reports as plain Python: categories, statuses, and the checks on a new report, including
what a photo is (JPEG or PNG by its content, never by its name) and how large it may be."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from backend.lib import FieldError

PLUGIN_ID = "fault_reports"
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_DESCRIPTION = 2000
JPEG = "image/jpeg"
PNG = "image/png"


class Category(str, Enum):
    DOOR_OR_LOCK = "door_or_lock"
    TEMPERATURE = "temperature"
    KEYPAD_OR_DISPLAY = "keypad_or_display"
    DAMAGE = "damage"
    CLEANING = "cleaning"
    OTHER = "other"


class Status(str, Enum):
    """reported -> acknowledged -> in_progress -> resolved, or rejected from any open status."""

    REPORTED = "reported"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"


OPEN = frozenset({Status.REPORTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS})
NEXT: dict[Status, frozenset[Status]] = {
    Status.REPORTED: frozenset({Status.ACKNOWLEDGED, Status.REJECTED}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED}),
    Status.IN_PROGRESS: frozenset({Status.RESOLVED, Status.REJECTED}),
    Status.RESOLVED: frozenset(),
    Status.REJECTED: frozenset(),
}

MOVES = frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED})
MAX_NOTE = 2000


def move_problems(to: Status, note: str) -> list[FieldError]:
    """What is wrong with a requested move before the fault is read (its status is checked there)."""
    problems = []
    if to not in MOVES:
        problems.append(FieldError("to", "Choose ACKNOWLEDGED, IN_PROGRESS, RESOLVED or REJECTED."))
    if len(note) > MAX_NOTE:
        problems.append(FieldError("note", f"Use at most {MAX_NOTE} characters."))
    return problems


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"


class Source(str, Enum):
    STAFF = "staff"
    GATEWAY = "gateway"


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str  # detected from the content


@dataclass(frozen=True)
class NewFaultReport:
    locker_id: str
    compartment_id: str | None
    category: Category
    description: str
    photo: bytes | None = None


def photo_type(content: bytes) -> str | None:
    """``image/jpeg`` or ``image/png`` when the bytes are one (by their signature), else None."""
    if content.startswith(b"\xff\xd8\xff") and len(content) > 4:
        return JPEG
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) > 8:
        return PNG
    return None


class PhotoTooLarge(ValueError):
    """Kept apart from other problems so an upload edge can answer 413."""


def check_photo(content: bytes | None) -> Photo | None:
    """The photo, typed by its content; raises PhotoTooLarge or ValueError (not JPEG/PNG)."""
    if not content:
        return None
    if len(content) > MAX_PHOTO_BYTES:
        raise PhotoTooLarge(f"The photo is larger than {MAX_PHOTO_BYTES // (1024 * 1024)} MB.")
    kind = photo_type(content)
    if kind is None:
        raise ValueError("The photo must be a JPEG or PNG image.")
    return Photo(content, kind)


def problems_with(new: NewFaultReport) -> list[FieldError]:
    """What is wrong with a new report that needs no database (the locker is checked there)."""
    problems = []
    description = new.description.strip()
    if not description:
        problems.append(FieldError("description", "Describe the fault."))
    elif len(description) > MAX_DESCRIPTION:
        problems.append(FieldError("description", f"Use at most {MAX_DESCRIPTION} characters."))
    try:
        check_photo(new.photo)
    except ValueError as exc:
        problems.append(FieldError("photo", str(exc)))
    return problems
