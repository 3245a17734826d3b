"""problem+json answers sent straight over ASGI (the proxy path does not go through FastAPI)."""

from __future__ import annotations

import orjson
from starlette.types import Send

from cleanprod_kit.errors import PROBLEM_JSON, Problem

_CT = (b"content-type", PROBLEM_JSON.encode())


class GatewayTimeout(Problem):
    status, title, slug = 504, "Gateway timeout", "gateway-timeout"


class NotFoundRoute(Problem):
    status, title, slug = 404, "Not found", "not-found"


async def send_problem(send: Send, problem: Problem, *, path: str, request_id: str, head: bool = False,
                       extra_headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = orjson.dumps(problem.to_body(path))
    headers = [_CT, (b"content-length", str(len(body)).encode()), (b"x-request-id", request_id.encode("latin-1"))]
    for name, value in problem.headers.items():
        headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body, "more_body": False})
