from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.bulk import BulkAnswer, bulk_once, check_item_version, run_items
from cleanprod_kit.changes import lock_row
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.roles import Role

from ..access import READ_ROLES
from ..cases.service import get_case, readable_case
from ..deps import CaseChange
from . import service
from .schemas import AssignmentBody, AssignmentState, BulkAssignmentBody, BulkAssignmentItem, DeclarationBody

router = APIRouter(prefix="/api/v1/verifications/{case_id}/assignment", tags=["verifier assignment"])
readers = [Depends(require_roles(*READ_ROLES))]
officers = [Depends(require_roles(Role.OFFICER))]


@router.get("", response_model=AssignmentState, dependencies=readers)
async def read_assignment(
    case_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> AssignmentState:
    case = await get_case(session, principal, case_id)
    set_etag(response, case.version)
    return await service.state(session, case)


async def _assign(body: AssignmentBody, change: CaseChange, response: Response) -> AssignmentState:
    case = await change.lock()
    await service.assign(change.session, change.principal, case, body)
    return await change.answer(response, lambda locked: service.state(change.session, locked))


router.add_api_route(
    "",
    _assign,
    methods=["PUT"],
    response_model=AssignmentState,
    dependencies=officers,
    summary="Assign (or replace) the verifier (If-Match: the case's ETag)",
)
router.add_api_route(
    "",
    _assign,
    methods=["POST"],
    response_model=AssignmentState,
    dependencies=officers,
    summary="Assign (or replace) the verifier — same as PUT",
    name="assign_verifier_post",
)


bulk_router = APIRouter(prefix="/api/v1/verifications", tags=["verifier assignment"])


@bulk_router.post("/bulk-assignments", status_code=207, response_model=BulkAnswer, dependencies=officers)
async def assign_verifiers_in_bulk(
    body: BulkAssignmentBody, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Response:
    """Assign (or replace) the verifier of several cases at once: each item is the single assignment (with its
    `version` as If-Match) in its own transaction, evented as a single one, with its own result (201 with the
    assignment state, or its problem). Idempotency-Key covers the whole request."""

    async def one(item: BulkAssignmentItem) -> AssignmentState:
        case = await lock_row(session, await readable_case(session, principal, item.verification_id))
        check_item_version(item.version, case.version, required=True)
        await service.assign(
            session,
            principal,
            case,
            AssignmentBody(
                verifier_subject=item.verifier_subject, verifier_username=item.verifier_username, note=item.note
            ),
        )
        await session.flush()
        return await service.state(session, case)

    async def run() -> BulkAnswer:
        return await run_items(request, session, body.assignments, item_id=lambda i: i.verification_id, work=one)

    return await bulk_once(request, session, principal, body.model_dump(mode="json"), run)


@router.post("/declaration", response_model=AssignmentState, dependencies=[Depends(require_roles(Role.VERIFIER))])
async def declare(body: DeclarationBody, change: CaseChange, response: Response) -> AssignmentState:
    case = await change.lock(check=lambda locked: service.ensure_declarer(change.principal, locked))
    await service.declare(change.session, change.principal, case, body)
    return await change.answer(response, lambda locked: service.state(change.session, locked))
