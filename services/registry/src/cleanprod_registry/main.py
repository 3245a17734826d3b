"""The registry service: enterprises, facilities, baselines, sectors and norms."""

from __future__ import annotations

from fastapi import FastAPI

from cleanprod_kit.app import create_service_app
from cleanprod_kit.audit import audit_search_router

from . import models  # noqa: F401 - every table registered before the app starts
from .accounts.recipients import router as recipients_router
from .accounts.staff import router as staff_router
from .accounts.views import router as accounts_router
from .baselines.views import router as baselines_router
from .config import RegistrySettings
from .enterprises.views import router as enterprises_router
from .facilities.views import internal_router as internal_facilities_router
from .facilities.views import router as facilities_router
from .sectors.views import public_router as public_sectors_router
from .sectors.views import router as sectors_router


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    settings = settings or RegistrySettings()
    return create_service_app(
        settings,
        title="cleanprod registry",
        routers=[
            enterprises_router,
            accounts_router,
            facilities_router,
            baselines_router,
            sectors_router,
            public_sectors_router,
            staff_router,
            recipients_router,
            internal_facilities_router,
            audit_search_router("registry"),
        ],
    )
