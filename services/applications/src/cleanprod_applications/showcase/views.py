from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Response

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..access import READ_ROLES, readable_application
from ..deps import ApplicationChange
from . import service
from .schemas import ConsentBody, ConsentPublic, ShowcaseProject

router = APIRouter(prefix="/api/v1/applications", tags=["showcase"])
public_router = APIRouter(prefix="/api/v1/public/showcase", tags=["public"])


@router.get(
    "/{application_id}/showcase-consent",
    response_model=ConsentPublic,
    dependencies=[Depends(require_roles(*READ_ROLES))],
)
async def read_consent(
    application_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> ConsentPublic:
    """Whether the enterprise lets this project be shown publicly; the ETag is what `POST` needs as If-Match
    (`"0"` before the first answer)."""
    application = await readable_application(session, principal, application_id)
    public = service.to_public(application.id, await service.consent_of(session, application.id))
    set_etag(response, public.version)
    return public


@router.post(
    "/{application_id}/showcase-consent",
    response_model=ConsentPublic,
    dependencies=[Depends(require_roles(Role.ENTERPRISE))],
    responses={
        404: {"description": "No such application, or not yours"},
        409: {"description": "Consent is given only once the savings are verified"},
        412: {"description": "If-Match is stale"},
        428: {"description": "If-Match is missing"},
    },
)
async def change_consent(body: ConsentBody, change: ApplicationChange, response: Response) -> ConsentPublic:
    """The enterprise gives (`given: true`, once its project is verified) or withdraws its consent."""
    # The consent's own version is what If-Match names (not the application's): lock the row, check that one.
    application = await change.lock(if_match=IfMatch.OTHER_ROW)
    consent = await service.consent_of(change.session, application.id, for_update=True)
    change.check_version(consent.version if consent else 0)
    consent = await service.set_consent(change.session, change.principal, application, consent, body.given)
    return await change.answer(response, lambda _: service.to_public(application.id, consent), resource=consent)


@public_router.get("", response_model=Page[ShowcaseProject])
async def list_showcase(
    session: SessionDep,
    sector: Param | None = Query(None, max_length=32),
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[ShowcaseProject]:
    """Verified projects whose enterprise consented to show them (anyone, no token)."""
    items, next_cursor = await service.showcased(session, sector=sector, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)
