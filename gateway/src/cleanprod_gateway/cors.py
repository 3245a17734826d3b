"""CORS, owned by the gateway (the services' CORS headers are dropped from their answers, headers.RESPONSE_DROP):
a preflight from an allowed origin is answered here without reaching a service; every other answer to an allowed
origin gets Access-Control-Allow-Origin and the exposed headers."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Message, Scope, Send

from . import problems
from .headers import ALLOWED_REQUEST_HEADERS, EXPOSED_HEADERS
from .problems import send_problem

_ALLOWED_METHODS = b"GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
_EXPOSED = EXPOSED_HEADERS.encode()
_ALLOWED_HEADERS = ALLOWED_REQUEST_HEADERS.encode()


class Cors:
    def __init__(self, origins: Iterable[str], *, allow_credentials: bool, max_age_seconds: int) -> None:
        origins = list(origins)
        self._any = "*" in origins
        self._origins = frozenset(o.rstrip("/").encode() for o in origins if o != "*")
        self._credentials = [(b"access-control-allow-credentials", b"true")] if allow_credentials else []
        self._max_age = str(max_age_seconds).encode()
        self.enabled = self._any or bool(self._origins)  # no origin configured: the gateway does no CORS

    def allows(self, origin: bytes) -> bool:
        return self._any or origin in self._origins

    @staticmethod
    def is_preflight(scope: Scope) -> bool:
        return scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method") is not None

    def wrap(self, send: Send, origin: bytes) -> Send:
        """`send` with the CORS headers for `origin` added to the response start."""
        extra = [
            (b"access-control-allow-origin", origin),
            (b"vary", b"Origin"),
            (b"access-control-expose-headers", _EXPOSED),
            *self._credentials,
        ]

        async def cors_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        return cors_send

    async def preflight(self, scope: Scope, send: Send, origin: bytes, request_id: str) -> None:
        if not self.allows(origin):
            await send_problem(send, problems.origin_refused(), path=scope["path"], request_id=request_id)
            return
        requested = _header(scope, b"access-control-request-headers")
        headers = [
            (b"access-control-allow-origin", origin),
            (b"vary", b"Origin"),
            (b"access-control-allow-methods", _ALLOWED_METHODS),
            (b"access-control-allow-headers", requested if requested else _ALLOWED_HEADERS),
            (b"access-control-max-age", self._max_age),
            (b"content-length", b"0"),
            (b"x-request-id", request_id.encode("latin-1")),
            *self._credentials,
        ]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None
