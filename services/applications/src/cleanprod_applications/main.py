"""The applications service: calls, applications and their lifecycle, reviews, decisions, tranches, documents."""

from __future__ import annotations

from fastapi import FastAPI

from cleanprod_contracts.registry_client import RegistryClient
from cleanprod_kit.app import create_service_app
from cleanprod_kit.audit import audit_search_router
from cleanprod_kit.http import ServiceClient, TokenSource
from cleanprod_kit.metrics import add_refresher

from . import (
    metrics,
    models,  # noqa: F401 - every table registered before the app starts
)
from .applications.views import router as applications_router
from .calls.views import router as calls_router
from .config import ApplicationsSettings
from .consumer import build_consumer
from .documents.blobs import blob_store
from .documents.views import router as documents_router
from .exports.views import router as exports_router
from .funding.views import router as funding_router
from .grants.views import router as grants_router
from .handbooks.views import public_router as public_handbooks_router
from .handbooks.views import router as handbooks_router
from .integrations.delivery import WebhookDispatcher
from .integrations.retention import needed_by_webhooks
from .integrations.views import router as integrations_router
from .mail.sender import MailSender
from .messages.views import router as messages_router
from .notifications.scheduler import NotificationScheduler
from .notifications.views import router as notifications_router
from .payments.views import router as payments_router
from .payments.views import work_list_router as payment_work_list_router
from .public.views import router as public_router
from .reviews.views import router as reviews_router
from .showcase.views import public_router as public_showcase_router
from .showcase.views import router as showcase_router
from .supplements.views import router as supplements_router


def create_app(
    settings: ApplicationsSettings | None = None,
    *,
    token_source: TokenSource | None = None,
    service_client: ServiceClient | None = None,
) -> FastAPI:
    """`token_source` replaces client credentials for outgoing calls; `service_client` replaces the whole client
    (tests hand in one that reaches an in-process registry; the caller closes it)."""
    settings = settings or ApplicationsSettings()

    async def prepare(app: FastAPI) -> None:
        settings.upload_tmp_dir.mkdir(parents=True, exist_ok=True)
        app.state.blob_store = blob_store(settings, app.state.db.engine)
        add_refresher(app, metrics.refresh)  # webhook deliveries waiting or dead, mails waiting

    async def start_webhooks(app: FastAPI) -> None:
        app.state.webhook_dispatcher = None
        if settings.outbox_enabled and settings.webhook_dispatcher_enabled:
            app.state.webhook_dispatcher = WebhookDispatcher(app.state.db, settings)
            app.state.webhook_dispatcher.start()

    async def start_mail(app: FastAPI) -> None:
        app.state.mail_sender = None
        if settings.smtp_host:  # no SMTP server configured: no mail (docs/notifications.md "Mail")
            registry = RegistryClient(
                app.state.service_client,
                settings.registry_url,
                settings.registry_timeout_seconds,
                credentials_hint="APPLICATIONS_SERVICE_CLIENT_ID/SECRET",
            )
            app.state.mail_sender = MailSender(app.state.db, settings, registry)
            app.state.mail_sender.start()

    async def start_scheduler(app: FastAPI) -> None:
        # Reminders and overdue checks: in every replica, one run at a time (notifications/scheduler.py).
        app.state.notification_scheduler = None
        if settings.outbox_enabled and settings.notification_scheduler_enabled:
            app.state.notification_scheduler = NotificationScheduler(app.state.db, settings)
            app.state.notification_scheduler.start()

    async def release(app: FastAPI) -> None:
        if app.state.webhook_dispatcher is not None:
            await app.state.webhook_dispatcher.stop()
        if app.state.mail_sender is not None:
            await app.state.mail_sender.stop()
        if app.state.notification_scheduler is not None:
            await app.state.notification_scheduler.stop()

    return create_service_app(
        settings,
        title="cleanprod applications",
        routers=[
            calls_router,
            exports_router,
            payment_work_list_router,  # /applications/tranches before /applications/{application_id}
            applications_router,
            reviews_router,
            grants_router,
            funding_router,
            payments_router,
            documents_router,
            integrations_router,
            public_router,
            supplements_router,
            messages_router,
            showcase_router,
            public_showcase_router,
            handbooks_router,
            public_handbooks_router,
            notifications_router,
            audit_search_router("applications"),
        ],
        consumer=build_consumer(settings.recovery_threshold_bp),
        on_startup=[prepare, start_webhooks, start_scheduler, start_mail],
        on_shutdown=[release],
        token_source=token_source,
        service_client=service_client,
        body_limit_exempt_suffixes=("/documents", "/versions", "/attachments"),  # multipart uploads
        outbox_keep=needed_by_webhooks(fanout_runs=settings.webhook_dispatcher_enabled),
    )
