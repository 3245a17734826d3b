"""Re-freezing a baseline that was wrong at approval (four-eyes): an officer proposes the registry's current
baseline periods with the reason; the case's verifier, another person, confirms. Only then does the case's
baseline change; the old one and the figures on both (recomputed on the current measurements) stay in the
re-freeze record, and both steps are audited. Not after conclusion: a concluded verdict was sent and paid on."""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.changes import public_from
from cleanprod_kit.concurrency import get_for_update
from cleanprod_kit.errors import Conflict, Forbidden, NotFound
from cleanprod_kit.models import utcnow

from ..cases.models import CaseStatus, VerificationCase
from ..cases.service import audit_case
from ..db_types import touch
from .models import BaselineRefreeze, RefreezeStatus
from .schemas import RefreezeConfirm, RefreezeCreate, RefreezePublic


def ensure_may_refreeze(case: VerificationCase) -> None:
    if case.status == CaseStatus.CONCLUDED:
        raise Conflict("The verification is concluded; its baseline can no longer change.", slug="case-concluded")


def propose(
    session: AsyncSession,
    principal: Principal,
    case: VerificationCase,
    body: RefreezeCreate,
    periods: list[dict[str, Any]],
) -> BaselineRefreeze:
    refreeze = BaselineRefreeze(
        case_id=case.id,
        reason=body.reason,
        old_baseline=list(case.baseline),
        new_baseline=periods,
        requested_by_subject=principal.subject,
        requested_by_name=principal.full_name or principal.display_name,
    )
    session.add(refreeze)
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "propose_baseline_refreeze",
        reason=body.reason,
        details={"refreeze_id": str(refreeze.id), "old_periods": len(case.baseline), "new_periods": len(periods)},
    )
    return refreeze


def ensure_may_confirm(principal: Principal, refreeze: BaselineRefreeze) -> None:
    if refreeze.status != RefreezeStatus.PROPOSED:
        raise Conflict(code="refreeze_confirmed", params={"refreeze_id": str(refreeze.id)})
    if refreeze.requested_by_subject == principal.subject:
        raise Forbidden(code="refreeze_four_eyes")


def confirm(
    session: AsyncSession,
    principal: Principal,
    case: VerificationCase,
    refreeze: BaselineRefreeze,
    body: RefreezeConfirm,
    figures: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    ensure_may_confirm(principal, refreeze)
    now = utcnow()
    refreeze.status = RefreezeStatus.CONFIRMED
    refreeze.confirmed_by_subject = principal.subject
    refreeze.confirmed_by_name = principal.full_name or principal.display_name
    refreeze.confirmed_at = now
    refreeze.old_result, refreeze.new_result = figures
    refreeze.version += 1
    case.baseline = list(refreeze.new_baseline)
    case.baseline_frozen_at = now
    note = f"re-frozen {now.date().isoformat()} (re-freeze {refreeze.id}): {refreeze.reason}"
    case.baseline_note = f"{case.baseline_note}; {note}" if case.baseline_note else note
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "refreeze_baseline",
        reason=body.note,
        details={"refreeze_id": str(refreeze.id), "old_result": figures[0], "new_result": figures[1]},
        changes=[{"field": "baseline_periods", "old": len(refreeze.old_baseline), "new": len(refreeze.new_baseline)}],
    )


async def refreeze_of_case(
    session: AsyncSession, case_id: uuid.UUID, refreeze_id: uuid.UUID, *, for_update: bool = False
) -> BaselineRefreeze:
    if for_update:
        found = await get_for_update(session, BaselineRefreeze, refreeze_id, what="Re-freeze")
    else:
        found = await session.get(BaselineRefreeze, refreeze_id)
    if found is None or found.case_id != case_id:
        raise NotFound(code="refreeze_not_found", params={"refreeze_id": str(refreeze_id), "case_id": str(case_id)})
    return found


async def of_case(session: AsyncSession, case_id: uuid.UUID) -> list[BaselineRefreeze]:
    rows = await session.exec(
        select(BaselineRefreeze)
        .where(BaselineRefreeze.case_id == case_id)
        .order_by(BaselineRefreeze.requested_at, BaselineRefreeze.id)  # type: ignore[arg-type]
    )
    return list(rows.all())


def to_public(refreeze: BaselineRefreeze) -> RefreezePublic:
    return public_from(
        RefreezePublic,
        refreeze,
        requested_by=refreeze.requested_by_name or refreeze.requested_by_subject,
        confirmed_by=refreeze.confirmed_by_name or refreeze.confirmed_by_subject,
    )
