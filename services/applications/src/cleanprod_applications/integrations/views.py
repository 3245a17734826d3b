from __future__ import annotations

import json
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from starlette.responses import JSONResponse

from cleanprod_kit.auth import CurrentPrincipal, require_roles
from cleanprod_kit.changes import IfMatch, created
from cleanprod_kit.concurrency import set_etag
from cleanprod_kit.db import SessionDep
from cleanprod_kit.fields import Param
from cleanprod_kit.idempotency import REPLAYED_HEADER, Created, create_once
from cleanprod_kit.openapi import OPTIONAL_IF_MATCH
from cleanprod_kit.pagination import CursorParam, LimitParam, Page
from cleanprod_kit.roles import Role

from ..applications.schemas import HistoryEntry
from ..deps import SettingsDep, SubscriptionChange, WebhookDispatcherDep
from ..domain.dossier_code import DOSSIER_CODE_PATTERN
from . import service
from .models import DeliveryStatus
from .schemas import (
    DeliveryPublic,
    DossierPublic,
    EventFeed,
    SubscriptionCreate,
    SubscriptionCreated,
    SubscriptionPublic,
    SubscriptionUpdate,
)

router = APIRouter(prefix="/api/v1/integrations", tags=["e-government integration"])
readers = [Depends(require_roles(Role.EGOV, Role.OFFICER, Role.AUDITOR))]
egov_only = [Depends(require_roles(Role.EGOV))]
writers = [Depends(require_roles(Role.EGOV, Role.OFFICER))]
officers = [Depends(require_roles(Role.OFFICER))]
NOT_YOURS = {404: {"description": "No such subscription, or another client's"}}


def _wake(dispatcher: WebhookDispatcherDep) -> None:
    if dispatcher is not None:
        dispatcher.notify()


@router.get(
    "/dossiers/{dossier_code}",
    response_model=DossierPublic,
    dependencies=readers,
    responses={
        404: {"description": "No dossier has this code"},
        422: {"description": "Not a dossier code (<agency>-<YYMMDD>-<NNNN>)"},
    },
)
async def look_up_dossier(
    session: SessionDep,
    settings: SettingsDep,
    # The pattern is documented; parse_dossier_code checks it (with a readable 422).
    dossier_code: Annotated[
        Param,
        Path(
            max_length=64, examples=["000.00.01.H26-261128-0001"], json_schema_extra={"pattern": DOSSIER_CODE_PATTERN}
        ),
    ],
) -> DossierPublic:
    """A dossier's national status (TrangThaiHoSo) and the fields one-stop systems exchange; dates yyyyMMddHHmmss
    in Hanoi time."""
    return await service.dossier(session, settings, dossier_code)


@router.get("/events", response_model=EventFeed, dependencies=readers)
async def event_feed(
    session: SessionDep,
    limit: LimitParam = 100,
    after: Param | None = Query(None, max_length=512, description="`next_cursor` of the previous page"),
    type: list[Param] | None = Query(
        None,
        max_length=20,  # noqa: A002 - the public parameter name
        description="Event types or prefixes ('application.*'); repeat for several",
    ),
) -> EventFeed:
    """Every event once, in commit-safe order (replay for webhooks, or polling instead of them)."""
    return await service.event_feed(session, after=after, limit=limit, types=service.feed_types(type))


@router.post(
    "/webhooks",
    status_code=201,
    response_model=SubscriptionCreated,
    dependencies=egov_only,
    responses={
        409: {"description": "Subscription limit reached"},
        422: {"description": "URL not allowed, bad secret or event type"},
    },
)
async def subscribe(
    body: SubscriptionCreate, request: Request, session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep
) -> Response:
    """Subscribe a URL to events. The secret (given, or generated) is in this answer only; a replay with the same
    Idempotency-Key answers without it."""
    await service.check_webhook_url(body.url, settings)
    secret_holder: dict[str, str] = {}

    async def create() -> Created:
        subscription, secret = await service.create_subscription(session, principal, settings, body)
        secret_holder["secret"] = secret
        public = SubscriptionCreated(**service.to_public(subscription).model_dump(), secret=None)
        return created(
            public, version=subscription.version, location=f"/api/v1/integrations/webhooks/{subscription.id}"
        )

    response = await create_once(request, session, principal, body, create)
    if response.status_code == 201 and REPLAYED_HEADER not in response.headers and "secret" in secret_holder:
        # The secret is added to the first answer only, never to the stored idempotent replay.
        content = json.loads(bytes(response.body))
        content["secret"] = secret_holder["secret"]
        headers = {k: v for k, v in response.headers.items() if k.lower() in ("etag", "location")}
        headers["Cache-Control"] = "no-store"
        return JSONResponse(content, status_code=201, headers=headers)
    return response


@router.get("/webhooks", response_model=Page[SubscriptionPublic], dependencies=readers)
async def list_subscriptions(
    session: SessionDep, principal: CurrentPrincipal, limit: LimitParam = 50, cursor: CursorParam = None
) -> Page[SubscriptionPublic]:
    """An egov client sees its own subscriptions; officers and auditors see all."""
    items, next_cursor = await service.list_subscriptions(session, principal, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get("/webhooks/{subscription_id}", response_model=SubscriptionPublic, dependencies=readers, responses=NOT_YOURS)
async def read_subscription(
    subscription_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal, response: Response
) -> SubscriptionPublic:
    subscription = await service.readable_subscription(session, principal, subscription_id)
    set_etag(response, subscription.version)
    return service.to_public(subscription)


@router.patch(
    "/webhooks/{subscription_id}",
    response_model=SubscriptionPublic,
    dependencies=writers,
    responses={**NOT_YOURS, 412: {"description": "If-Match is stale"}, 428: {"description": "If-Match is missing"}},
)
async def change_subscription(
    body: SubscriptionUpdate,
    change: SubscriptionChange,
    settings: SettingsDep,
    dispatcher: WebhookDispatcherDep,
    response: Response,
) -> SubscriptionPublic:
    """Change URL, event types, description, or pause/resume (`active`). Officers may only pause/resume."""
    if body.url is not None:  # before the lock: the URL check may resolve the host name
        await service.check_webhook_url(body.url, settings)
    subscription = await change.lock()
    await service.update_subscription(change.session, change.principal, subscription, body)
    answer = await change.answer(response, service.to_public)
    _wake(dispatcher)
    return answer


@router.delete(
    "/webhooks/{subscription_id}",
    status_code=204,
    dependencies=writers,
    responses=NOT_YOURS,
    openapi_extra=OPTIONAL_IF_MATCH,
)
async def unsubscribe(change: SubscriptionChange) -> Response:
    """Delete the subscription and its deliveries (the audit log keeps the record). If-Match is optional."""
    subscription = await change.lock(if_match=IfMatch.WHEN_SENT)
    await service.delete_subscription(change.session, change.principal, subscription)
    await change.commit()
    return Response(status_code=204)


@router.get(
    "/webhooks/{subscription_id}/history", response_model=Page[HistoryEntry], dependencies=readers, responses=NOT_YOURS
)
async def subscription_history(
    subscription_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: LimitParam = 200,
    cursor: CursorParam = None,
) -> Page[HistoryEntry]:
    await service.readable_subscription(session, principal, subscription_id)
    items, next_cursor = await service.subscription_history(session, subscription_id, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.get(
    "/webhooks/{subscription_id}/deliveries",
    response_model=Page[DeliveryPublic],
    dependencies=readers,
    responses=NOT_YOURS,
)
async def list_deliveries(
    subscription_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    status: DeliveryStatus | None = None,
    limit: LimitParam = 50,
    cursor: CursorParam = None,
) -> Page[DeliveryPublic]:
    """Deliveries in event order (`seq`); `status=dead` lists the dead letters."""
    subscription = await service.readable_subscription(session, principal, subscription_id)
    items, next_cursor = await service.list_deliveries(session, subscription, status=status, limit=limit, cursor=cursor)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver",
    response_model=DeliveryPublic,
    dependencies=officers,
    responses={**NOT_YOURS, 409: {"description": "Still pending"}},
)
async def redeliver(
    subscription_id: uuid.UUID,
    delivery_id: uuid.UUID,
    session: SessionDep,
    principal: CurrentPrincipal,
    dispatcher: WebhookDispatcherDep,
) -> DeliveryPublic:
    """Send a dead (or delivered) delivery again, with a fresh retry window (officers)."""
    subscription = await service.readable_subscription(session, principal, subscription_id)
    delivery = await service.redeliver(session, principal, subscription, delivery_id)
    await session.commit()
    _wake(dispatcher)
    return service.delivery_public(delivery)
