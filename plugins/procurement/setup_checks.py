"""Checks on what a buyer enters while setting up a procurement, with no database: texts, the
evaluation model against the requirements, documents (type, link, fingerprint)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from backend import plugin_api as api
from plugins.procurement import rules

# OCDS 1.1 documentType codes that belong to a tender.
DOCUMENT_TYPES = frozenset(
    {
        "tenderNotice",
        "biddingDocuments",
        "technicalSpecifications",
        "evaluationCriteria",
        "eligibilityCriteria",
        "clarifications",
        "contractDraft",
        "billOfQuantity",
        "riskProvisions",
        "conflictOfInterest",
        "shortlistedFirms",
        "evaluationReports",
        "procurementPlan",
        "needsAssessment",
        "marketStudies",
    }
)
SHA256 = re.compile(r"^[0-9a-f]{64}$")
MAX_BODY = 1_000_000


class ProcurementStatus(str, Enum):
    PLANNING = "planning"
    PUBLISHED = "published"
    EVALUATED = "evaluated"
    AWARDED = "awarded"
    CONTRACTED = "contracted"
    CANCELLED = "cancelled"


class EvaluationModel(str, Enum):
    LOWEST_PRICE = "lowest_price"
    LOWEST_COST = "lowest_cost"
    BEST_PRICE_QUALITY = "best_price_quality"


class QualityMethod(str, Enum):
    DEDUCTION = "deduction"
    WEIGHTED = "weighted"


class RequirementKind(str, Enum):
    MANDATORY = "mandatory"
    WEIGHTED = "weighted"
    DEDUCTION = "deduction"


def text(value: str, field: str, most: int, *, required: bool = True) -> str:
    """Trimmed (single-line fields also collapsed), present when required, not too long."""
    value = re.sub(r"\s+", " ", value).strip() if most <= 300 else value.strip()
    if required and not value:
        raise api.ValidationFailed.on(field, f"Fill in the {field}.")
    if len(value) > most:
        raise api.ValidationFailed.on(field, f"At most {most} characters.")
    return value


def amount(value: Decimal, field: str, *, positive: bool = False) -> Decimal:
    if not value.is_finite() or value < 0 or (positive and value == 0) or value >= Decimal("1e12"):
        above = "above 0" if positive else "from 0"
        raise api.ValidationFailed.on(field, f"Give an amount {above} up to 999 999 999 999.99.")
    if value != value.quantize(rules.CENT):
        raise api.ValidationFailed.on(field, "Use at most two decimals.")
    return value


def check_requirement(kind: RequirementKind, weight: Decimal | None, deduction_sek: Decimal | None) -> None:
    if kind is RequirementKind.WEIGHTED:
        if weight is None or not weight.is_finite() or not Decimal(0) < weight <= 100:
            raise api.ValidationFailed.on("weight", "A weighted requirement needs a weight above 0 and at most 100.")
        if weight != weight.quantize(rules.CENT):
            raise api.ValidationFailed.on("weight", "Use at most two decimals.")
    elif weight is not None:
        raise api.ValidationFailed.on("weight", "Only weighted requirements have a weight.")
    if kind is RequirementKind.DEDUCTION:
        if deduction_sek is None:
            raise api.ValidationFailed.on("deductionSek", "A deduction requirement needs the SEK deducted when met.")
        amount(deduction_sek, "deductionSek", positive=True)
    elif deduction_sek is not None:
        raise api.ValidationFailed.on("deductionSek", "Only deduction requirements deduct SEK.")


def check_price_weight(model: EvaluationModel, method: QualityMethod, price_weight: Decimal | None) -> None:
    weighted = model is EvaluationModel.BEST_PRICE_QUALITY and method is QualityMethod.WEIGHTED
    if weighted and price_weight is None:
        raise api.ValidationFailed.on("priceWeight", "The weighted method needs the weight of the price (0 to 100).")
    if not weighted and price_weight is not None:
        raise api.ValidationFailed.on(
            "priceWeight", "Only best price-quality with the weighted method has a price weight."
        )
    if price_weight is not None and (
        not price_weight.is_finite()
        or not 0 <= price_weight <= 100
        or price_weight != price_weight.quantize(rules.CENT)
    ):
        raise api.ValidationFailed.on("priceWeight", "The price weight is 0 to 100, with two decimals at most.")


def check_model(
    model: str, method: str, price_weight: Decimal | None, lots: Sequence[Any], requirements: Sequence[Any]
) -> None:
    """The requirements fit the evaluation model; a weighted one adds up to 100 in every lot."""
    kinds = {r["kind"] for r in requirements}
    if model != EvaluationModel.BEST_PRICE_QUALITY.value:
        if kinds - {RequirementKind.MANDATORY.value}:
            raise api.ValidationFailed.on(
                "evaluationModel",
                f"With {model} only mandatory requirements count: choose best_price_quality "
                "(mutation setEvaluationModel) or remove the weighted and deduction requirements.",
            )
        return
    other = RequirementKind.WEIGHTED if method == QualityMethod.DEDUCTION.value else RequirementKind.DEDUCTION
    if other.value in kinds:
        raise api.ValidationFailed.on(
            "qualityMethod",
            f"The quality method is {method} but there are {other.value} requirements: "
            "change the method (mutation setEvaluationModel) or the requirements.",
        )
    if method == QualityMethod.WEIGHTED.value:
        if price_weight is None:
            raise api.ValidationFailed.on("priceWeight", "Set the price weight (mutation setEvaluationModel).")
        for lot in sorted(lots, key=lambda r: r["number"]):
            weights = [
                r["weight"]
                for r in requirements
                if r["kind"] == RequirementKind.WEIGHTED.value and r["lot_id"] in (None, lot["id"])
            ]
            rules.check_weights(price_weight, weights, where=f"lot {lot['number']}")


def check_document(document_type: str, url: str | None, body: str | None, sha256: str | None) -> tuple[str, str, str]:
    """The link, the text and the SHA-256 to store: either a text (hashed here) or a link to a
    file with the SHA-256 the buyer computed, so vendors can check they read the same file."""
    if document_type not in DOCUMENT_TYPES:
        raise api.ValidationFailed.on(
            "documentType", f"Choose an OCDS document type: {', '.join(sorted(DOCUMENT_TYPES))}."
        )
    url = (url or "").strip()
    body = body or ""
    if bool(url) == bool(body.strip()):
        raise api.ValidationFailed.on("url", "Give either a link (url) or the text (body) of the document.")
    if body:
        if len(body) > MAX_BODY:
            raise api.ValidationFailed.on("body", f"At most {MAX_BODY} characters: publish a longer one as a link.")
        if sha256 is not None:
            raise api.ValidationFailed.on("sha256", "The SHA-256 of a text is computed here: leave sha256 out.")
        return "", body, hashlib.sha256(body.encode()).hexdigest()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or len(url) > 1000:
        raise api.ValidationFailed.on("url", "Give an https:// link of at most 1000 characters.")
    digest = (sha256 or "").strip().lower()
    if not SHA256.match(digest):
        raise api.ValidationFailed.on(
            "sha256", "Give the SHA-256 of the linked file (64 hex digits, e.g. from `sha256sum`)."
        )
    return url, "", digest
