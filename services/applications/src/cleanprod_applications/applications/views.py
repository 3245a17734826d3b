from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES, readable_application
from ..dependencies import answer, locked_application, settings_of
from ..domain import Action
from ..grants.verdicts import apply_pending
from ..registry import facility_facts
from . import flows, service
from .filters import ApplicationFilters
from .schemas import (
    ApplicationCreate,
    ApplicationPublic,
    ApplicationUpdate,
    CompletionBody,
    HistoryEntry,
    StartBody,
    TransitionBody,
)

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
readers = [Depends(require_roles(*READ_ROLES))]
enterprises = [Depends(require_roles("enterprise"))]
TRANSITION_RESPONSES = {
    404: {"description": "No such application, or not yours"},
    409: {"description": "The lifecycle draws no such arrow from the current status"},
    412: {"description": "If-Match is stale"},
    428: {"description": "If-Match is missing"},
}


@router.post("", status_code=201, response_model=ApplicationPublic, dependencies=enterprises,
             responses={404: {"description": "Facility not yours"}, 503: {"description": "Registry unreachable"}})
async def create_application(body: ApplicationCreate, request: Request, session: SessionDep,
                             principal: CurrentPrincipal) -> Response:
    """Start a draft for one of the caller's facilities (ownership is checked with the registry)."""
    service.applicant_tax_code(principal)
    service.check_draft_body(body)
    # Ask the registry before any database work: no transaction stays open during the HTTP call.
    facts = service.check_facility(principal, body.facility_id, await facility_facts(request, body.facility_id))

    async def create() -> Created:
        application = await service.create_application(session, principal, body, facts)
        public = service.to_public(application, [])
        return Created(201, public, {"ETag": f'"{application.version}"',
                                     "Location": f"/api/v1/applications/{application.id}"})

    return await create_once(request, session, principal, body, create)


@router.get("", response_model=Page[ApplicationPublic], dependencies=readers)
async def list_applications(
    session: SessionDep, principal: CurrentPrincipal, filters: Annotated[ApplicationFilters, Depends()],
    limit: LimitParam = 50, cursor: CursorParam = None,
) -> Page[ApplicationPublic]:
    items, next_cursor = await service.list_applications(session, principal, **filters.as_kwargs(), limit=limit,
                                                         cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{application_id}", response_model=ApplicationPublic, dependencies=readers)
async def read_application(application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                           response: Response) -> ApplicationPublic:
    application = await readable_application(session, principal, application_id)
    set_etag(response, application.version)
    return await service.public_view(session, principal, application)


@router.patch("/{application_id}", response_model=ApplicationPublic, dependencies=enterprises,
              responses=TRANSITION_RESPONSES)
async def update_application(application_id: uuid.UUID, body: ApplicationUpdate, request: Request,
                             session: SessionDep, principal: CurrentPrincipal, response: Response) -> ApplicationPublic:
    application = await locked_application(request, session, principal, application_id)
    await service.update_application(session, principal, application, body)
    await session.commit()
    return await answer(session, principal, application, response)


@router.get("/{application_id}/history", response_model=Page[HistoryEntry], dependencies=readers)
async def application_history(application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                              limit: LimitParam = 200, cursor: CursorParam = None) -> Page[HistoryEntry]:
    """Every recorded change, oldest first: who (subject, name, role), when, from → to, why, request id."""
    application = await readable_application(session, principal, application_id)
    items, next_cursor = await service.history(session, principal, application, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


async def _submit(action: Action, application_id: uuid.UUID, body: TransitionBody | None, request: Request,
                  session: SessionDep, principal: CurrentPrincipal, response: Response) -> ApplicationPublic:
    application = await locked_application(request, session, principal, application_id)
    service.ensure_actor(principal, application, action)
    await flows.submit(session, principal, application, await service.call_of(session, application), action=action,
                       reason=body.reason if body else None, agency_id=settings_of(request).agency_id,
                       processing_days=settings_of(request).processing_days)
    await session.commit()
    return await answer(session, principal, application, response)


@router.post("/{application_id}/submit", response_model=ApplicationPublic, dependencies=enterprises,
             responses=TRANSITION_RESPONSES)
async def submit_application(application_id: uuid.UUID, request: Request, session: SessionDep,
                             principal: CurrentPrincipal, response: Response,
                             body: TransitionBody | None = None) -> ApplicationPublic:
    """draft → submitted (dossier code given) → screened at once: under_review, or ineligible with reasons."""
    return await _submit(Action.SUBMIT, application_id, body, request, session, principal, response)


@router.post("/{application_id}/resubmit", response_model=ApplicationPublic, dependencies=enterprises,
             responses=TRANSITION_RESPONSES)
async def resubmit_application(application_id: uuid.UUID, request: Request, session: SessionDep,
                               principal: CurrentPrincipal, response: Response,
                               body: TransitionBody | None = None) -> ApplicationPublic:
    """changes_requested → submitted (same dossier code) → screened again."""
    return await _submit(Action.RESUBMIT, application_id, body, request, session, principal, response)


@router.post("/{application_id}/withdraw", response_model=ApplicationPublic, dependencies=enterprises,
             responses=TRANSITION_RESPONSES)
async def withdraw_application(application_id: uuid.UUID, request: Request, session: SessionDep,
                               principal: CurrentPrincipal, response: Response,
                               body: TransitionBody | None = None) -> ApplicationPublic:
    """draft → withdrawn."""
    application = await locked_application(request, session, principal, application_id)
    service.ensure_actor(principal, application, Action.WITHDRAW)
    await service.withdraw(session, principal, application, body.reason if body else None)
    await session.commit()
    return await answer(session, principal, application, response)


@router.post("/{application_id}/start", response_model=ApplicationPublic,
             dependencies=[Depends(require_roles("enterprise", "officer"))], responses=TRANSITION_RESPONSES)
async def start_project(application_id: uuid.UUID, request: Request, session: SessionDep,
                        principal: CurrentPrincipal, response: Response,
                        body: StartBody | None = None) -> ApplicationPublic:
    """approved → in_progress (the enterprise reports that work began; an officer may record it)."""
    application = await locked_application(request, session, principal, application_id)
    service.ensure_actor(principal, application, Action.START)
    await service.start(session, principal, application, started_on=body.started_on if body else None,
                        reason=body.reason if body else None)
    await session.commit()
    return await answer(session, principal, application, response)


@router.post("/{application_id}/completion", response_model=ApplicationPublic, dependencies=enterprises,
             responses=TRANSITION_RESPONSES)
async def report_completion(application_id: uuid.UUID, request: Request, session: SessionDep,
                            principal: CurrentPrincipal, response: Response,
                            body: CompletionBody | None = None) -> ApplicationPublic:
    """in_progress → completed; a verification verdict that arrived early is applied in the same transaction."""
    application = await locked_application(request, session, principal, application_id)
    service.ensure_actor(principal, application, Action.COMPLETE)
    await service.complete(session, principal, application, completed_on=body.completed_on if body else None,
                           reason=body.reason if body else None)
    await apply_pending(session, application, recovery_threshold_bp=settings_of(request).recovery_threshold_bp)
    await session.commit()
    return await answer(session, principal, application, response)
