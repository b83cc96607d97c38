"""Validation of OCDS packages against the vendored 1.1.5 schemas (``ocds_schema/``).

The release schema is patched the way OCDS tooling applies extensions: each extension's
``release-schema.json`` is a JSON Merge Patch (RFC 7386) over the core schema. We merge the lots
extension (vendored, unchanged) and our own model of the bids section
(``ocds_schema/samverka/bids-release-schema.json``; the bids extension itself is not vendored, see
the README there). The package schemas then resolve their references to the patched release
schema. Formats (``date-time``, ``uri``) are checked too, by small checkers of our own, since
jsonschema checks them only with optional libraries we do not install.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

VERSION = "1.1"
CORE = "1.1.5"
BASE = "https://standard.open-contracting.org/schema/1__1__5/"
EXTENSIONS = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json",
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json",
)
PATCHES = ("extensions/lots/release-schema.json", "samverka/bids-release-schema.json")

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


class PackageKind(str, Enum):
    RELEASE_PACKAGE = "release_package"
    RECORD_PACKAGE = "record_package"


class OcdsInvalid(Exception):
    """An export does not validate: a bug in the export, never the caller's input."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("OCDS export does not validate: " + "; ".join(problems[:5]))
        self.problems = problems


def _load(path: str) -> dict[str, Any]:
    text = resources.files("plugins.procurement").joinpath("ocds_schema", *path.split("/")).read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, null removes a member, anything else replaces."""
    if not isinstance(patch, Mapping):
        return patch
    result = dict(target) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@cache
def release_schema() -> dict[str, Any]:
    """The 1.1.5 release schema with the lots extension and our bids model merged in."""
    schema = _load(f"{CORE}/release-schema.json")
    for patch in PATCHES:
        schema = merge_patch(schema, _load(patch))
    return schema


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats apply to strings only
    if not RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return bool(SCHEME.match(parts.scheme)) and bool(parts.netloc or parts.path) and " " not in value


def format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)
    return checker


@cache
def _validator(kind: PackageKind) -> Draft4Validator:
    versioned = _load(f"{CORE}/versioned-release-validation-schema.json")
    registry: Registry[Any] = Registry().with_resources(
        (uri, Resource.from_contents(contents, default_specification=DRAFT4))
        for uri, contents in (
            (BASE + "release-schema.json", release_schema()),
            (BASE + "versioned-release-validation-schema.json", versioned),
        )
    )
    name = "release-package-schema.json" if kind is PackageKind.RELEASE_PACKAGE else "record-package-schema.json"
    return Draft4Validator(_load(f"{CORE}/{name}"), registry=registry, format_checker=format_checker())


def problems(package: Mapping[str, Any], kind: PackageKind) -> list[str]:
    """Every way ``package`` breaks the schema, as ``path: message`` (empty when it is valid)."""
    found = sorted(_validator(kind).iter_errors(package), key=lambda e: [str(p) for p in e.absolute_path])
    return [f"/{'/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in found]


def check(package: Mapping[str, Any], kind: PackageKind) -> None:
    found = problems(package, kind)
    if found:
        raise OcdsInvalid(found)
