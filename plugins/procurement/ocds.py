"""Open data: one procurement as OCDS 1.1.5 (release package or record package), validated.

Who sees what:

* **Federation members** (federation admins, people and tokens of a member municipality) see
  every procurement of their federation, from its planning on, and its bids once the tender
  deadline has passed (the database shows none before it).
* **Vendors**, and so the public, see a procurement once it is published. Bids stay out of their
  view until the award decision: bid contents are secret until then (offentlighets- och
  sekretesslagen 19 kap. 3 §), even though the deadline has passed.

The export is the same for everyone with the same view; it is read in a federation transaction
without a vendor, so a vendor's own sealed bid never shows in it early. Every export is validated
against the vendored schema before it is returned (``ocds_validate``): publishing invalid open
data is a bug, and it fails loudly instead.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any
from uuid import UUID

from backend import plugin_api as api
from plugins.procurement import ocds_calloff, ocds_record, ocds_release
from plugins.procurement.ocds_load import Snapshot, load
from plugins.procurement.ocds_validate import PackageKind, check
from tenants.database import Database

__all__ = ["PackageKind", "View", "export", "packages"]


class View(str, Enum):
    MEMBER = "member"  # the federation's own people
    PUBLIC = "public"  # vendors and anyone else: published procurements only


async def export(
    db: Database,
    federation_id: UUID,
    procurement_id: UUID,
    kind: PackageKind,
    *,
    view: View,
    base_uri: str,
    now: datetime,
) -> dict[str, Any]:
    """The procurement (and its call-offs) as a validated OCDS package of ``kind``."""
    snap = await load(db, federation_id, procurement_id, now)
    if view is View.PUBLIC and snap.procurement["published_at"] is None:
        raise api.NotFound("Procurement", procurement_id)  # not published: not there for the public
    package = packages(snap, kind, view=view, base_uri=base_uri)
    check(package, kind)
    return package


def packages(snap: Snapshot, kind: PackageKind, *, view: View, base_uri: str) -> dict[str, Any]:
    p = snap.procurement
    bids_visible = view is View.MEMBER or p["award_decided_at"] is not None
    by_ocid: dict[str, list[dict[str, Any]]] = {p["ocid"]: ocds_release.releases(snap, bids_visible=bids_visible)}
    for r in ocds_calloff.releases(snap):
        by_ocid.setdefault(r["ocid"], []).append(r)
    name = "release-package" if kind is PackageKind.RELEASE_PACKAGE else "record-package"
    uri = f"{base_uri.rstrip('/')}/ocds/{p['ocid']}/{name}.json"
    publisher = snap.federation["name"]
    if kind is PackageKind.RELEASE_PACKAGE:
        every = sorted((r for rs in by_ocid.values() for r in rs), key=lambda r: (r["date"], r["ocid"]))
        return ocds_record.release_package(uri, publisher, every)
    return ocds_record.record_package(uri, publisher, by_ocid)
