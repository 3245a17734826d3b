"""The app factory every service uses: logging, request ids, body limits, problem+json, database, token
verification, health endpoints, outbox dispatcher and event consumer — wired the same way everywhere."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from . import health
from .auth import JWKSCache, TokenVerifier
from .db import Database
from .errors import Conflict, install_problem_handlers, problem_response
from .headerchecks import HeaderCheckMiddleware
from .http import ClientCredentialsTokens, ServiceClient, TokenSource
from .limits import BodyLimitMiddleware
from .logging import configure_logging
from .outbox import EventConsumer, OutboxDispatcher, http_deliverer
from .requestid import RequestIdMiddleware
from .settings import ServiceSettings

Hook = Callable[[FastAPI], Awaitable[None]]


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
) -> FastAPI:
    configure_logging(settings.service_name, settings.log_level, settings.log_json)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.db = Database(settings.database_url, pool_size=settings.db_pool_size,
                                max_overflow=settings.db_max_overflow)
        jwks = JWKSCache(settings.jwks_url, ttl_seconds=settings.jwks_cache_ttl_seconds,
                         min_refetch_seconds=settings.jwks_min_refetch_seconds)
        app.state.token_verifier = TokenVerifier(issuer=settings.oidc_issuer, audience=settings.oidc_audience,
                                                 jwks=jwks, leeway_seconds=settings.clock_skew_seconds)
        tokens = token_source
        if tokens is None and settings.service_client_id and settings.service_client_secret:
            tokens = ClientCredentialsTokens(server_url=settings.keycloak_server_url + "/", realm=settings.realm,
                                             client_id=settings.service_client_id,
                                             client_secret=settings.service_client_secret)
        # `service_client` (tests) replaces the whole outgoing client, e.g. one served by an in-process app;
        # its owner closes it.
        own_client = service_client is None and tokens is not None
        app.state.service_client = service_client or (ServiceClient(tokens) if tokens is not None else None)
        app.state.dispatcher = None
        if settings.outbox_enabled and settings.subscriber_urls and app.state.service_client is not None:
            client = app.state.service_client
            app.state.dispatcher = OutboxDispatcher(
                app.state.db, settings.service_name, http_deliverer(settings.subscriber_urls, lambda: client),
                poll_seconds=settings.outbox_poll_seconds,
            )
            app.state.dispatcher.start()
        for hook in on_startup:
            await hook(app)
        try:
            yield
        finally:
            for hook in on_shutdown:
                await hook(app)
            if app.state.dispatcher is not None:
                await app.state.dispatcher.stop()
            if own_client:
                await app.state.service_client.aclose()
            if isinstance(tokens, ClientCredentialsTokens):
                await tokens.close()
            await jwks.close()
            await app.state.db.dispose()

    app = FastAPI(title=title, version=version, lifespan=lifespan, docs_url="/docs", openapi_url="/openapi.json")
    install_problem_handlers(app)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> Any:
        # Safety net: a uniqueness or reference rule enforced by the database, not caught earlier.
        return problem_response(Conflict(code="data_conflict"), request)

    app.include_router(health.router)
    for router in routers:
        app.include_router(router)
    if consumer is not None:
        app.include_router(consumer.router())
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_json_body_bytes,
                       exempt_path_suffixes=body_limit_exempt_suffixes)
    app.add_middleware(HeaderCheckMiddleware)  # duplicate Authorization, Content-Length, Host, ... -> 400
    app.add_middleware(RequestIdMiddleware, log_requests=settings.log_requests)
    return app
