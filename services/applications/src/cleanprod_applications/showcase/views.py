from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.concurrency import check_if_match, set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.pagination import CursorParam, LimitParam, Page

from ..access import READ_ROLES, readable_application
from . import service
from .schemas import ConsentBody, ConsentPublic, ShowcaseProject

router = APIRouter(prefix="/api/v1/applications", tags=["showcase"])
public_router = APIRouter(prefix="/api/v1/public/showcase", tags=["public"])


@router.get("/{application_id}/showcase-consent", response_model=ConsentPublic,
            dependencies=[Depends(require_roles(*READ_ROLES))])
async def read_consent(application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal,
                       response: Response) -> ConsentPublic:
    """Whether the enterprise lets this project be shown publicly; the ETag is what `POST` needs as If-Match
    (`"0"` before the first answer)."""
    application = await readable_application(session, principal, application_id)
    public = service.to_public(application.id, await service.consent_of(session, application.id))
    set_etag(response, public.version)
    return public


@router.post("/{application_id}/showcase-consent", response_model=ConsentPublic,
             dependencies=[Depends(require_roles("enterprise"))],
             responses={404: {"description": "No such application, or not yours"},
                        409: {"description": "Consent is given only once the savings are verified"},
                        412: {"description": "If-Match is stale"}, 428: {"description": "If-Match is missing"}})
async def change_consent(application_id: uuid.UUID, body: ConsentBody, request: Request, session: SessionDep,
                         principal: CurrentPrincipal, response: Response) -> ConsentPublic:
    """The enterprise gives (`given: true`, once its project is verified) or withdraws its consent."""
    # The consent's own version is what If-Match names (not the application's): lock the row, check that one.
    application = await readable_application(session, principal, application_id, for_update=True)
    consent = await service.consent_of(session, application.id, for_update=True)
    check_if_match(request, consent.version if consent else 0)
    consent = await service.set_consent(session, principal, application, consent, body.given)
    await session.commit()
    public = service.to_public(application.id, consent)
    set_etag(response, public.version)
    return public


@public_router.get("", response_model=Page[ShowcaseProject])
async def list_showcase(session: SessionDep, sector: Param | None = Query(None, max_length=32),
                        limit: LimitParam = 50, cursor: CursorParam = None) -> Page[ShowcaseProject]:
    """Verified projects whose enterprise consented to show them (anyone, no token)."""
    items, next_cursor = await service.showcased(session, sector=sector, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
