"""Portal tests: a real PostgreSQL (the kit's session server) with the portal's own migrated database, the app
run in-process with its lifespan, and — for pages that read the API — a small loopback gateway app answering
the documented public contract (the real gateway is exercised by tests/e2e/test_portal.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cleanprod_kit.migrations import upgrade
from cleanprod_portal.config import PortalSettings
from cleanprod_portal.main import create_app
from cleanprod_portal.sessions import PortalSession, TokenSet


@pytest.fixture(scope="session")
def portal_database_url(pg_instance: Any) -> str:
    from infra.postgres_server import create_databases

    create_databases(pg_instance, ["cleanprod_portal_test"])
    url = pg_instance.url("cleanprod_portal_test")
    upgrade("cleanprod_portal:migrations", url)
    return url


@pytest.fixture
def settings(portal_database_url: str) -> PortalSettings:
    return PortalSettings(
        environment="test",
        database_url=portal_database_url,
        log_json=False,
        public_base_url="http://portal.test",
        oidc_issuer="http://kc.test/realms/cleanprod",
        gateway_url="http://gateway.test",
        metrics_port=0,  # no metrics listener per test app
    )


@pytest.fixture
def make_client(settings: PortalSettings) -> Callable[..., Any]:
    """`async with make_client(gateway_app) as client:` — the portal in-process, its gateway calls answered by
    `gateway_app` (an ASGI app) when given."""
    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def factory(gateway: FastAPI | None = None, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(settings.model_copy(update=overrides) if overrides else settings)
        async with app.router.lifespan_context(app):
            if gateway is not None:
                await app.state.portal.gateway_http.aclose()
                app.state.portal.gateway_http = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=gateway), base_url="http://gateway.test"
                )
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as client:
                client.app = app  # type: ignore[attr-defined]
                yield client

    return factory


@pytest.fixture
def tokens() -> Callable[..., TokenSet]:
    """`tokens(**overrides)`: what Keycloak would answer for an enterprise user (ent-hanoisteel), tokens live."""

    def build(**overrides: Any) -> TokenSet:
        at = datetime.now(UTC)
        values: dict[str, Any] = dict(
            access_token="access-xyz",
            access_expires_at=at + timedelta(minutes=5),
            refresh_token="refresh-xyz",
            refresh_expires_at=at + timedelta(minutes=30),
            id_token="id-xyz",
            subject="sub-1",
            username="ent-hanoisteel",
            display_name="Nguyễn Văn An",
            roles=["enterprise"],
            tax_code="0100109106",
        )
        values.update(overrides)
        return TokenSet(**values)

    return build


@pytest.fixture
def log_in(tokens: Callable[..., TokenSet]) -> Callable[..., Any]:
    """`session = await log_in(client, roles=[...], ...)`: a session row in the portal's store (the tokens'
    fields as overrides, `language` the session's), its cookie set on the client."""

    async def create(client: httpx.AsyncClient, language: str = "vi", **overrides: Any) -> PortalSession:
        portal = client.app.state.portal  # type: ignore[attr-defined]
        cookie, session = await portal.sessions.create(tokens(**overrides), language)
        client.cookies.set(portal.settings.session_cookie_name, cookie)
        return session

    return create
