"""problem+json answers sent straight over ASGI (the proxy path does not go through FastAPI), in the language the
request prefers (`Accept-Language`, kept per request by the gateway in `accept_language` and parsed only when a
problem is answered), with codes and texts from the kit's catalogue (`cleanprod_kit.messages`)."""

from __future__ import annotations

from contextvars import ContextVar

import orjson
from starlette.types import Send

from cleanprod_kit.errors import PROBLEM_JSON, BadGateway, BadRequest, Forbidden, Problem, TooManyRequests
from cleanprod_kit.messages import preferred_language

from .routes import READ_METHODS

_CT = (b"content-type", PROBLEM_JSON.encode())

accept_language: ContextVar[bytes | None] = ContextVar("accept_language", default=None)
"""The raw Accept-Language header of the request being answered (set by Gateway._http)."""


class GatewayTimeout(Problem):
    status, title, slug, code = 504, "Gateway timeout", "gateway-timeout", "gateway_timeout"


class NotFoundRoute(Problem):
    status, title, slug, code = 404, "Not found", "not-found", "no_route"


# The gateway's own problems, one constructor each (codes and both languages in the kit catalogue).
def no_route(path: str) -> NotFoundRoute:
    return NotFoundRoute(params={"path": path})


def read_only() -> Problem:
    # A prefix nobody may change (public pages, the programme summary): no method but the reads exists there.
    return Problem(
        status=405,
        title="Method not allowed",
        slug="method-not-allowed",
        code="method_not_allowed",
        headers={"Allow": ", ".join(sorted(READ_METHODS))},
    )


def dot_segments() -> BadRequest:
    return BadRequest(code="dot_segment_path")


def origin_refused() -> Forbidden:
    return Forbidden(code="origin_not_allowed")


def too_many(wait: int) -> TooManyRequests:
    return TooManyRequests(params={"retry_after": wait}, headers={"Retry-After": str(wait)})


def upstream_timeout(service: str) -> GatewayTimeout:
    return GatewayTimeout(params={"service": service})


def upstream_unreachable(service: str) -> BadGateway:
    return BadGateway(code="upstream_unreachable", params={"service": service})


def upstream_invalid(service: str) -> BadGateway:
    return BadGateway(code="upstream_invalid_answer", params={"service": service})


def upstream_broke_off(service: str) -> BadGateway:
    return BadGateway(code="upstream_broke_off", params={"service": service})


async def send_problem(
    send: Send,
    problem: Problem,
    *,
    path: str,
    request_id: str,
    head: bool = False,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    raw = accept_language.get()
    body = orjson.dumps(problem.to_body(path, preferred_language(raw.decode("latin-1") if raw else None)))
    headers = [_CT, (b"content-length", str(len(body)).encode()), (b"x-request-id", request_id.encode("latin-1"))]
    for name, value in problem.headers.items():
        headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body, "more_body": False})
