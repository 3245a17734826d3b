"""The app factory every service uses: logging, request ids, body limits, problem+json, database, token
verification, health endpoints, outbox dispatcher and event consumer — wired the same way everywhere."""

from __future__ import annotations

import gc
import inspect
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from asyncpg.exceptions import ConnectionDoesNotExistError
from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from starlette.requests import Request

from . import guard_codes, health, metrics
from .auth import JWKSCache, TokenVerifier
from .db import Database, concurrent_write_lost, database_unavailable, null_violation, value_rejected
from .errors import (
    Conflict,
    ServiceUnavailable,
    Unprocessable,
    field_error,
    install_problem_handlers,
    internal_error_response,
    problem_response,
)
from .fields import guard_parameters
from .http import ClientCredentialsTokens, ServiceClient, TokenSource
from .logging import configure_logging
from .openapi import document_problems
from .outbox import EventConsumer, OutboxDispatcher, http_deliverer
from .outbox_retention import Keep, start_pruner, stop_pruner
from .pagination import DEV_CURSOR_KEY, cursor_key_var
from .service_layer import ServiceLayer
from .settings import ServiceSettings
from .tracing import Tracing, tracing_for

Hook = Callable[[FastAPI], Awaitable[None]]
log = logging.getLogger("cleanprod.app")


def _cursor_key(settings: ServiceSettings) -> bytes:
    if settings.cursor_key is not None:
        return settings.cursor_key.get_secret_value().encode()
    if settings.environment == "production":
        # Never the published dev key in production: a random one still refuses forged cursors, but cursors then
        # do not survive a restart or travel between replicas.
        log.warning("no %s cursor_key set: list cursors are signed with a per-process key", settings.service_name)
        return os.urandom(32)
    return DEV_CURSOR_KEY


def tune_gc(threshold0: int) -> None:
    """A request allocates thousands of short-lived objects (ORM rows, pydantic models, dependency results); with
    Python's default threshold (2000) the cyclic collector runs every request or two and its full collections walk
    everything start-up built (modules, routes, schemas). That is frozen out of the collector's way, and generation
    0 is collected less often (as the gateway does, its main.tune_gc). 0 leaves the collector alone."""
    if threshold0 <= 0:
        return
    gc.collect()
    gc.freeze()
    _, threshold1, threshold2 = gc.get_threshold()
    gc.set_threshold(threshold0, threshold1, threshold2)


_ROUTE_FIELDS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in ("self", "route_class_override")
)


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """The router's routes as the app's own, one flat list (issue 16). `include_router` keeps a router as one
    nested entry, and FastAPI then matches a request against each included router's routes in turn — twice (to
    select, then to handle): for the registry ~7 % of a simple read's CPU. Each route is added again through
    `add_api_route` with every setting it was declared with (path with its router's prefix, its router's tags and
    dependencies, responses…), so the app-wide dependencies apply and the order of the routes is kept. A router
    holding anything but plain API routes (mounts, nested routers) is included as it is."""
    if not all(isinstance(route, APIRoute) for route in router.routes):
        app.include_router(router)
        return
    for route in router.routes:
        settings = {name: getattr(route, name) for name in _ROUTE_FIELDS}
        app.router.add_api_route(**settings, route_class_override=type(route))


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    consumer: EventConsumer | None = None,
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
    token_source: TokenSource | None = None,
    service_client: ServiceClient | None = None,
    body_limit_exempt_suffixes: Sequence[str] = (),
    version: str = "1.0.0",
    outbox_keep: Keep | None = None,
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    tracing = tracing_for(settings, settings.service_name)  # None unless <P>TRACING_EXPORTER is set

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.db = Database(
            settings.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            statement_cache_size=settings.db_statement_cache_size,
            read_pool_size=settings.db_read_pool_size,
        )
        jwks = JWKSCache(
            settings.jwks_url,
            ttl_seconds=settings.jwks_cache_ttl_seconds,
            min_refetch_seconds=settings.jwks_min_refetch_seconds,
        )
        app.state.token_verifier = TokenVerifier(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks=jwks,
            leeway_seconds=settings.clock_skew_seconds,
        )
        tokens = token_source
        if tokens is None and settings.service_client_id and settings.service_client_secret:
            tokens = ClientCredentialsTokens(
                server_url=settings.keycloak_server_url + "/",
                realm=settings.realm,
                client_id=settings.service_client_id,
                client_secret=settings.service_client_secret,
            )
        # `service_client` (tests) replaces the whole outgoing client, e.g. one served by an in-process app;
        # its owner closes it.
        own_client = service_client is None and tokens is not None
        app.state.service_client = service_client or (ServiceClient(tokens) if tokens is not None else None)
        app.state.dispatcher = None
        if settings.outbox_enabled and settings.subscriber_urls and app.state.service_client is not None:
            client = app.state.service_client
            app.state.dispatcher = OutboxDispatcher(
                app.state.db,
                settings.service_name,
                http_deliverer(settings.subscriber_urls, lambda: client),
                poll_seconds=settings.outbox_poll_seconds,
            )
            app.state.dispatcher.start()
        # Delivered events past the retention are pruned; `outbox_keep`: what the service still needs of them.
        app.state.outbox_pruner = start_pruner(app.state.db, settings, outbox_keep)
        _observe(app, settings, tracing)
        for hook in on_startup:
            await hook(app)
        tune_gc(settings.gc_threshold)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            if app.state.dispatcher is not None:
                await app.state.dispatcher.stop()
            await stop_pruner(app.state.outbox_pruner)
            if own_client:
                await app.state.service_client.aclose()
            if isinstance(tokens, ClientCredentialsTokens):
                await tokens.close()
            await jwks.close()
            await app.state.db.dispose()

    cursor_key = _cursor_key(settings)

    async def request_context(request: Request) -> None:
        cursor_key_var.set(cursor_key)
        await guard_parameters(request)

    # Every route: its own cursor key, and no control characters in any query or path parameter (one dependency:
    # each one FastAPI solves costs a few microseconds per request).
    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
        dependencies=[Depends(request_context)],
    )
    install_problem_handlers(app)
    _install_database_handlers(app, settings)

    for router in (health.router, metrics.router, *routers, *([consumer.router()] if consumer is not None else [])):
        add_routes(app, router)
    document_problems(app)
    # Metrics (every answer, the guards' 400/413 too), request id + access log, duplicate headers -> 400, body
    # limit -> 413: one layer (service_layer.py), not four.
    app.add_middleware(
        ServiceLayer,
        max_body_bytes=settings.max_json_body_bytes,
        body_limit_exempt_suffixes=body_limit_exempt_suffixes,
        log_requests=settings.log_requests,
    )
    return _traced(app, tracing)


def _observe(app: FastAPI, settings: ServiceSettings, tracing: Tracing | None) -> None:
    """Metrics of what the lifespan built (pool, outbox backlog when a dispatcher runs); traces of its database
    statements and calls to other services."""
    metrics.watch_pool(settings.service_name, app.state.db.engine)
    app.state.metric_refreshers = [metrics.refresh_outbox] if app.state.dispatcher is not None else []
    if tracing is not None:
        tracing.instrument_service(app)


def _traced(app: FastAPI, tracing: Tracing | None) -> FastAPI:
    if tracing is not None:
        tracing.instrument_app(app)  # server spans; after every middleware is added (see Tracing.instrument_app)
    return app


def _install_database_handlers(app: FastAPI, settings: ServiceSettings) -> None:
    """The database's failures as problem+json: unavailable -> 503 with Retry-After, integrity -> 422 or 409."""

    async def _database(request: Request, exc: Exception) -> Any:
        # Safety nets for whole classes the database catches before the code does (logged, then answered 4xx).
        if value_rejected(exc):
            log.warning("database refused a value on %s %s: %s", request.method, request.url.path, exc)
            return problem_response(
                Unprocessable(
                    "A value is outside what can be stored (too large, too long or not a valid date).",
                    code=guard_codes.VALUE_NOT_STORABLE,
                ),
                request,
            )
        if concurrent_write_lost(exc):
            log.warning("concurrent write lost on %s %s: %s", request.method, request.url.path, exc)
            return problem_response(
                Conflict(
                    "Another change to the same records was saved at the same moment; read them again and retry.",
                    code=guard_codes.CONCURRENT_WRITE,
                ),
                request,
            )
        if not database_unavailable(exc):
            return internal_error_response(request, exc)
        # Expected while the database restarts: one line, no traceback; the client is told when to come back.
        log.warning("database unavailable on %s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return problem_response(
            ServiceUnavailable(
                "The service cannot reach its database right now; retry shortly.",
                code=guard_codes.DATABASE_UNAVAILABLE,
                headers={"Retry-After": str(settings.db_unavailable_retry_after)},
            ),
            request,
        )

    # Registered broadly; `_database` answers 500 (logged with its traceback) for what is not unavailability.
    # (asyncpg's own errors: the hot reads run on the driver directly, db.Read.)
    for kind in (OSError, DBAPIError, SATimeoutError, asyncpg.exceptions.PostgresError, ConnectionDoesNotExistError):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Any:
        # Safety net: a uniqueness or reference rule enforced by the database, not caught earlier.
        column = null_violation(exc)
        if column is not None:  # a null that slipped past its schema is the client's input, not a conflict
            return problem_response(
                Unprocessable(
                    f"'{column}' cannot be null.",
                    code=guard_codes.NULL_NOT_ALLOWED,
                    errors=[field_error(column, "This field cannot be null", guard_codes.NULL_NOT_ALLOWED)],
                ),
                request,
            )
        return problem_response(Conflict(code="data_conflict"), request)
