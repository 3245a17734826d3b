"""Request body size limit for JSON endpoints (uploads set their own, larger limit)."""

from __future__ import annotations

from collections.abc import Sequence

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import guard_codes
from .errors import PayloadTooLarge


class BodyTooLarge(Exception):
    pass


def without_body(scope: Scope, exempt_suffixes: tuple[str, ...]) -> bool:
    """Nothing to limit: not HTTP, an exempt path, or no body at all — HTTP/1.x without Content-Length or
    Transfer-Encoding has none (most requests are GETs: two wrappers fewer per request). HTTP/2 may send a body
    without either."""
    if scope["type"] != "http" or (exempt_suffixes and scope["path"].endswith(exempt_suffixes)):
        return True
    if scope.get("http_version") not in ("1.0", "1.1"):
        return False
    return not any(name in (b"content-length", b"transfer-encoding") for name, _ in scope["headers"])


def declared_too_large(scope: Scope, max_bytes: int) -> bool:
    return any(
        name == b"content-length" and value.isdigit() and int(value) > max_bytes for name, value in scope["headers"]
    )


def too_large_answer(max_bytes: int) -> Response:
    from .errors import problem_response

    return problem_response(
        PayloadTooLarge(f"The request body is larger than {max_bytes} bytes.", code=guard_codes.PAYLOAD_TOO_LARGE)
    )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int, exempt_path_suffixes: Sequence[str] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.exempt = tuple(exempt_path_suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if without_body(scope, self.exempt):
            await self.app(scope, receive, send)
            return
        if declared_too_large(scope, self.max_bytes):
            await self._reject(scope, send)
            return
        await read_limited(self.app, scope, receive, send, self.max_bytes)

    async def _reject(self, scope: Scope, send: Send) -> None:
        await too_large_answer(self.max_bytes)(scope, empty_receive, send)


async def read_limited(app: ASGIApp, scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    """`app` answering a request whose body it reads through the limit: 413 as soon as more than `max_bytes` came
    in, however the body is framed (chunked, no Content-Length) — the app's own answer to the cut-off body (the
    framework may make it a 400, "error parsing the body") is dropped."""
    received = 0
    too_large = False
    started = False

    async def limited_receive() -> Message:
        nonlocal received, too_large
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > max_bytes:
                too_large = True
                raise BodyTooLarge
        return message

    async def guarded_send(message: Message) -> None:
        nonlocal started
        if too_large:
            if message["type"] == "http.response.start" and not started:
                started = True
                await too_large_answer(max_bytes)(scope, empty_receive, send)
            return
        if message["type"] == "http.response.start":
            started = True
        await send(message)

    try:
        await app(scope, limited_receive, guarded_send)
    except BodyTooLarge:
        if not started:
            await too_large_answer(max_bytes)(scope, empty_receive, send)


async def empty_receive() -> Message:
    return {"type": "http.disconnect"}
