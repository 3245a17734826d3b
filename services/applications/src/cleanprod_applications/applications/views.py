from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, insert_once
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..deps import ApplicationChange, FilingChange, RegistryDep, SettingsDep, answer_application
from ..domain import Action
from . import flows, service
from .filters import ApplicationFilters
from .schemas import (
    ApplicationCreate,
    ApplicationPublic,
    ApplicationSummary,
    ApplicationUpdate,
    CompletionBody,
    HistoryEntry,
    StartBody,
    TransitionBody,
)

router = APIRouter(prefix="/api/v1/applications", tags=["applications"])
readers = [Depends(require_roles(*READ_ROLES))]
enterprises = [Depends(require_roles(Role.ENTERPRISE))]
TRANSITION_RESPONSES = {
    404: {"description": "No such application, or not yours"},
    409: {"description": "The lifecycle draws no such arrow from the current status"},
    412: {"description": "If-Match is stale"},
    428: {"description": "If-Match is missing"},
}


@router.post(
    "",
    status_code=201,
    response_model=ApplicationPublic,
    dependencies=enterprises,
    responses={404: {"description": "Facility not yours"}, 503: {"description": "Registry unreachable"}},
)
async def create_application(
    body: ApplicationCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentPrincipal,
    registry: RegistryDep,
) -> Response:
    """Start a draft for one of the caller's facilities (ownership is checked with the registry)."""
    service.applicant_tax_code(principal)
    service.check_draft_body(body)
    # Ask the registry before any database work: no transaction stays open during the HTTP call.
    facts = service.check_facility(principal, body.facility_id, await registry.facility_facts(body.facility_id))

    async def create(found_call: dict[str, Any] | None) -> Created:
        application = service.create_application(session, principal, body, facts, found_call)
        return created(
            service.to_public(application, []),
            version=application.version,
            location=f"/api/v1/applications/{application.id}",
        )

    # The draft and its audit entry are queued rows and the call is read on the read pool, with the key's stored
    # answer: no transaction.
    return await insert_once(
        request, session, principal, body, create, read=service.DRAFT_CALL, params={"call_id": body.call_id}
    )


@router.get("", response_model=Page[ApplicationPublic], dependencies=readers)
async def list_applications(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Annotated[ApplicationFilters, Depends()],
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ApplicationPublic]:
    items, next_cursor = await service.list_applications(
        session, principal, **filters.as_kwargs(), limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


# Before "/{application_id}": a path segment the id route would otherwise try to read as an id.
@router.get("/summaries", response_model=Page[ApplicationSummary], dependencies=readers)
async def list_application_summaries(
    session: SessionDep,
    principal: CurrentPrincipal,
    filters: Annotated[ApplicationFilters, Depends()],
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ApplicationSummary]:
    """The applications list as summary lines — what a dashboard shows (id, status, dossier code, facility, title,
    requested support, open supplement request, missing fields): same filters, rights, order and cursors."""
    items, next_cursor = await service.list_summaries(
        session, principal, **filters.as_kwargs(), limit=limit, cursor=cursor
    )
    return Page(items=items, next_cursor=next_cursor)


@router.get("/{application_id}", response_model=ApplicationPublic, dependencies=readers)
async def read_application(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ApplicationPublic:
    application = await readable_application(session, principal, application_id)
    set_etag(response, application.version)
    return await service.public_view(session, principal, application)


@router.patch(
    "/{application_id}", response_model=ApplicationPublic, dependencies=enterprises, responses=TRANSITION_RESPONSES
)
async def update_application(
    body: ApplicationUpdate, change: ApplicationChange, response: Response
) -> ApplicationPublic:
    application = await change.lock()
    await service.update_application(change.session, change.principal, application, body)
    return await answer_application(change, response)


@router.get("/{application_id}/history", response_model=Page[HistoryEntry], dependencies=readers)
async def application_history(
    application_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 200,
    cursor: CursorParam = None,
) -> Page[HistoryEntry]:
    """Every recorded change, oldest first: who (subject, name, role), when, from → to, why, request id."""
    application = await readable_application(session, principal, application_id)
    items, next_cursor = await service.history(session, principal, application, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


def _reason(body: TransitionBody | None) -> str | None:
    return body.reason if body else None


async def _file(
    change: ApplicationChange, settings: SettingsDep, response: Response, action: Action, body: TransitionBody | None
) -> ApplicationPublic:
    await flows.file_dossier(
        change.session,
        change.principal,
        await change.lock(),
        action,
        reason=_reason(body),
        agency_id=settings.agency_id,
        processing_days=settings.processing_days,
    )
    return await answer_application(change, response)


@router.post(
    "/{application_id}/submit",
    response_model=ApplicationPublic,
    dependencies=enterprises,
    responses=TRANSITION_RESPONSES,
)
async def submit_application(
    change: FilingChange, settings: SettingsDep, response: Response, body: TransitionBody | None = None
) -> ApplicationPublic:
    """draft → submitted (dossier code given) → screened at once: under_review, or ineligible with reasons."""
    return await _file(change, settings, response, Action.SUBMIT, body)


@router.post(
    "/{application_id}/resubmit",
    response_model=ApplicationPublic,
    dependencies=enterprises,
    responses=TRANSITION_RESPONSES,
)
async def resubmit_application(
    change: ApplicationChange, settings: SettingsDep, response: Response, body: TransitionBody | None = None
) -> ApplicationPublic:
    """changes_requested → submitted (same dossier code) → screened again."""
    return await _file(change, settings, response, Action.RESUBMIT, body)


@router.post(
    "/{application_id}/withdraw",
    response_model=ApplicationPublic,
    dependencies=enterprises,
    responses=TRANSITION_RESPONSES,
)
async def withdraw_application(
    change: ApplicationChange, response: Response, body: TransitionBody | None = None
) -> ApplicationPublic:
    """draft → withdrawn."""
    await flows.withdraw(change.session, change.principal, await change.lock(), reason=_reason(body))
    return await answer_application(change, response)


@router.post(
    "/{application_id}/start",
    response_model=ApplicationPublic,
    dependencies=[Depends(require_roles(Role.ENTERPRISE, Role.OFFICER))],
    responses=TRANSITION_RESPONSES,
)
async def start_project(
    change: ApplicationChange, response: Response, body: StartBody | None = None
) -> ApplicationPublic:
    """approved → in_progress (the enterprise reports that work began; an officer may record it)."""
    await flows.start(
        change.session,
        change.principal,
        await change.lock(),
        started_on=body.started_on if body else None,
        reason=_reason(body),
    )
    return await answer_application(change, response)


@router.post(
    "/{application_id}/completion",
    response_model=ApplicationPublic,
    dependencies=enterprises,
    responses=TRANSITION_RESPONSES,
)
async def report_completion(
    change: ApplicationChange, settings: SettingsDep, response: Response, body: CompletionBody | None = None
) -> ApplicationPublic:
    """in_progress → completed; a verification verdict that arrived early is applied in the same transaction."""
    await flows.complete(
        change.session,
        change.principal,
        await change.lock(),
        completed_on=body.completed_on if body else None,
        reason=_reason(body),
        recovery_threshold_bp=settings.recovery_threshold_bp,
    )
    return await answer_application(change, response)
