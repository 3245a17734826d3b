from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.openapi import OPTIONAL_IF_MATCH

from ..access import DEPARTMENT_ROLES, readable_application, sees_department_view
from ..applications.service import assignments_of, call_of
from ..dependencies import locked_application
from . import service
from .schemas import AssignmentBody, AssignmentPublic, DeclarationBody, ReviewBody

router = APIRouter(prefix="/api/v1/applications", tags=["reviews"])
officers = [Depends(require_roles("officer"))]
reviewers = [Depends(require_roles("reviewer"))]
REVIEW_RESPONSES = {
    403: {"description": "Not assigned, or recused by a declared conflict of interest"},
    404: {"description": "No such application, or not assigned to you"},
    409: {"description": "Not under review, already declared/reviewed, or declaration missing"},
}


def _headers(application_id: uuid.UUID, version: int) -> dict[str, str]:
    return {"Location": f"/api/v1/applications/{application_id}/reviews", "ETag": f'"{version}"'}


@router.post("/{application_id}/assignments", status_code=201, response_model=AssignmentPublic,
             dependencies=officers, responses=REVIEW_RESPONSES, openapi_extra=OPTIONAL_IF_MATCH)
async def assign_reviewer(application_id: uuid.UUID, body: AssignmentBody, request: Request, session: SessionDep,
                          principal: CurrentPrincipal) -> Response:
    """Assign a reviewer (Keycloak subject id and username) to an application under review. If-Match is optional
    here (assignments do not race with each other); the response's ETag is the application's new version."""

    async def create() -> Created:
        application = await locked_application(request, session, principal, application_id, if_match=False)
        assignment = await service.assign(session, principal, application, body)
        return Created(201, service.to_public(assignment), _headers(application.id, application.version))

    return await create_once(request, session, principal, {"application_id": application_id, **body.model_dump()},
                             create)


@router.post("/{application_id}/reviews/declaration", status_code=201, response_model=AssignmentPublic,
             dependencies=reviewers, responses=REVIEW_RESPONSES, openapi_extra=OPTIONAL_IF_MATCH)
async def declare_conflict(application_id: uuid.UUID, body: DeclarationBody, request: Request,
                           session: SessionDep, principal: CurrentPrincipal) -> Response:
    """The assigned reviewer's conflict-of-interest declaration, required before scoring; `conflict: true`
    recuses them from this application for good."""

    async def create() -> Created:
        application = await locked_application(request, session, principal, application_id, if_match=False)
        assignment = await service.declare(session, principal, application, body)
        return Created(201, service.to_public(assignment), _headers(application.id, application.version))

    return await create_once(request, session, principal, {"application_id": application_id, **body.model_dump()},
                             create)


@router.post("/{application_id}/reviews", status_code=201, response_model=AssignmentPublic,
             dependencies=reviewers, responses={**REVIEW_RESPONSES, 422: {"description": "Scores do not fit the rubric"}},
             openapi_extra=OPTIONAL_IF_MATCH)
async def submit_review(application_id: uuid.UUID, body: ReviewBody, request: Request, session: SessionDep,
                        principal: CurrentPrincipal) -> Response:
    """Scores on every criterion of the call's rubric (0..max each), a recommendation and a comment."""

    async def create() -> Created:
        application = await locked_application(request, session, principal, application_id, if_match=False)
        call = await call_of(session, application)
        assignment = await service.review(session, principal, application, call, body)
        return Created(201, service.to_public(assignment), _headers(application.id, application.version))

    return await create_once(request, session, principal,
                             {"application_id": application_id, **body.model_dump(mode="json")}, create)


@router.get("/{application_id}/reviews", response_model=list[AssignmentPublic],
            dependencies=[Depends(require_roles(*DEPARTMENT_ROLES, "reviewer"))])
@router.get("/{application_id}/assignments", response_model=list[AssignmentPublic],
            dependencies=[Depends(require_roles(*DEPARTMENT_ROLES, "reviewer"))])
async def list_reviews(application_id: uuid.UUID, session: SessionDep,
                       principal: CurrentPrincipal) -> list[AssignmentPublic]:
    """Assigned reviewers with their declarations and reviews. A reviewer sees only their own entry; enterprises
    see none of it (reviewers' identities and notes stay inside the Department)."""
    application = await readable_application(session, principal, application_id)
    assignments = await assignments_of(session, application.id)
    if not sees_department_view(principal):
        assignments = [a for a in assignments if a.reviewer_subject == principal.subject]
    return [service.to_public(a) for a in assignments]
