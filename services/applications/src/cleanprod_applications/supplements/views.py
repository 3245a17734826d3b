from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch, created
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..deps import ApplicationChange
from . import service
from .schemas import AnswerBody, SupplementRequestBody, SupplementRequestPublic

router = APIRouter(prefix="/api/v1/applications", tags=["supplement requests"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.post(
    "/{application_id}/supplement-requests",
    status_code=201,
    response_model=SupplementRequestPublic,
    dependencies=[Depends(require_roles(Role.OFFICER))],
)
async def request_supplement(
    application_id: uuid.UUID, body: SupplementRequestBody, change: ApplicationChange
) -> Response:
    """Ask the enterprise for the listed items (If-Match = the application's version). The dossier stays under
    review but reports e-gov 5 and its clock stops until every item is answered."""

    async def create() -> Created:
        application = await change.lock()
        opened, items = await service.request_supplement(change.session, change.principal, application, body)
        return created(
            service.to_public(opened, items),
            version=application.version,
            location=f"/api/v1/applications/{application_id}/supplement-requests/{opened.id}",
        )

    return await change.create_once({"application_id": str(application_id), **body.model_dump(mode="json")}, create)


@router.get("/{application_id}/supplement-requests", response_model=list[SupplementRequestPublic], dependencies=readers)
async def list_supplement_requests(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> list[SupplementRequestPublic]:
    application = await readable_application(session, principal, application_id)
    return await service.list_requests(session, application)


@router.post(
    "/{application_id}/supplement-requests/{request_id}/items/{item_id}/answer",
    response_model=SupplementRequestPublic,
    dependencies=[Depends(require_roles(Role.ENTERPRISE))],
)
async def answer_item(
    request_id: uuid.UUID, item_id: uuid.UUID, body: AnswerBody, change: ApplicationChange, response: Response
) -> SupplementRequestPublic:
    """The enterprise answers one item (a text, a document already attached, or both). If-Match optional: the
    application row is locked, so parallel answers serialise; the last one returns the dossier to processing."""
    application = await change.lock(if_match=IfMatch.WHEN_SENT)
    answered, items = await service.answer_item(
        change.session, change.principal, application, request_id, item_id, body
    )
    return await change.answer(response, lambda _: service.to_public(answered, items))
