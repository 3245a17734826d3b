from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.bulk import BulkAnswer, bulk_once, check_item_version, run_items
from cleanprod_kit.changes import IfMatch, check_version, created, lock_row
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.errors import NotFound
from cleanprod_kit.idempotency import Created
from cleanprod_kit.openapi import OPTIONAL_IF_MATCH
from cleanprod_kit.roles import Role

from ..access import DEPARTMENT_ROLES, readable_application, sees_department_view
from ..applications.models import Application
from ..calls.service import call_of
from ..deps import ApplicationChange, SettingsDep
from . import service
from .schemas import (
    AssignmentBody,
    AssignmentPublic,
    BulkAssignmentBody,
    BulkAssignmentItem,
    DeclarationBody,
    DraftBody,
    DraftPublic,
    ReviewBody,
)

router = APIRouter(prefix="/api/v1/applications", tags=["reviews"])
officers = [Depends(require_roles(Role.OFFICER))]
reviewers = [Depends(require_roles(Role.REVIEWER))]
REVIEW_RESPONSES = {
    403: {"description": "Not assigned, or recused by a declared conflict of interest"},
    404: {"description": "No such application, or not assigned to you"},
    409: {"description": "Not under review, already declared/reviewed, or declaration missing"},
}


def _created(assignment: AssignmentPublic, application: Application) -> Created:
    """An assignment, declaration or review answers the application's new version as its ETag."""
    return created(assignment, version=application.version, location=f"/api/v1/applications/{application.id}/reviews")


@router.post(
    "/{application_id}/assignments",
    status_code=201,
    response_model=AssignmentPublic,
    dependencies=officers,
    responses=REVIEW_RESPONSES,
    openapi_extra=OPTIONAL_IF_MATCH,
)
async def assign_reviewer(
    application_id: uuid.UUID, body: AssignmentBody, change: ApplicationChange, settings: SettingsDep
) -> Response:
    """Assign a reviewer (Keycloak subject id and username) to an application under review. If-Match is optional
    here (assignments do not race with each other); the response's ETag is the application's new version."""

    async def create() -> Created:
        application = await change.lock(if_match=IfMatch.WHEN_SENT)
        assignment = await service.assign(
            change.session, change.principal, application, body, review_days=settings.review_period_working_days
        )
        return _created(service.to_public(assignment), application)

    return await change.create_once({"application_id": application_id, **body.model_dump()}, create)


@router.post("/bulk-assignments", status_code=207, response_model=BulkAnswer, dependencies=officers)
async def assign_reviewers_in_bulk(
    body: BulkAssignmentBody, request: Request, session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep
) -> Response:
    """Assign reviewers to several applications at once: each item is the single assignment in its own
    transaction and gets its own result (201 with the assignment, or its problem: unknown application 404,
    not under review 409, already assigned 409, stale `version` 412). Idempotency-Key covers the whole request."""

    async def one(item: BulkAssignmentItem) -> AssignmentPublic:
        application = await lock_row(session, await readable_application(session, principal, item.application_id))
        check_item_version(item.version, application.version, required=False)
        assignment = await service.assign(
            session,
            principal,
            application,
            AssignmentBody(reviewer_subject=item.reviewer_subject, reviewer_username=item.reviewer_username),
            review_days=settings.review_period_working_days,
        )
        return service.to_public(assignment)

    async def run() -> BulkAnswer:
        return await run_items(request, session, body.assignments, item_id=lambda i: i.application_id, work=one)

    return await bulk_once(request, session, principal, body.model_dump(mode="json"), run)


@router.post(
    "/{application_id}/reviews/declaration",
    status_code=201,
    response_model=AssignmentPublic,
    dependencies=reviewers,
    responses=REVIEW_RESPONSES,
    openapi_extra=OPTIONAL_IF_MATCH,
)
async def declare_conflict(application_id: uuid.UUID, body: DeclarationBody, change: ApplicationChange) -> Response:
    """The assigned reviewer's conflict-of-interest declaration, required before scoring; `conflict: true`
    recuses them from this application for good."""

    async def create() -> Created:
        application = await change.lock(if_match=IfMatch.WHEN_SENT)
        assignment = await service.declare(change.session, change.principal, application, body)
        return _created(service.to_public(assignment), application)

    return await change.create_once({"application_id": application_id, **body.model_dump()}, create)


@router.post(
    "/{application_id}/reviews",
    status_code=201,
    response_model=AssignmentPublic,
    dependencies=reviewers,
    responses={**REVIEW_RESPONSES, 422: {"description": "Scores do not fit the rubric"}},
    openapi_extra=OPTIONAL_IF_MATCH,
)
async def submit_review(application_id: uuid.UUID, body: ReviewBody, change: ApplicationChange) -> Response:
    """Scores on every criterion of the call's rubric (0..max each), a recommendation and a comment."""

    async def create() -> Created:
        application = await change.lock(if_match=IfMatch.WHEN_SENT)
        call = await call_of(change.session, application)
        assignment = await service.review(change.session, change.principal, application, call, body)
        return _created(service.to_public(assignment), application)

    return await change.create_once({"application_id": application_id, **body.model_dump(mode="json")}, create)


DRAFT_RESPONSES = {
    **REVIEW_RESPONSES,
    412: {"description": "If-Match is not the draft's current version"},
    428: {"description": "A draft exists: If-Match with its ETag is required"},
}


@router.get(
    "/{application_id}/reviews/draft",
    response_model=DraftPublic,
    dependencies=reviewers,
    responses={404: {"description": "No such application, not assigned, or no draft saved"}},
)
async def read_draft(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> DraftPublic:
    """The caller's own saved score sheet (only its reviewer ever reads it), with what submitting still needs."""
    application = await readable_application(session, principal, application_id)
    assignment = await service.own_assignment(session, principal, application)
    draft = service.draft_public(await call_of(session, application), assignment)
    set_etag(response, draft.version)
    return draft


@router.put(
    "/{application_id}/reviews/draft",
    response_model=DraftPublic,
    dependencies=reviewers,
    responses={
        **DRAFT_RESPONSES,
        201: {"description": "First save"},
        422: {"description": "A score does not fit the rubric"},
    },
)
async def save_draft(
    application_id: uuid.UUID,
    body: DraftBody,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    response: Response,
) -> DraftPublic:
    """Save the score sheet as it is (replaces the previous draft). The first save needs no If-Match; each later
    one needs the draft's ETag (428 without, 412 when stale). Not counted towards the decision until submitted."""
    # The draft is the reviewer's own row: it is what is locked and versioned, not the application (a decision is
    # not refused because a reviewer saved a sheet).
    application = await readable_application(session, principal, application_id)
    assignment = await service.own_assignment(session, principal, application, for_update=True)
    service.ensure_may_score(assignment, application)  # state first: a submitted review says so, not "stale"
    check_version(
        request,
        assignment.draft_version or 0,
        IfMatch.WHEN_SENT if assignment.draft_version is None else IfMatch.REQUIRED,
    )
    call = await call_of(session, application)
    first = service.save_draft(assignment, application, call, body)
    draft = service.draft_public(call, assignment)
    await session.commit()
    set_etag(response, draft.version)
    response.status_code = 201 if first else 200
    return draft


@router.post(
    "/{application_id}/reviews/draft/submit",
    status_code=201,
    response_model=AssignmentPublic,
    dependencies=reviewers,
    responses={**DRAFT_RESPONSES, 422: {"description": "The draft is incomplete (review_incomplete)"}},
)
async def submit_draft(application_id: uuid.UUID, change: ApplicationChange) -> Response:
    """Submit the saved draft as the review (If-Match: the draft's ETag, so what is submitted is what the reviewer
    last saw). Every criterion, the recommendation and the comment must be there; the draft is then cleared."""

    async def create() -> Created:
        application = await change.lock(if_match=IfMatch.OTHER_ROW)  # If-Match names the draft's version
        assignment = await service.own_assignment(change.session, change.principal, application, for_update=True)
        service.ensure_may_score(assignment, application)
        if assignment.draft_version is None:
            raise NotFound(code="review_draft_not_found")
        change.check_version(assignment.draft_version)
        call = await call_of(change.session, application)
        await service.submit_draft(change.session, change.principal, application, call, assignment)
        return _created(service.to_public(assignment), application)

    return await change.create_once({"application_id": application_id, "draft": True}, create)


@router.get(
    "/{application_id}/reviews",
    response_model=list[AssignmentPublic],
    dependencies=[Depends(require_roles(*DEPARTMENT_ROLES, Role.REVIEWER))],
)
@router.get(
    "/{application_id}/assignments",
    response_model=list[AssignmentPublic],
    dependencies=[Depends(require_roles(*DEPARTMENT_ROLES, Role.REVIEWER))],
)
async def list_reviews(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[AssignmentPublic]:
    """Assigned reviewers with their declarations and reviews. A reviewer sees only their own entry; enterprises
    see none of it (reviewers' identities and notes stay inside the Department)."""
    application = await readable_application(session, principal, application_id)
    assignments = await service.assignments_of(session, application.id)
    if not sees_department_view(principal):
        assignments = [a for a in assignments if a.reviewer_subject == principal.subject]
    return [service.to_public(a) for a in assignments]
