"""Service-to-service HTTP: client-credentials tokens (cached until shortly before expiry) and request-id
propagation on every outgoing call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .requestid import current_request_id

TokenSource = Callable[[], Awaitable[str]]


class ClientCredentialsTokens:
    """Fetches a service token with python-keycloak and reuses it until `refresh_margin` seconds before expiry."""

    def __init__(
        self, *, server_url: str, realm: str, client_id: str, client_secret: str, refresh_margin: float = 30.0
    ) -> None:
        from keycloak import KeycloakOpenID  # imported lazily: only services that call others need it

        self._openid = KeycloakOpenID(
            server_url=server_url, realm_name=realm, client_id=client_id, client_secret_key=client_secret
        )
        self._margin = refresh_margin
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = asyncio.Lock()

    async def __call__(self) -> str:
        if self._token and time.monotonic() < self._expires_at - self._margin:
            return self._token
        async with self._lock:
            if self._token and time.monotonic() < self._expires_at - self._margin:
                return self._token
            answer: dict[str, Any] = await self._openid.a_token(grant_type="client_credentials")
            self._token = answer["access_token"]
            self._expires_at = time.monotonic() + float(answer.get("expires_in", 60))
            return self._token

    async def close(self) -> None:
        connection = getattr(self._openid, "connection", None)
        closer = getattr(connection, "a_close", None) or getattr(connection, "aclose", None)
        if closer is not None:
            try:
                await closer()
            except Exception:  # noqa: BLE001 - closing on shutdown must not fail the shutdown
                pass


class ServiceClient:
    """An httpx.AsyncClient that authenticates as this service and forwards the current request id."""

    def __init__(self, tokens: TokenSource, *, timeout: float = 10.0, base_url: str = "") -> None:
        self._tokens = tokens
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=3.0),
            event_hooks={"request": [self._authorise]},
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying client (tracing instruments it)."""
        return self._client

    async def _authorise(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {await self._tokens()}"
        rid = current_request_id()
        if rid:
            request.headers["X-Request-ID"] = rid

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return await self._client.request(method, url, **kw)

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self._client.get(url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self._client.post(url, **kw)

    async def aclose(self) -> None:
        await self._client.aclose()
