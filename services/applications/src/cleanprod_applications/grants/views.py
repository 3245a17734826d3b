from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.errors import request_language
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..applications import flows
from ..applications.schemas import ApplicationPublic
from ..deps import ApplicationChange, SettingsDep, answer_application
from . import service
from .models import TrancheKind
from .schemas import DecisionBody, DecisionPreview, PaymentBody, TranchePublic

router = APIRouter(prefix="/api/v1/applications", tags=["decisions"])


@router.get(
    "/{application_id}/decision/preview",
    response_model=DecisionPreview,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses={404: {"description": "No such application"}},
)
async def preview_decision(
    application_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> DecisionPreview:
    """The decision screen's figures, computed exactly as POST /decision would now: the four limits (requested,
    rate × eligible cost, cap per project, remaining call budget), the one that binds, the award, and for each
    outcome why this officer may not take it (four-eyes, too few reviews, below the pass score, zero support)."""
    application = await readable_application(session, principal, application_id)
    set_etag(response, application.version)
    return await service.preview(session, principal, application, request_language(request))


@router.post(
    "/{application_id}/decision",
    response_model=ApplicationPublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses={
        403: {"description": "Four-eyes: the decider is a reviewer of this application"},
        409: {"description": "Not under review, too few reviews, below pass score, or no budget"},
        412: {"description": "If-Match is stale (someone decided or reviewed meanwhile)"},
        428: {"description": "If-Match is missing"},
    },
)
async def decide(
    body: DecisionBody, change: ApplicationChange, settings: SettingsDep, response: Response
) -> ApplicationPublic:
    """under_review → approved (support = min(requested, rate × eligible, cap, remaining budget); an advance
    tranche becomes payable, the balance is withheld until verification), rejected, or changes_requested."""
    await flows.decide(
        change.session, change.principal, await change.lock(), body, advance_share_bp=settings.advance_share_bp
    )
    return await answer_application(change, response)


@router.get(
    "/{application_id}/tranches", response_model=list[TranchePublic], dependencies=[Depends(require_roles(*READ_ROLES))]
)
async def list_tranches(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[TranchePublic]:
    application = await readable_application(session, principal, application_id)
    return [
        TranchePublic.model_validate(t, from_attributes=True) for t in await service.tranches_of(session, application)
    ]


@router.post(
    "/{application_id}/tranches/{kind}/payment",
    response_model=TranchePublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
    responses={
        404: {"description": "No such application, or it has no tranche of this kind"},
        409: {"description": "The tranche is not payable (withheld, cancelled, a recovery, or paid already)"},
        412: {"description": "If-Match (optional) is stale"},
    },
)
async def record_payment(
    kind: TrancheKind, body: PaymentBody, change: ApplicationChange, response: Response
) -> TranchePublic:
    """Record that a payable tranche was paid (the day and the transfer's reference): payable → paid, audited,
    and the enterprise told. The ETag answered is the application's new version."""
    application = await change.lock(if_match=IfMatch.WHEN_SENT)
    tranche = await service.record_payment(change.session, change.principal, application, kind, body)
    await change.commit()
    set_etag(response, application.version)
    return TranchePublic.model_validate(tranche, from_attributes=True)
