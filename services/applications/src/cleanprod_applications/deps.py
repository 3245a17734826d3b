"""What the applications service's routes need, as `Annotated` dependencies, so a route's signature says what it
uses and no route reads `request.app.state`:

- `SettingsDep`, `DatabaseDep` (for exports that outlive the request's session), `BlobStoreDep` (where document
  bytes live, documents/blobs.py), `ServiceClientDep` (calls to the other services), `RegistryDep` (the facility registry), `VerificationDep`, `WebhookDispatcherDep`;
- (each an `async def`: FastAPI runs a plain `def` dependency in its thread pool, a thread hand-off per request
  for reading an attribute — issue 16)
- the kit's change pipeline (`cleanprod_kit.changes.Change`) for each resource a route changes:
  `ApplicationChange` (`FilingChange` for a submission), `CallChange`, `SubscriptionChange`. The route calls `change.lock()` (read access → row
  lock → If-Match), one flow or service function, then `change.answer(response, …)` (commit → ETag → schema).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request, Response

from cleanprod_kit.auth import CurrentPrincipal
from cleanprod_kit.changes import Change, readable_or_404
from cleanprod_kit.db import Database, SessionDep
from cleanprod_kit.http import ServiceClient
from cleanprod_kit.upstream import Upstream

from . import registry
from .access import locked_application, readable_application
from .applications.filing import locked_for_filing
from .applications.models import Application
from .applications.schemas import ApplicationPublic
from .applications.service import public_view
from .calls.models import Call
from .config import ApplicationsSettings
from .documents.blobs import BlobStore
from .grants.models import Tranche
from .integrations.delivery import WebhookDispatcher
from .integrations.models import WebhookSubscription
from .integrations.service import readable_subscription
from .payments.service import tranche_of


async def _settings(request: Request) -> ApplicationsSettings:
    return request.app.state.settings  # type: ignore[no-any-return]


async def _database(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


async def _blob_store(request: Request) -> BlobStore:
    return request.app.state.blob_store  # type: ignore[no-any-return]


async def _service_client(request: Request) -> ServiceClient:
    return request.app.state.service_client  # type: ignore[no-any-return]


async def _webhook_dispatcher(request: Request) -> WebhookDispatcher | None:
    return getattr(request.app.state, "webhook_dispatcher", None)


SettingsDep = Annotated[ApplicationsSettings, Depends(_settings)]
DatabaseDep = Annotated[Database, Depends(_database)]
BlobStoreDep = Annotated[BlobStore, Depends(_blob_store)]
ServiceClientDep = Annotated[ServiceClient, Depends(_service_client)]
WebhookDispatcherDep = Annotated[WebhookDispatcher | None, Depends(_webhook_dispatcher)]


async def _verification(settings: SettingsDep, client: ServiceClientDep) -> Upstream:
    return Upstream(
        client,
        settings.verification_url,
        name="verification service",
        timeout=settings.verification_timeout_seconds,
        credentials_hint="APPLICATIONS_SERVICE_CLIENT_ID/SECRET",
    )


VerificationDep = Annotated[Upstream, Depends(_verification)]
"""The verification service's API (the dossier ZIP includes its case, result and report)."""


class Registry:
    """The facility registry as the routes ask it (`registry.py` speaks its HTTP API)."""

    def __init__(self, request: Request) -> None:
        self._request = request

    async def facility_facts(self, facility_id: uuid.UUID) -> registry.FacilityFacts | None:
        return await registry.facility_facts(self._request, facility_id)


async def _registry(request: Request) -> Registry:
    return Registry(request)


RegistryDep = Annotated[Registry, Depends(_registry)]


async def _application_change(
    application_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Application]:
    """A change of the application in the path: readable by the caller (404 otherwise), If-Match required
    unless the route says otherwise; read and locked in one statement (`locked_application`)."""
    return Change(
        request,
        session,
        principal,
        lambda: readable_application(session, principal, application_id),
        read_locked=lambda: locked_application(session, principal, application_id),
    )


async def _filing_change(
    application_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal, settings: SettingsDep
) -> Change[Application]:
    """`ApplicationChange` for a submission: the locked read also takes a first submission's dossier number
    (`applications/filing.py`: one statement instead of two)."""
    return Change(
        request,
        session,
        principal,
        lambda: readable_application(session, principal, application_id),
        read_locked=lambda: locked_for_filing(session, principal, application_id, settings.agency_id),
    )


async def _call_change(
    call_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Call]:
    """A change of the call in the path (every signed-in caller reads calls; the route checks the role)."""
    return Change(
        request,
        session,
        principal,
        lambda: readable_or_404(
            session, Call, call_id, lambda _: None, code="record_not_found", params={"what": f"Call {call_id}"}
        ),
    )


async def _subscription_change(
    subscription_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[WebhookSubscription]:
    """A change of the webhook subscription in the path: the caller's own, or any for officers (404 otherwise)."""
    return Change(request, session, principal, lambda: readable_subscription(session, principal, subscription_id))


async def _tranche_change(
    application_id: uuid.UUID, tranche_id: uuid.UUID, request: Request, session: SessionDep, principal: CurrentPrincipal
) -> Change[Tranche]:
    """A payment step of the tranche in the path: its application readable by the caller, the tranche one of its
    own (404 otherwise); If-Match names the tranche's version."""

    async def read() -> Tranche:
        application = await readable_application(session, principal, application_id)
        return await tranche_of(session, application, tranche_id)

    return Change(request, session, principal, read)


ApplicationChange = Annotated[Change[Application], Depends(_application_change)]
FilingChange = Annotated[Change[Application], Depends(_filing_change)]
TrancheChange = Annotated[Change[Tranche], Depends(_tranche_change)]
CallChange = Annotated[Change[Call], Depends(_call_change)]
SubscriptionChange = Annotated[Change[WebhookSubscription], Depends(_subscription_change)]


async def answer_application(change: Change[Application], response: Response) -> ApplicationPublic:
    """Commit the change and answer the application as the caller may see it, with its new ETag."""
    return await change.answer(response, lambda application: public_view(change.session, change.principal, application))
