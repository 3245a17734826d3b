"""The verification service: verification cases opened on approval, verifier assignment and independence,
measurements with revisions, the savings computation and conclusion, results, reports, programme summary."""

from __future__ import annotations

from fastapi import FastAPI

from cleanprod_kit.app import create_service_app
from cleanprod_kit.audit import audit_search_router
from cleanprod_kit.http import ServiceClient, TokenSource

from . import models  # noqa: F401 - every table registered before the app starts
from .adjustments.views import router as adjustments_router
from .assignments.views import bulk_router as bulk_assignments_router
from .assignments.views import router as assignments_router
from .cases.consumer import build_consumer
from .cases.views import router as cases_router
from .conclusions.views import router as conclusions_router
from .config import VerificationSettings
from .measurements.views import router as measurements_router
from .plans.views import router as plans_router
from .programme.service import Summaries
from .programme.views import public_router as public_results_router
from .programme.views import router as programme_router
from .refreezes.views import router as refreezes_router
from .registry import RegistryClient, registry_client


def create_app(
    settings: VerificationSettings | None = None,
    *,
    service_client: ServiceClient | None = None,
    token_source: TokenSource | None = None,
) -> FastAPI:
    """`service_client` replaces the app's own outgoing client (tests hand in a kit ServiceClient whose transport
    is a registry app in the same process; the caller closes it)."""
    settings = settings or VerificationSettings()
    mv_settings = settings.mv_settings()  # a configuration mistake fails here, at start-up
    apps: list[FastAPI] = []

    def registry() -> RegistryClient:
        return registry_client(apps[0].state.service_client, settings.registry_url, settings.registry_timeout_seconds)

    async def startup(app: FastAPI) -> None:
        app.state.mv_settings = mv_settings
        app.state.registry = registry
        app.state.programme_summaries = Summaries()

    app = create_service_app(
        settings,
        title="cleanprod verification",
        routers=[
            bulk_assignments_router,
            cases_router,
            assignments_router,
            measurements_router,
            plans_router,
            adjustments_router,
            refreezes_router,
            conclusions_router,
            programme_router,
            public_results_router,
            audit_search_router("verification"),
        ],
        consumer=build_consumer(registry, min_baseline_periods=settings.min_baseline_periods),
        on_startup=[startup],
        token_source=token_source,
        service_client=service_client,
    )
    apps.append(app)
    return app
