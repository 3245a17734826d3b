"""Request headers whose duplicates change meaning are refused, in one pure function used by the gateway and by
every service (through `HeaderCheckMiddleware`).

Why: two components that read "the" header differently can be played against each other. Starlette's
`request.headers[...]` returns the first of two `Authorization` headers, a proxy may check the last one; a
service token first and an enterprise token last once returned every enterprise through the public gateway.
So a request may carry each of these headers at most once, `Authorization` and `Content-Length` not as a
comma-joined list either, and not `Content-Length` together with `Transfer-Encoding` (request smuggling).
Anything else → 400 problem+json with `code: duplicate_header` (or `conflicting_headers`).
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from .errors import BadRequest, problem_response

# Headers a request may carry once (ASGI names are lower-case bytes).
SINGLE_VALUED = frozenset(
    {
        b"authorization",
        b"host",
        b"content-length",
        b"content-type",
        b"if-match",
        b"idempotency-key",
        b"transfer-encoding",
    }
)
# Of those, headers whose single value must not be a comma-joined list either (a bearer token, a length and a
# host never contain a comma; `If-Match: "1", "2"` is a legitimate list).
NO_COMMA = frozenset({b"authorization", b"content-length", b"host"})

DUPLICATE_HEADER = "duplicate_header"
CONFLICTING_HEADERS = "conflicting_headers"


class DuplicateHeader(BadRequest):
    status, title, slug = 400, "Duplicate header", "duplicate-header"


def header_problem(headers: Iterable[tuple[bytes, bytes]]) -> DuplicateHeader | None:
    """The problem with these (lower-case ASGI) request headers, or None. One pass; nothing is allocated for a
    request that carries none of the watched headers twice."""
    seen: dict[bytes, bytes] = {}
    for name, value in headers:
        if name in SINGLE_VALUED:
            if name in seen:
                return _duplicate(name)
            seen[name] = value
    for name in NO_COMMA:
        value = seen.get(name)
        if value is not None and b"," in value:
            return _duplicate(name, joined=True)
    if b"content-length" in seen and b"transfer-encoding" in seen:
        return DuplicateHeader(
            "The request has both 'Content-Length' and 'Transfer-Encoding'; send exactly one of them.",
            title="Conflicting headers",
            slug="conflicting-headers",
            code=CONFLICTING_HEADERS,
            header="Content-Length",
        )
    return None


def _duplicate(name: bytes, *, joined: bool = False) -> DuplicateHeader:
    label = "-".join(part.capitalize() for part in name.decode("latin-1").split("-"))
    how = "a list of values" if joined else "more than once"
    return DuplicateHeader(
        f"The request carries the '{label}' header {how}; send it exactly once, with one value.",
        code=DUPLICATE_HEADER,
        header=label,
    )


def refusal(problem: DuplicateHeader, scope: Scope) -> Response:
    """The 400 answer to a request `header_problem` objects to. Connection: close — after a request whose framing
    or identity is ambiguous the connection is not reused (the body, if any, is never read)."""
    response = problem_response(problem, Request(scope))
    response.headers["Connection"] = "close"
    return response


class HeaderCheckMiddleware:
    """Pure ASGI middleware (no BaseHTTPMiddleware): refuses requests `header_problem` objects to before any
    route, dependency or body parser sees them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            problem = header_problem(scope["headers"])
            if problem is not None:
                await refusal(problem, scope)(scope, receive, send)
                return
        await self.app(scope, receive, send)
