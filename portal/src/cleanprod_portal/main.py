"""The portal app: `uvicorn --factory cleanprod_portal.main:create_app`.

Middleware (outermost first): the portal's time as a Server-Timing header → metrics and request id + access log
(kit) → the portal's own layer (middleware.py: the session read started early, security headers, language,
anonymous CSRF cookie, the 500 page). Every route runs the CSRF check (app-wide dependency). Errors are pages, never JSON or stack traces.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from cleanprod_kit import metrics
from cleanprod_kit.app import add_routes
from cleanprod_kit.logging import configure_logging
from cleanprod_kit.requestid import RequestIdMiddleware
from cleanprod_kit.tracing import tracing_for

from . import i18n, security
from .api import ApiProblem, ApiUnavailable, NotAllowed, NotAuthenticated, NotFound
from .audit.routes import router as audit_router
from .auth.oidc import KeycloakClient
from .auth.routes import router as auth_router
from .config import PortalSettings
from .decide.routes import router as decide_router
from .deps import LoginRequired, Portal, RoleRequired, csrf_protect, safe_next, session_confirmed
from .dev.mailbox import router as dev_mailbox_router
from .enterprise.application_steps import router as application_steps_router
from .enterprise.applications import router as applications_router
from .enterprise.baselines import router as enterprise_baselines_router
from .enterprise.documents import router as documents_router
from .enterprise.facilities import router as enterprise_facilities_router
from .enterprise.messages import router as enterprise_messages_router
from .enterprise.profile import router as enterprise_profile_router
from .enterprise.routes import router as enterprise_router
from .middleware import PortalLayer, ServerTiming
from .notifications.routes import router as notifications_router
from .officer.applications import router as officer_applications_router
from .officer.calls import router as officer_calls_router
from .officer.case import router as officer_case_router
from .officer.funding import router as officer_funding_router
from .officer.messages import router as officer_messages_router
from .officer.routes import router as officer_router
from .officer.settings import router as officer_settings_router
from .officer.verification_corrections import router as officer_corrections_router
from .payments.routes import router as payments_router
from .public.handbooks import router as handbooks_router
from .public.routes import router as public_router
from .public.showcase import router as showcase_router
from .results.routes import router as results_router
from .review.routes import router as review_router
from .routing import answer_plain_pages
from .sessions import SessionStore
from .staff.routes import router as staff_router
from .templating import STATIC_DIR, error_page, set_auto_reload
from .verify.corrections import router as verify_corrections_router
from .verify.routes import router as verify_router

log = logging.getLogger("cleanprod.portal")
PURGE_INTERVAL_SECONDS = 300


# Exceptions answered by a page that needs nothing from the exception: its status and template.
PLAIN_ERROR_PAGES: dict[type[Exception], tuple[int, str]] = {
    security.CsrfRefused: (403, "errors/csrf.html"),
    RoleRequired: (403, "errors/403.html"),
    NotAllowed: (403, "errors/403.html"),
    NotFound: (404, "errors/404.html"),
    RequestValidationError: (404, "errors/404.html"),  # a malformed id in a URL is a page that is not there
}


def _plain_page(status: int, template: str):  # noqa: ANN202 - a Starlette exception handler
    async def handler(request: Request, exc: Exception) -> HTMLResponse:
        return error_page(request, status, template)

    return handler


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.headers.get("hx-request") == "true":  # htmx: have the browser navigate, not swap a page
            return Response(status_code=204, headers={"HX-Redirect": exc.login_url})
        return RedirectResponse(exc.login_url, status_code=303)

    @app.exception_handler(NotAuthenticated)
    async def _api_401(request: Request, exc: NotAuthenticated) -> Response:
        # The gateway refused the token (e.g. the Keycloak session was ended elsewhere): log in again.
        session = getattr(request.state, "portal_session", None)
        if session is not None and await session_confirmed(request):  # not a guess the row since replaced
            await app.state.portal.sessions.delete(session)
        return RedirectResponse(LoginRequired(safe_next(request.url.path)).login_url, status_code=303)

    for kind, (status, template) in PLAIN_ERROR_PAGES.items():
        app.add_exception_handler(kind, _plain_page(status, template))

    @app.exception_handler(ApiUnavailable)
    async def _api_down(request: Request, exc: ApiUnavailable) -> HTMLResponse:
        log.warning("gateway unavailable: %s", exc)
        return error_page(request, 503, "errors/unavailable.html")

    @app.exception_handler(ApiProblem)
    async def _api_other(request: Request, exc: ApiProblem) -> HTMLResponse:
        return error_page(request, exc.status if 400 <= exc.status < 500 else 502, "errors/problem.html", problem=exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_page(request, 404, "errors/404.html")
        return error_page(request, exc.status_code, "errors/problem.html", problem=None)


def create_app(settings: PortalSettings | None = None) -> FastAPI:
    settings = settings or PortalSettings()
    configure_logging("portal", settings.log_level, settings.log_json)
    # httpx logs every gateway call at INFO: the access log (and the gateway's, by request id) already says it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Templates change only while developing: elsewhere no file is stat'ed on each render.
    set_auto_reload(settings.environment == "dev")
    tracing = tracing_for(settings, "portal")  # None unless PORTAL_TRACING_EXPORTER is set

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for language in i18n.LANGUAGES:  # compile the catalogues now: a broken .po fails the start, not a page
            i18n.translations(language)
        # No ping before each checkout (a round trip on every page): a dropped connection fails its statement,
        # SQLAlchemy invalidates the pool and SessionStore tries once more (sessions.reconnecting).
        engine = create_async_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_pre_ping=False,
        )
        gateway_http = httpx.AsyncClient(
            base_url=settings.gateway_url, timeout=settings.gateway_timeout_seconds, follow_redirects=False
        )
        keycloak_http = httpx.AsyncClient(timeout=settings.oidc_timeout_seconds)
        if tracing is not None:  # pages → gateway calls and session statements, in the page's trace
            tracing.instrument_client(gateway_http)
            tracing.instrument_engine(engine)
        sessions = SessionStore(
            engine,
            idle_seconds=settings.session_idle_seconds,
            lifetime_seconds=settings.session_lifetime_seconds,
            login_state_seconds=settings.login_state_seconds,
        )
        app.state.portal = Portal(settings, sessions, KeycloakClient(settings, keycloak_http), gateway_http)
        app.state.engine = engine
        metrics.watch_pool("portal", engine)
        metrics_listener = metrics.MetricsListener(settings.metrics_host, settings.metrics_port)
        metrics_listener.start()  # /metrics on its own port: this one is public

        async def purge() -> None:
            while True:
                await asyncio.sleep(PURGE_INTERVAL_SECONDS)
                with contextlib.suppress(Exception):
                    await sessions.purge_expired()

        purger = asyncio.create_task(purge())
        # What start-up built (modules, templates, catalogues, routes: ~125,000 objects) lives as long as the
        # process: out of the collector's way, a full collection takes ~3 ms instead of up to 77 (measured during
        # the page benchmark), which a page would otherwise wait for.
        gc.freeze()
        try:
            yield
        finally:
            purger.cancel()
            metrics_listener.stop()
            await gateway_http.aclose()
            await keycloak_http.aclose()
            await engine.dispose()

    app = FastAPI(
        title="cleanprod portal",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            async with app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means not ready
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    # One flat list of routes (the kit's add_routes: FastAPI matched a request against each included router in
    # turn), in this order: verify_corrections_router before verify_router's /{case_id}/measurements/…;
    # dev_mailbox_router answers 404 unless PORTAL_DEV_MAILBOX_DIR is set.
    for router in (
        public_router,
        auth_router,
        enterprise_router,
        applications_router,
        application_steps_router,
        documents_router,
        enterprise_messages_router,
        enterprise_profile_router,
        verify_corrections_router,
        verify_router,
        enterprise_facilities_router,
        enterprise_baselines_router,
        staff_router,
        officer_router,
        payments_router,
        officer_funding_router,
        officer_corrections_router,
        officer_applications_router,
        officer_case_router,
        officer_messages_router,
        notifications_router,
        officer_calls_router,
        officer_settings_router,
        audit_router,
        results_router,
        showcase_router,
        handbooks_router,
        review_router,
        decide_router,
        dev_mailbox_router,
    ):
        add_routes(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_pages(app)
    # After every route is in: the plain pages skip FastAPI's dependency solver (routing.py).
    app.state.plain_pages = answer_plain_pages(app)

    app.add_middleware(
        PortalLayer,
        cookie_name=settings.session_cookie_name,
        default_language=settings.default_language,
        keycloak_origin=settings.keycloak_public_url,
        hsts=settings.production,
        secure_cookies=settings.secure_cookies,
    )
    app.add_middleware(RequestIdMiddleware, log_requests=True)
    app.add_middleware(metrics.MetricsMiddleware)
    app.add_middleware(ServerTiming)
    if tracing is not None:
        tracing.instrument_app(app)
    return app
