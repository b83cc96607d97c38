"""OCDS packages: the release package, and the record package with a compiled release per ocid.

Compiling follows the standard's merge rules for the fields we publish: releases are applied
oldest first; objects merge field by field; arrays of objects with an ``id`` merge item by item
(identifier merge); other arrays and values replace; ``null`` removes; the release's own ``id``,
``date`` and ``tag`` are not merged (the compiled release gets ``tag: ["compiled"]``, the newest
date, and the id ``<ocid>-<date>``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from plugins.procurement.ocds_validate import EXTENSIONS, VERSION

OMITTED = frozenset({"id", "date", "tag"})


def _merge(target: dict[str, Any], source: dict[str, Any]) -> None:
    for key, value in source.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            existing = target.get(key)
            if not isinstance(existing, dict):
                existing = target[key] = {}
            _merge(existing, value)
        elif _identified(value):
            target[key] = _merge_by_id(target.get(key), value)
        else:
            target[key] = copy.deepcopy(value)


def _identified(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(i, dict) and "id" in i for i in value)


def _merge_by_id(existing: Any, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[Any, dict[str, Any]] = {}
    if _identified(existing):
        for item in existing:
            merged[item["id"]] = item
    for item in items:
        target = merged.setdefault(item["id"], {})
        _merge(target, item)
    return list(merged.values())


def compile_releases(releases: list[dict[str, Any]]) -> dict[str, Any]:
    """The compiled release of one ocid's releases."""
    ordered = sorted(releases, key=lambda r: r["date"])
    compiled: dict[str, Any] = {}
    for r in ordered:
        _merge(compiled, {k: v for k, v in r.items() if k not in OMITTED})
    latest = ordered[-1]["date"]
    return {
        "ocid": ordered[-1]["ocid"],
        "id": f"{ordered[-1]['ocid']}-{latest}",
        "date": latest,
        "tag": ["compiled"],
        **{k: v for k, v in compiled.items() if k != "ocid"},
    }


def _metadata(uri: str, publisher: str, releases: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uri": uri,
        "version": VERSION,
        "extensions": list(EXTENSIONS),
        # Generated on demand: the date of the newest change to the content, so exports are stable.
        "publishedDate": max(r["date"] for r in releases),
        "publisher": {"name": publisher},
    }


def release_package(uri: str, publisher: str, releases: list[dict[str, Any]]) -> dict[str, Any]:
    return {**_metadata(uri, publisher, releases), "releases": releases}


def record_package(uri: str, publisher: str, by_ocid: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """One record per ocid (the procurement first, then its call-offs), releases embedded."""
    every = [r for rs in by_ocid.values() for r in rs]
    records: list[dict[str, Any]] = [
        {"ocid": ocid, "releases": sorted(rs, key=lambda r: r["date"]), "compiledRelease": compile_releases(rs)}
        for ocid, rs in by_ocid.items()
    ]
    return {**_metadata(uri, publisher, every), "records": records}
