from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import select

from cleanprod_kit import messages
from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import etag_for
from cleanprod_kit.db import SessionDep, release
from cleanprod_kit.errors import Forbidden, NotFound, PreconditionFailed
from cleanprod_kit.local_time import local
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, RESULT_ROLES
from ..adjustments.models import BaselineAdjustment
from ..adjustments.service import ensure_none_pending
from ..assignments.models import VerifierAssignment
from ..cases.models import VerificationCase
from ..cases.service import conclusion_of, get_case, readable_case
from ..deps import CaseChange, MVSettingsDep, RegistryDep, SettingsDep
from ..measurements.models import Measurement, MeasurementRevision
from ..measurements.service import revisions_of
from ..refreezes.models import BaselineRefreeze, RefreezeStatus
from ..registry import RegistryClient, RegistryUnavailable
from . import service
from .models import Conclusion
from .report import ReportContext, ReportPeople, render_report
from .schemas import ConcludeBody, ResultPublic

router = APIRouter(prefix="/api/v1/verifications/{case_id}", tags=["conclusion and result"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.post("/conclude", response_model=ResultPublic, dependencies=[Depends(require_roles(Role.VERIFIER))])
async def conclude(
    case_id: uuid.UUID,
    body: ConcludeBody,
    change: CaseChange,
    response: Response,
    registry: RegistryDep,
    settings: SettingsDep,
    mv_settings: MVSettingsDep,
) -> ResultPublic:
    """Compute and conclude (If-Match: the case's ETag). Emits `verification.concluded`."""
    session, principal = change.session, change.principal

    def may_conclude(case: VerificationCase) -> None:
        service.ensure_may_conclude(principal, case, require_completion=settings.require_completion_before_conclusion)

    # First, with no transaction open, what the registry must say: the norm in force on the last day reported.
    # The pipeline's checks run before it too, so a caller who may not conclude never waits on the registry.
    case = await readable_case(session, principal, case_id)
    may_conclude(case)
    change.check_version(case.version)
    query, lookup = await service.norm_before_lock(session, case, registry)
    # Then the transaction: lock, check again on the locked row, act.
    case = await change.lock(check=may_conclude)
    reporting = await service.reporting_inputs(session, case)
    if service.norm_query(case, reporting) != query:
        # A measurement recorded meanwhile moved the last day reported, so the norm fetched may not be the one
        # in force: answered as a stale If-Match (recording a measurement changes the case's version anyway).
        raise PreconditionFailed(current_etag=etag_for(case.version))
    adjustments = await service.adjustment_rows(session, case)
    ensure_none_pending(adjustments)
    conclusion = service.conclude(
        session, principal, case, body, service.evaluate(case, reporting, lookup, mv_settings, adjustments)
    )
    return await change.answer(response, lambda locked: service.conclusion_public(locked, conclusion))


@router.get("/preview", response_model=ResultPublic, dependencies=readers)
async def preview(
    case_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    mv_settings: MVSettingsDep,
) -> ResultPublic:
    """The computation on the current measurements, not stored (for the verifier before concluding)."""
    case = await get_case(session, principal, case_id)
    if principal.has(Role.ENTERPRISE) and not principal.has(*RESULT_ROLES):
        raise Forbidden(code="result_not_yet_visible")
    computation = await service.compute(session, case, registry, mv_settings)
    return service.preview_public(case, computation)


async def _concluded(
    session: SessionDep, principal: CurrentPrincipal, case_id: uuid.UUID
) -> tuple[VerificationCase, Conclusion]:
    case = await get_case(session, principal, case_id)
    conclusion = await conclusion_of(session, case.id)
    if conclusion is None:
        raise NotFound(slug="not-concluded", params={"case_id": str(case_id), "status": str(case.status)})
    return case, conclusion


@router.get("/result", response_model=ResultPublic, dependencies=readers)
async def read_result(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> ResultPublic:
    case, conclusion = await _concluded(session, principal, case_id)
    return service.conclusion_public(case, conclusion)


@router.get(
    "/report",
    response_class=HTMLResponse,
    dependencies=readers,
    responses={200: {"content": {"text/html": {}}, "description": "Printable verification report (A4)"}},
)
async def read_report(
    case_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
    settings: SettingsDep,
    lang: Literal["vi", "en"] | None = None,
) -> HTMLResponse:
    """The report in one language: `lang`, else the Accept-Language header, else Vietnamese."""
    case, conclusion = await _concluded(session, principal, case_id)
    header = request.headers.get("accept-language")
    language = lang or (messages.preferred_language(header) if header else "vi")
    people = await _people(session, case, conclusion)
    evidence = await _evidence(session, conclusion)
    corrections = await _corrections(session, case)
    await release(session)  # read everything first: the sector's name is asked of the registry
    context = ReportContext(
        language=language,
        sector_name=await _sector_name(registry, case.sector_code, language),
        people=people,
        evidence=evidence,
        **corrections,
    )
    html = render_report(
        case, conclusion, agency_vi=settings.agency_name_vi, agency_en=settings.agency_name_en, context=context
    )
    return HTMLResponse(
        html,
        headers={
            "Content-Disposition": f'inline; filename="verification-{case.id}.html"',
            "Content-Language": language,
        },
    )


async def _sector_name(registry: RegistryClient, code: str | None, language: str) -> str | None:
    """The sector's name from the registry; the code when the registry is unreachable or does not know it."""
    if not code:
        return None
    try:
        sector = await registry.sector(code)
    except RegistryUnavailable:
        return code
    if not sector:
        return code
    return sector.name(language) or code


async def _people(session: SessionDep, case: VerificationCase, conclusion: Conclusion) -> ReportPeople:
    """Full names as captured from the tokens: the concluding verifier, and the officer who assigned them."""
    rows = await session.exec(
        select(VerifierAssignment)
        .where(
            VerifierAssignment.case_id == case.id,
            VerifierAssignment.verifier_subject == conclusion.concluded_by_subject,
        )
        .order_by(VerifierAssignment.assigned_at.desc())
    )  # type: ignore[attr-defined]
    assignment = rows.first()
    return ReportPeople(
        verifier=conclusion.concluded_by_name, officer=assignment.assigned_by_name if assignment else None
    )


async def _corrections(session: SessionDep, case: VerificationCase) -> dict[str, Any]:
    """The case's corrections for the report: the adjustments (evidence, who approved), the periods withdrawn (their
    withdrawing revision) and the confirmed re-freezes (figures on the old and the new baseline)."""
    adjustments = await session.exec(select(BaselineAdjustment).where(BaselineAdjustment.case_id == case.id))
    withdrawn = await session.exec(
        select(MeasurementRevision)
        .join(Measurement, Measurement.id == MeasurementRevision.measurement_id)  # type: ignore[arg-type]
        .where(Measurement.case_id == case.id, Measurement.withdrawn, MeasurementRevision.withdrawn)
        .order_by(MeasurementRevision.period_start)  # type: ignore[arg-type]
    )
    refreezes = await session.exec(
        select(BaselineRefreeze)
        .where(BaselineRefreeze.case_id == case.id, BaselineRefreeze.status == RefreezeStatus.CONFIRMED)
        .order_by(BaselineRefreeze.confirmed_at)  # type: ignore[arg-type]
    )
    return {
        "adjustments": {
            str(a.id): {"evidence": a.evidence, "decided_by_name": a.decided_by_name, "decision_note": a.decision_note}
            for a in adjustments.all()
        },
        "withdrawals": [
            {
                "start": r.period_start,
                "end": r.period_end,
                "reason": r.reason,
                "by": r.recorded_by_name,
                "on": local(r.recorded_at).date(),
            }
            for r in withdrawn.all()
        ],
        "refreezes": [
            {
                "reason": r.reason,
                "requested_by": r.requested_by_name,
                "confirmed_by": r.confirmed_by_name,
                "on": local(r.confirmed_at).date() if r.confirmed_at else None,
                "old_result": r.old_result,
                "new_result": r.new_result,
            }
            for r in refreezes.all()
        ],
    }


async def _evidence(session: SessionDep, conclusion: Conclusion) -> dict[tuple[str, int], dict[str, Any]]:
    """The evidence each revision used by the conclusion cites."""
    ids = [uuid.UUID(str(u["measurement_id"])) for u in conclusion.measurements_used if u.get("measurement_id")]
    return {(str(r.measurement_id), r.revision): dict(r.evidence) for r in await revisions_of(session, ids)}
