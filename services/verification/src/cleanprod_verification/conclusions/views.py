from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import check_if_match, get_for_update, set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.errors import Forbidden, NotFound

from ..access import READ_ROLES
from ..cases.models import VerificationCase
from ..cases.service import conclusion_of, get_case
from ..registry import RegistryClient
from . import service
from .models import Conclusion
from .report import render_report
from .schemas import ConcludeBody, ResultPublic

router = APIRouter(prefix="/api/v1/verifications/{case_id}", tags=["conclusion and result"])
readers = [Depends(require_roles(*READ_ROLES))]


def registry_of(request: Request) -> RegistryClient:
    return request.app.state.registry()


@router.post("/conclude", response_model=ResultPublic, dependencies=[Depends(require_roles("verifier"))])
async def conclude(case_id: uuid.UUID, body: ConcludeBody, request: Request, session: SessionDep,
                   principal: CurrentPrincipal, response: Response) -> ResultPublic:
    """Compute and conclude (If-Match: the case's ETag). Emits `verification.concluded`."""
    settings = request.app.state.settings
    case = await get_for_update(session, VerificationCase, case_id, what="Verification case")
    service.ensure_may_conclude(principal, case, require_completion=settings.require_completion_before_conclusion)
    check_if_match(request, case.version)
    computation = await service.compute(session, case, registry_of(request), request.app.state.mv_settings)
    conclusion = service.conclude(session, principal, case, body, computation)
    await session.commit()
    set_etag(response, case.version)
    return service.conclusion_public(case, conclusion)


@router.get("/preview", response_model=ResultPublic, dependencies=readers)
async def preview(case_id: uuid.UUID, request: Request, session: SessionDep,
                  principal: CurrentPrincipal) -> ResultPublic:
    """The computation on the current measurements, not stored (for the verifier before concluding)."""
    case = await get_case(session, principal, case_id)
    if principal.has("enterprise") and not principal.has("officer", "auditor", "verifier"):
        raise Forbidden(code="result_not_yet_visible")
    computation = await service.compute(session, case, registry_of(request), request.app.state.mv_settings)
    return service.preview_public(case, computation)


async def _concluded(session: SessionDep, principal: CurrentPrincipal,
                     case_id: uuid.UUID) -> tuple[VerificationCase, Conclusion]:
    case = await get_case(session, principal, case_id)
    conclusion = await conclusion_of(session, case.id)
    if conclusion is None:
        raise NotFound(slug="not-concluded", params={"case_id": str(case_id), "status": str(case.status)})
    return case, conclusion


@router.get("/result", response_model=ResultPublic, dependencies=readers)
async def read_result(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal) -> ResultPublic:
    case, conclusion = await _concluded(session, principal, case_id)
    return service.conclusion_public(case, conclusion)


@router.get("/report", response_class=HTMLResponse, dependencies=readers,
            responses={200: {"content": {"text/html": {}}, "description": "Printable verification report"}})
async def read_report(case_id: uuid.UUID, request: Request, session: SessionDep,
                      principal: CurrentPrincipal) -> HTMLResponse:
    case, conclusion = await _concluded(session, principal, case_id)
    settings = request.app.state.settings
    html = render_report(case, conclusion, agency_vi=settings.agency_name_vi, agency_en=settings.agency_name_en)
    return HTMLResponse(html, headers={"Content-Disposition": f'inline; filename="verification-{case.id}.html"'})
