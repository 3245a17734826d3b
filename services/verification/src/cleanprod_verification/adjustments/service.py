"""Non-routine adjustments (IPMVP): the case's verifier records one with its reason, amount and evidence while
measuring; an officer who did not record it approves or rejects it (four-eyes). Only approved adjustments enter
the computation (results show adjusted and unadjusted figures); a conclusion waits for every decision."""

from __future__ import annotations

import uuid

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.concurrency import get_for_update
from cleanprod_kit.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from cleanprod_kit.models import utcnow

from ..cases.models import CaseStatus, VerificationCase
from ..cases.service import audit_case
from ..db_types import touch
from ..mv import InputError, UnsupportedCarrierError, default_tables
from ..mv.adjustments import NonRoutineAdjustment
from .models import AdjustmentStatus, BaselineAdjustment
from .schemas import AdjustmentCreate, AdjustmentDecision, AdjustmentPublic


def record(
    session: AsyncSession, principal: Principal, case: VerificationCase, body: AdjustmentCreate
) -> BaselineAdjustment:
    """`case` is locked and the caller is its acting verifier, measuring."""
    try:
        toe_per = default_tables().toe_per(body.carrier, body.unit, "unit")
    except InputError as exc:
        field = "carrier" if isinstance(exc, UnsupportedCarrierError) else "unit"
        raise Unprocessable(
            f"The adjustment cannot be converted to energy: {exc.message}",
            code="adjustment_unusable",
            errors=[field_error(field, exc.message, exc.code)],
        ) from None
    adjustment = BaselineAdjustment(
        case_id=case.id,
        carrier=body.carrier,
        quantity=body.quantity,
        unit=body.unit,
        amount_toe=body.quantity * toe_per,
        reason=body.reason,
        evidence=body.evidence.model_dump(exclude_none=True),
        recorded_by_subject=principal.subject,
        recorded_by_name=principal.full_name or principal.display_name,
    )
    session.add(adjustment)
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "record_adjustment",
        reason=body.reason,
        details={"adjustment_id": str(adjustment.id), "carrier": body.carrier, "amount_toe": adjustment.amount_toe},
    )
    return adjustment


def ensure_officer_may_decide(principal: Principal, case: VerificationCase, adjustment: BaselineAdjustment) -> None:
    if case.status == CaseStatus.CONCLUDED:
        raise Conflict("The verification is concluded; its adjustments can no longer change.", slug="case-concluded")
    if adjustment.status != AdjustmentStatus.PROPOSED:
        raise Conflict(code="adjustment_decided", params={"status": adjustment.status})
    if adjustment.recorded_by_subject == principal.subject:
        raise Forbidden(code="adjustment_four_eyes")


def decide(
    session: AsyncSession,
    principal: Principal,
    case: VerificationCase,
    adjustment: BaselineAdjustment,
    body: AdjustmentDecision,
) -> None:
    ensure_officer_may_decide(principal, case, adjustment)
    adjustment.status = AdjustmentStatus.APPROVED if body.approve else AdjustmentStatus.REJECTED
    adjustment.decided_by_subject = principal.subject
    adjustment.decided_by_name = principal.full_name or principal.display_name
    adjustment.decided_at = utcnow()
    adjustment.decision_note = body.note
    adjustment.version += 1
    touch(case)  # the figures change: a client holding the case's old ETag must read again
    audit_case(
        session,
        principal,
        case,
        "approve_adjustment" if body.approve else "reject_adjustment",
        reason=body.note,
        details={"adjustment_id": str(adjustment.id), "amount_toe": adjustment.amount_toe},
        changes=[{"field": "status", "old": AdjustmentStatus.PROPOSED.value, "new": adjustment.status}],
    )


async def adjustment_of_case(
    session: AsyncSession, case_id: uuid.UUID, adjustment_id: uuid.UUID, *, for_update: bool = False
) -> BaselineAdjustment:
    if for_update:
        found = await get_for_update(session, BaselineAdjustment, adjustment_id, what="Adjustment")
    else:
        found = await session.get(BaselineAdjustment, adjustment_id)
    if found is None or found.case_id != case_id:
        raise NotFound(
            code="adjustment_not_found", params={"adjustment_id": str(adjustment_id), "case_id": str(case_id)}
        )
    return found


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> list[BaselineAdjustment]:
    rows = await session.exec(
        select(BaselineAdjustment)
        .where(BaselineAdjustment.case_id == case_id)
        .order_by(BaselineAdjustment.recorded_at, BaselineAdjustment.id)  # type: ignore[arg-type]
    )
    return list(rows.all())


def approved_for_computation(adjustments: list[BaselineAdjustment]) -> list[NonRoutineAdjustment]:
    return [
        NonRoutineAdjustment(a.carrier, a.amount_toe, a.reason, reference=str(a.id))
        for a in adjustments
        if a.status == AdjustmentStatus.APPROVED
    ]


def ensure_none_pending(adjustments: list[BaselineAdjustment]) -> None:
    pending = [str(a.id) for a in adjustments if a.status == AdjustmentStatus.PROPOSED]
    if pending:
        raise Conflict(code="adjustment_pending", params={"adjustments": ", ".join(pending)})


def to_public(adjustment: BaselineAdjustment) -> AdjustmentPublic:
    return public_from(
        AdjustmentPublic,
        adjustment,
        recorded_by=adjustment.recorded_by_name or adjustment.recorded_by_subject,
        decided_by=adjustment.decided_by_name or adjustment.decided_by_subject,
    )
