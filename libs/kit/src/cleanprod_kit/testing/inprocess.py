"""A service client that reaches another service's app in the same process (tests): the same ServiceClient
behaviour (bearer service token, X-Request-ID propagation), over `httpx.ASGITransport` instead of the network."""

from __future__ import annotations

import httpx

from ..http import ServiceClient, TokenSource


class InProcessServiceClient(ServiceClient):
    def __init__(
        self, tokens: TokenSource, transport: httpx.AsyncBaseTransport, *, timeout: float = 10.0, base_url: str = ""
    ) -> None:
        super().__init__(tokens, timeout=timeout, base_url=base_url)
        self._client = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=3.0),
            event_hooks={"request": [self._authorise]},
        )


def in_process_client(tokens: TokenSource, app: object, **kw: object) -> InProcessServiceClient:
    """A ServiceClient whose requests are served by `app` (an ASGI app whose lifespan is already running)."""
    return InProcessServiceClient(tokens, httpx.ASGITransport(app=app), **kw)  # type: ignore[arg-type]
