from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.idempotency import Created, create_once

from ..access import READ_ROLES, readable_application
from ..dependencies import locked_application
from . import service
from .schemas import AnswerBody, SupplementRequestBody, SupplementRequestPublic

router = APIRouter(prefix="/api/v1/applications", tags=["supplement requests"])
readers = [Depends(require_roles(*READ_ROLES))]


@router.post("/{application_id}/supplement-requests", status_code=201, response_model=SupplementRequestPublic,
             dependencies=[Depends(require_roles("officer"))])
async def request_supplement(application_id: uuid.UUID, body: SupplementRequestBody, request: Request,
                             session: SessionDep, principal: CurrentPrincipal) -> Response:
    """Ask the enterprise for the listed items (If-Match = the application's version). The dossier stays under
    review but reports e-gov 5 and its clock stops until every item is answered."""

    async def create() -> Created:
        application = await locked_application(request, session, principal, application_id)
        opened, items = await service.request_supplement(session, principal, application, body)
        return Created(201, service.to_public(opened, items),
                       {"ETag": f'"{application.version}"',
                        "Location": f"/api/v1/applications/{application_id}/supplement-requests/{opened.id}"})

    return await create_once(request, session, principal, {"application_id": str(application_id),
                                                           **body.model_dump(mode="json")}, create)


@router.get("/{application_id}/supplement-requests", response_model=list[SupplementRequestPublic],
            dependencies=readers)
async def list_supplement_requests(application_id: uuid.UUID, session: SessionDep,
                                   principal: CurrentPrincipal) -> list[SupplementRequestPublic]:
    application = await readable_application(session, principal, application_id)
    return await service.list_requests(session, application)


@router.post("/{application_id}/supplement-requests/{request_id}/items/{item_id}/answer",
             response_model=SupplementRequestPublic, dependencies=[Depends(require_roles("enterprise"))])
async def answer_item(application_id: uuid.UUID, request_id: uuid.UUID, item_id: uuid.UUID, body: AnswerBody,
                      request: Request, session: SessionDep, principal: CurrentPrincipal,
                      response: Response) -> SupplementRequestPublic:
    """The enterprise answers one item (a text, a document already attached, or both). If-Match optional: the
    application row is locked, so parallel answers serialise; the last one returns the dossier to processing."""
    application = await locked_application(request, session, principal, application_id, if_match=False)
    answered, items = await service.answer_item(session, principal, application, request_id, item_id, body)
    await session.commit()
    set_etag(response, application.version)
    return service.to_public(answered, items)
