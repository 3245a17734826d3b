"""Headers whose duplicates change meaning (issue 9, fault 2): the pure check, and a real service app (kit
create_service_app on uvicorn + httptools, as devstack runs them) reached over a raw socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from starlette.requests import Request

from cleanprod_kit.app import create_service_app
from cleanprod_kit.auth import CurrentPrincipal, authenticate
from cleanprod_kit.errors import Problem, install_problem_handlers
from cleanprod_kit.headerchecks import header_problem
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.rawhttp import RawResponse, answer_to, assert_duplicate_refused, request_bytes, send_raw
from cleanprod_kit.testing.servers import serving
from infra.ports import free_port

H = list[tuple[bytes, bytes]]


def _h(*pairs: tuple[str, str]) -> H:
    return [(k.encode(), v.encode()) for k, v in pairs]


@pytest.mark.parametrize(
    ("headers", "header", "code"),
    [
        (_h(("authorization", "Bearer a"), ("authorization", "Bearer b")), "Authorization", "duplicate_header"),
        (_h(("authorization", "Bearer a, Bearer b")), "Authorization", "duplicate_header"),
        (_h(("content-length", "2"), ("content-length", "3")), "Content-Length", "duplicate_header"),
        (_h(("content-length", "2"), ("content-length", "2")), "Content-Length", "duplicate_header"),
        (_h(("content-length", "2, 2")), "Content-Length", "duplicate_header"),
        (_h(("content-length", "2"), ("transfer-encoding", "chunked")), "Content-Length", "conflicting_headers"),
        (_h(("host", "a.example"), ("host", "b.example")), "Host", "duplicate_header"),
        (_h(("if-match", '"1"'), ("if-match", '"2"')), "If-Match", "duplicate_header"),
        (_h(("idempotency-key", "k1"), ("idempotency-key", "k2")), "Idempotency-Key", "duplicate_header"),
        (_h(("content-type", "application/json"), ("content-type", "text/plain")), "Content-Type", "duplicate_header"),
    ],
)
def test_header_problem_refuses(headers: H, header: str, code: str) -> None:
    problem = header_problem(headers)
    assert problem is not None
    body = problem.to_body("/x")
    assert (problem.status, body["code"], body["header"]) == (400, code, header)
    assert header in body["detail"]


def test_header_problem_accepts_ordinary_requests() -> None:
    assert header_problem([]) is None
    assert (
        header_problem(
            _h(
                ("host", "h"),
                ("authorization", "Bearer x.y.z"),
                ("content-length", "10"),
                ("content-type", "application/json"),
                ("if-match", '"1", "2"'),
                ("accept", "a/b"),
                ("accept", "c/d"),
                ("x-custom", "1"),
                ("x-custom", "2"),
            )
        )
        is None
    )


# ------------------------------------------------------------------ a real service app over a raw socket


def _service_app(issuer: TestIssuer) -> FastAPI:
    router = APIRouter()

    @router.get("/api/v1/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {"subject": principal.subject, "roles": sorted(principal.roles)}

    @router.post("/api/v1/echo")
    async def echo(request: Request) -> dict[str, Any]:
        return {"size": len(await request.body())}

    @router.get("/api/v1/crash")
    async def crash() -> None:
        raise RuntimeError("a bug in a service (test)")

    # The database is never used by these routes (the engine connects lazily).
    settings = ServiceSettings(**service_settings_for(issuer, service_name="kit-test"))
    return create_service_app(settings, title="kit test", routers=[router])


@pytest.fixture(scope="module")
async def service(issuer: TestIssuer) -> AsyncIterator[int]:
    port = free_port()
    config = uvicorn.Config(
        _service_app(issuer),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        http="httptools",
        loop="none",
        lifespan="on",
    )
    server = uvicorn.Server(config)
    async with serving(server, "service"):
        yield port


def _assert_duplicate(response: RawResponse, header: str, code: str = "duplicate_header") -> None:
    assert assert_duplicate_refused(response, header, code)["status"] == 400


async def test_two_authorization_headers_are_refused_by_the_service(service: int, issuer: TestIssuer) -> None:
    service_token = issuer.token("service", sub="svc")
    enterprise_token = issuer.token("enterprise", sub="ent", tax_code="0100109106")
    one = await answer_to(
        service,
        "GET",
        "/api/v1/whoami",
        [("Host", "svc"), ("Authorization", f"Bearer {service_token}"), ("Connection", "close")],
    )
    assert one.status == 200 and one.json()["subject"] == "svc"
    for first, last in ((service_token, enterprise_token), (enterprise_token, service_token)):
        response = await answer_to(
            service,
            "GET",
            "/api/v1/whoami",
            [("Host", "svc"), ("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {last}")],
        )
        _assert_duplicate(response, "Authorization")
    joined = await answer_to(
        service,
        "GET",
        "/api/v1/whoami",
        [("Host", "svc"), ("Authorization", f"Bearer {service_token}, Bearer {enterprise_token}")],
    )
    _assert_duplicate(joined, "Authorization")


@pytest.mark.parametrize(
    ("headers", "header"),
    [
        ([("Host", "a"), ("Host", "b"), ("Content-Length", "2")], "Host"),
        (
            [
                ("Host", "a"),
                ("Content-Type", "application/json"),
                ("Content-Type", "text/plain"),
                ("Content-Length", "2"),
            ],
            "Content-Type",
        ),
        (
            [("Host", "a"), ("Idempotency-Key", "k1"), ("Idempotency-Key", "k2"), ("Content-Length", "2")],
            "Idempotency-Key",
        ),
        ([("Host", "a"), ("If-Match", '"1"'), ("If-Match", '"2"'), ("Content-Length", "2")], "If-Match"),
    ],
)
async def test_other_duplicates_are_refused_by_the_service(
    service: int, headers: list[tuple[str, str]], header: str
) -> None:
    _assert_duplicate(await answer_to(service, "POST", "/api/v1/echo", headers, b"{}"), header)


async def test_content_length_conflicts_never_reach_the_app(service: int) -> None:
    """httptools (llhttp) refuses these itself with a plain 400 before the app runs; the kit's check is the
    second line (and the first one under a server that lets them through). Either way: 400, connection closed."""
    cases = [
        [("Host", "a"), ("Content-Length", "2"), ("Content-Length", "3")],
        [("Host", "a"), ("Content-Length", "2"), ("Transfer-Encoding", "chunked")],
    ]
    for headers in cases:
        response = await send_raw("127.0.0.1", service, request_bytes("POST", "/api/v1/echo", headers, b"{}"))
        assert response is not None and response.status == 400, response
        assert response.closed
        if response.header("content-type") == "application/problem+json":
            assert response.json()["code"] in ("duplicate_header", "conflicting_headers")


async def test_authenticate_refuses_two_headers_without_the_middleware(issuer: TestIssuer) -> None:
    """The token dependency reads every Authorization value itself (defence in depth)."""
    import httpx

    from cleanprod_kit.auth import JWKSCache, TokenVerifier

    app = FastAPI()
    install_problem_handlers(app)
    app.state.token_verifier = TokenVerifier(
        issuer=issuer.issuer, audience="cleanprod-api", jwks=JWKSCache(issuer.jwks_url)
    )

    @app.get("/who")
    async def who(request: Request) -> dict[str, str]:
        return {"subject": (await authenticate(request)).subject}

    a, b = issuer.token("service", sub="svc"), issuer.token("enterprise", sub="ent")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        ok = await client.get("/who", headers={"Authorization": f"Bearer {b}"})
        assert ok.json() == {"subject": "ent"}
        twice = await client.get("/who", headers=[("Authorization", f"Bearer {a}"), ("Authorization", f"Bearer {b}")])
    assert twice.status_code == 400 and twice.json()["code"] == "duplicate_header", twice.text
    assert issubclass(type(header_problem([(b"authorization", b"x"), (b"authorization", b"y")])), Problem)


async def test_an_unhandled_error_answers_500_and_announces_the_close(service: int) -> None:
    """Issue 9, fault 5: uvicorn closes the connection after an unhandled error; the 500 says `Connection: close`
    so a proxy's pool does not send the next user's request on it."""
    from cleanprod_kit.testing.rawhttp import read_response

    reader, writer = await asyncio.open_connection("127.0.0.1", service)
    try:
        writer.write(request_bytes("GET", "/api/v1/crash", [("Host", "svc")]))
        await writer.drain()
        response = await asyncio.wait_for(read_response(reader), 10)
    finally:
        writer.close()
    assert response is not None and response.status == 500
    assert response.header("content-type") == "application/problem+json"
    assert response.header("connection") == "close" and response.closed
