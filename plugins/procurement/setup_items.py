"""What a buyer adds to a procurement before publishing it (lots, requirements, the evaluation
model) and documents and answers around it; and the questions vendors ask. Each checks who acts
and the procurement's status before it writes, and is logged."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from backend import plugin_api as api
from plugins.procurement import federation
from plugins.procurement.federation import Caller
from plugins.procurement.setup import load, require_planning
from plugins.procurement.setup_access import require_manager
from plugins.procurement.setup_checks import (
    EvaluationModel,
    QualityMethod,
    RequirementKind,
    amount,
    check_document,
    check_price_weight,
    check_requirement,
    text,
)


async def add_lot(
    scope: api.Scope, c: Caller, pid: UUID, *, title: str, description: str, estimated_value_sek: Decimal
) -> Any:
    row = await load(scope, pid, lock=True)
    require_manager(c, row)
    require_planning(row, "lots are added")
    title = text(title, "title", 300)
    description = text(description, "description", 20_000, required=False)
    value = amount(estimated_value_sek, "estimatedValueSek")
    lot = await scope.connection.fetchrow(
        """INSERT INTO procurement_lot (federation_id, id, procurement_id, number, title, description,
                                        estimated_value_sek)
           SELECT $1, $2, $3, coalesce(max(number), 0) + 1, $4, $5, $6
           FROM procurement_lot WHERE federation_id = $1 AND procurement_id = $3
           RETURNING *""",
        scope.federation_id,
        uuid4(),
        pid,
        title,
        description,
        value,
    )
    await federation.log(
        scope, c, "procurement.lot_added", procurement_id=pid, details={"lot_id": lot["id"], "number": lot["number"]}
    )
    return lot


async def add_requirement(
    scope: api.Scope,
    c: Caller,
    pid: UUID,
    *,
    kind: RequirementKind,
    requirement: str,
    weight: Decimal | None,
    deduction_sek: Decimal | None,
    lot_id: UUID | None,
) -> Any:
    row = await load(scope, pid, lock=True)
    require_manager(c, row)
    require_planning(row, "requirements are added")
    requirement = text(requirement, "text", 10_000)
    check_requirement(kind, weight, deduction_sek)
    if lot_id is not None and not await scope.connection.fetchval(
        "SELECT 1 FROM procurement_lot WHERE federation_id = $1 AND procurement_id = $2 AND id = $3",
        scope.federation_id,
        pid,
        lot_id,
    ):
        raise api.NotFound("Lot", lot_id)
    created = await scope.connection.fetchrow(
        """INSERT INTO procurement_requirement (federation_id, id, procurement_id, lot_id, kind, text, weight,
                                                deduction_sek)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *""",
        scope.federation_id,
        uuid4(),
        pid,
        lot_id,
        kind.value,
        requirement,
        weight,
        deduction_sek,
    )
    await federation.log(
        scope,
        c,
        "procurement.requirement_added",
        procurement_id=pid,
        details={"requirement_id": created["id"], "kind": kind.value, "weight": weight, "deduction_sek": deduction_sek},
    )
    return created


async def add_document(
    scope: api.Scope,
    c: Caller,
    pid: UUID,
    *,
    title: str,
    document_type: str,
    url: str | None,
    body: str | None,
    sha256: str | None,
    now: datetime,
) -> Any:
    """Before publication or, as a clarification or addendum, until the tender deadline."""
    row = await load(scope, pid, lock=True)
    require_manager(c, row)
    if row["status"] not in ("planning", "published") or (row["tender_deadline"] and row["tender_deadline"] <= now):
        raise api.Conflict("Documents are added until the tender deadline; it has passed or the procurement closed.")
    title = text(title, "title", 300)
    url, body, digest = check_document(document_type, url, body, sha256)
    created = await scope.connection.fetchrow(
        """INSERT INTO procurement_document (federation_id, id, procurement_id, title, document_type, url, body,
                                             sha256, published_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *""",
        scope.federation_id,
        uuid4(),
        pid,
        title,
        document_type,
        url,
        body,
        digest,
        now,
    )
    await federation.log(
        scope,
        c,
        "procurement.document_added",
        procurement_id=pid,
        details={"document_id": created["id"], "title": title, "document_type": document_type, "sha256": digest},
    )
    return created


async def set_evaluation_model(
    scope: api.Scope,
    c: Caller,
    pid: UUID,
    *,
    model: EvaluationModel,
    quality_method: QualityMethod,
    price_weight: Decimal | None,
) -> Any:
    row = await load(scope, pid, lock=True)
    require_manager(c, row)
    require_planning(row, "the evaluation model is set")
    check_price_weight(model, quality_method, price_weight)
    await scope.connection.execute(
        """UPDATE procurement SET evaluation_model = $3, quality_method = $4, price_weight = $5
           WHERE federation_id = $1 AND id = $2""",
        scope.federation_id,
        pid,
        model.value,
        quality_method.value,
        price_weight,
    )
    await federation.log(
        scope,
        c,
        "procurement.evaluation_model_set",
        procurement_id=pid,
        details={"model": model.value, "quality_method": quality_method.value, "price_weight": price_weight},
    )
    return await load(scope, pid)


async def ask_question(scope: api.Scope, c: Caller, pid: UUID, *, question: str, now: datetime) -> Any:
    vendor = federation.require_vendor(c)
    row = await _published(scope, pid, now)
    question = text(question, "question", 4_000)
    created = await scope.connection.fetchrow(
        """INSERT INTO procurement_question (federation_id, id, procurement_id, vendor_id, question, asked_at)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING *""",
        scope.federation_id,
        uuid4(),
        row["id"],
        vendor,
        question,
        now,
    )
    await federation.log(
        scope, c, "procurement.question_asked", procurement_id=pid, details={"question_id": created["id"]}
    )
    return created


async def answer_question(scope: api.Scope, c: Caller, question_id: UUID, *, answer: str, now: datetime) -> Any:
    """The answer is published to every vendor, without the asker."""
    question = await scope.connection.fetchrow(
        "SELECT * FROM procurement_question WHERE federation_id = $1 AND id = $2 FOR UPDATE",
        scope.federation_id,
        question_id,
    )
    if question is None:
        raise api.NotFound("Question", question_id)
    row = await load(scope, question["procurement_id"], lock=True)
    require_manager(c, row)
    if row["status"] != "published":
        raise api.Conflict(f"The procurement is {row['status']}: questions are answered while it is published.")
    if question["answer"] is not None:
        raise api.Conflict("This question is answered already: publish more as a clarification document.")
    answer = text(answer, "answer", 10_000)
    answered = await scope.connection.fetchrow(
        """UPDATE procurement_question SET answer = $3, answered_at = $4, answered_by = $5
           WHERE federation_id = $1 AND id = $2 RETURNING *""",
        scope.federation_id,
        question_id,
        answer,
        now,
        c.label[:320],
    )
    await federation.log(
        scope, c, "procurement.question_answered", procurement_id=row["id"], details={"question_id": question_id}
    )
    return answered


async def _published(scope: api.Scope, pid: UUID, now: datetime) -> Any:
    """A procurement vendors may see and still ask about (NotFound alike for one they may not see)."""
    row = await load(scope, pid)
    if row["published_at"] is None:
        raise api.NotFound("Procurement", pid)
    if row["status"] != "published" or row["tender_deadline"] <= now:
        raise api.Conflict("The tender deadline has passed: questions are no longer taken.")
    return row
