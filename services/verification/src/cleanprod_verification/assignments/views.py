from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import check_if_match, get_for_update, set_etag
from cleanprod_kit.db import SessionDep

from ..access import READ_ROLES
from ..cases.models import VerificationCase
from ..cases.service import get_case
from . import service
from .schemas import AssignmentBody, AssignmentState, DeclarationBody

router = APIRouter(prefix="/api/v1/verifications/{case_id}/assignment", tags=["verifier assignment"])
readers = [Depends(require_roles(*READ_ROLES))]
officers = [Depends(require_roles("officer"))]


@router.get("", response_model=AssignmentState, dependencies=readers)
async def read_assignment(case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                          response: Response) -> AssignmentState:
    case = await get_case(session, principal, case_id)
    set_etag(response, case.version)
    return await service.state(session, case)


async def _assign(case_id: uuid.UUID, body: AssignmentBody, request: Request, session: SessionDep,
                  principal: CurrentPrincipal, response: Response) -> AssignmentState:
    case = await get_for_update(session, VerificationCase, case_id, what="Verification case")
    check_if_match(request, case.version)
    await service.assign(session, principal, case, body)
    await session.commit()
    set_etag(response, case.version)
    return await service.state(session, case)


router.add_api_route("", _assign, methods=["PUT"], response_model=AssignmentState, dependencies=officers,
                     summary="Assign (or replace) the verifier (If-Match: the case's ETag)")
router.add_api_route("", _assign, methods=["POST"], response_model=AssignmentState, dependencies=officers,
                     summary="Assign (or replace) the verifier — same as PUT", name="assign_verifier_post")


@router.post("/declaration", response_model=AssignmentState, dependencies=[Depends(require_roles("verifier"))])
async def declare(case_id: uuid.UUID, body: DeclarationBody, request: Request, session: SessionDep,
                  principal: CurrentPrincipal, response: Response) -> AssignmentState:
    case = await get_for_update(session, VerificationCase, case_id, what="Verification case")
    service.ensure_declarer(principal, case)
    check_if_match(request, case.version)
    await service.declare(session, principal, case, body)
    await session.commit()
    set_etag(response, case.version)
    return await service.state(session, case)
