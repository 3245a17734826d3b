"""X-Request-ID: taken from the caller when well-formed, otherwise created; echoed and kept in a contextvar
so logs and outgoing service calls carry it."""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_VALID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
access_log = logging.getLogger("cleanprod.access")


def current_request_id() -> str | None:
    return request_id_var.get()


def accept_or_create(raw: str | None) -> str:
    if raw and _VALID.match(raw):
        return raw
    return uuid.uuid4().hex


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's X-Request-ID when well-formed (the first one), otherwise a new id."""
    for name, value in headers:
        if name == b"x-request-id":
            return accept_or_create(value.decode("latin-1"))
    return accept_or_create(None)


def with_request_id(headers: list[tuple[bytes, bytes]], rid: str) -> list[tuple[bytes, bytes]]:
    """An answer's headers with exactly one X-Request-ID, ours."""
    kept = [(k, v) for k, v in headers if k.lower() != b"x-request-id"]
    kept.append((b"x-request-id", rid.encode("latin-1")))
    return kept


def log_request(scope: Scope, status: int, started: float) -> None:
    """The access-log line of a request (probes are not logged); `started` from time.perf_counter()."""
    if scope["path"] in ("/healthz", "/readyz"):
        return
    access_log.info(
        "request",
        extra={
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware) so that streaming bodies are not buffered. Also writes one access-log
    line per request (method, path, status, duration, request id) when `log_requests` is on."""

    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id_of(scope["headers"])
        token = request_id_var.set(rid)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_request_id(message.get("headers", []), rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log_requests:
                log_request(scope, status, started)
            request_id_var.reset(token)
