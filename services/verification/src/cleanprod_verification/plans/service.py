"""The M&V plan: the verifier chooses the baseline model and its degree-day basis while measuring; an officer
may approve a reporting start other than the day after completion. Both are audited on the case."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from cleanprod_kit.auth import Principal
from cleanprod_kit.errors import Conflict, Unprocessable, field_error
from cleanprod_kit.models import utcnow

from ..cases.models import CaseStatus, VerificationCase
from ..cases.service import audit_case
from ..db_types import touch
from ..mv import InputErrors
from ..mv.models import BaselineModel, DegreeDayBasis, validate_model
from .schemas import MVPlanBody, MVPlanPublic, ReportingStartBody, ReportingStartPublic


def model_of(case: VerificationCase) -> BaselineModel:
    """The case's plan as the computation reads it (no plan: the default model)."""
    plan = case.mv_plan or {}
    return BaselineModel(
        plan.get("model"),
        DegreeDayBasis(
            plan.get("degree_day_unit", "C"), plan.get("cdd_base"), plan.get("hdd_base"), plan.get("station")
        ),
    )


def plan_public(case: VerificationCase) -> MVPlanPublic:
    return MVPlanPublic(**(case.mv_plan or {"model": None}))


def set_plan(session: AsyncSession, principal: Principal, case: VerificationCase, body: MVPlanBody) -> None:
    model = BaselineModel(body.model, DegreeDayBasis(body.degree_day_unit, body.cdd_base, body.hdd_base, body.station))
    try:
        validate_model(model)
    except InputErrors as exc:
        errors = [
            field_error(e.field.removeprefix("model.") if e.field else "model", e.message, "invalid_value")
            for e in exc.errors
        ]
        raise Unprocessable(
            "The M&V plan is not usable: " + "; ".join(e.message for e in exc.errors),
            code="mv_plan_invalid",
            errors=errors,
        ) from None
    old: dict[str, Any] = dict(case.mv_plan or {})
    plan = body.model_dump(mode="json")
    plan.update(set_by=principal.full_name or principal.display_name, set_at=utcnow().isoformat())
    case.mv_plan = plan
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "set_mv_plan",
        reason=f"baseline model {body.model}"
        + (f", degree-days in °{body.degree_day_unit}" if model.uses_weather else "")
        + (f": {body.note}" if body.note else ""),
        details={"old": {k: v for k, v in old.items() if k not in ("set_by", "set_at")}, "new": body.model_dump()},
    )


def ensure_officer_may_set_reporting_start(case: VerificationCase) -> None:
    if case.status == CaseStatus.CONCLUDED:
        raise Conflict(
            "The verification is concluded; its reporting start can no longer change.", slug="case-concluded"
        )


def set_reporting_start(
    session: AsyncSession, principal: Principal, case: VerificationCase, body: ReportingStartBody
) -> None:
    old = case.reporting_start
    case.reporting_start = body.reporting_start
    case.reporting_start_note = body.note
    touch(case)
    audit_case(
        session,
        principal,
        case,
        "approve_reporting_start",
        reason=f"reporting starts {body.reporting_start.isoformat()}: {body.note}",
        details={"old": old.isoformat() if old else None, "new": body.reporting_start.isoformat()},
    )


def reporting_start_public(case: VerificationCase) -> ReportingStartPublic:
    return ReportingStartPublic(
        reporting_start=case.reporting_start, note=case.reporting_start_note, completed_on=case.completed_on
    )
