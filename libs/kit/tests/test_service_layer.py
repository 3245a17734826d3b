"""The kit service's one ASGI layer (service_layer.py) does what the four middlewares it replaced did: metrics of
every answer (the guards' 400/413, 500 for an app that raised, 499 for one that never answered), the request id on
every answer and in the access log, duplicate headers refused, the body limit with its exempt suffixes — and
tracing still puts the request id on the server span, the guards' answers included."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry.trace import SpanKind
from prometheus_client import REGISTRY

from cleanprod_kit import guard_codes
from cleanprod_kit.app import create_service_app
from cleanprod_kit.requestid import current_request_id
from cleanprod_kit.service_layer import ServiceLayer
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.tracing import REQUEST_ID_ATTRIBUTE, memory_exporter

PROBLEM = "application/problem+json"


def requests(route: str, status: int, method: str = "GET") -> float:
    """How many requests the process's histogram counted for these labels so far."""
    labels = {"method": method, "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("cleanprod_http_request_duration_seconds_count", labels) or 0.0


def echo_router() -> APIRouter:
    router = APIRouter()

    @router.post("/echo")
    async def echo(body: dict) -> dict[str, Any]:
        return {"keys": len(body), "request_id": current_request_id()}

    @router.post("/files/{name}/content")
    async def upload(body: dict) -> dict[str, int]:
        return {"keys": len(body)}

    return router


class AccessLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
async def service(kit_db_url: str, issuer: TestIssuer) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = ServiceSettings(
        **service_settings_for(
            issuer, service_name="layered", database_url=kit_db_url, max_json_body_bytes=1000, log_requests=True
        )
    )
    app = create_service_app(
        settings, title="layered", routers=[echo_router()], body_limit_exempt_suffixes=("/content",)
    )
    async with running(app) as client:
        yield app, client


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"a": "'
    for _ in range(total // 100):
        yield b"x" * 100
    yield b'"}'


def test_a_service_has_one_layer_of_its_own() -> None:
    app = create_service_app(ServiceSettings(log_json=False), title="t", routers=[])
    assert [m.cls for m in app.user_middleware] == [ServiceLayer]


COUNTED = (("unmatched", 400, "POST"), ("unmatched", 413, "POST"), ("/echo", 413, "POST"), ("/echo", 200, "POST"))


async def test_the_guards_answers_are_counted_logged_and_carry_the_request_id(
    service: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, client = service
    before = {key: requests(*key) for key in COUNTED}
    lines = AccessLines()
    access = logging.getLogger("cleanprod.access")
    access.addHandler(lines)
    previous = access.level
    access.setLevel(logging.INFO)
    try:
        duplicate = await client.post(
            "/echo", content=b"{}", headers=[("Authorization", "Bearer a"), ("Authorization", "Bearer b")]
        )
        declared = await client.post("/echo", content=b"{" + b" " * 5000 + b"}", headers={"X-Request-ID": "big-1"})
        chunked = await client.post("/echo", content=_chunks(5000), headers={"Content-Type": "application/json"})
        small = await client.post("/echo", json={"a": 1, "b": 2}, headers={"X-Request-ID": "small-1"})
        exempt = await client.post(
            "/files/f/content", content=_chunks(5000), headers={"Content-Type": "application/json"}
        )
        replaced = await client.post("/echo", json={}, headers={"X-Request-ID": "bad id with spaces"})
    finally:
        access.removeHandler(lines)
        access.setLevel(previous)

    assert duplicate.status_code == 400 and duplicate.headers["content-type"] == PROBLEM
    assert duplicate.json()["code"] == "duplicate_header" and duplicate.headers["connection"] == "close"
    assert declared.status_code == 413 and declared.json()["code"] == guard_codes.PAYLOAD_TOO_LARGE
    assert declared.headers["x-request-id"] == "big-1"
    assert "content-length" not in chunked.request.headers
    assert chunked.status_code == 413 and chunked.headers["content-type"] == PROBLEM  # not the framework's 400
    assert small.status_code == 200 and small.json() == {"keys": 2, "request_id": "small-1"}
    assert small.headers.get_list("x-request-id") == ["small-1"]
    assert exempt.status_code == 200, exempt.text  # an exempt suffix is not limited
    assert replaced.headers["x-request-id"] != "bad id with spaces" and len(replaced.headers["x-request-id"]) == 32
    for response in (duplicate, chunked):
        assert len(response.headers["x-request-id"]) == 32  # one of ours

    # The duplicate and the declared-too-large answers come before routing: no route template to name.
    assert {key: requests(*key) - before[key] for key in COUNTED} == dict(zip(COUNTED, (1, 1, 1, 2), strict=True))
    logged = [(r.__dict__["path"], r.__dict__["status"], r.__dict__["method"]) for r in lines.records]
    assert logged == [
        ("/echo", 400, "POST"),
        ("/echo", 413, "POST"),
        ("/echo", 413, "POST"),
        ("/echo", 200, "POST"),
        ("/files/f/content", 200, "POST"),
        ("/echo", 200, "POST"),
    ]


async def test_raised_and_abandoned_requests_count_500_and_499_and_bodiless_ones_are_not_wrapped() -> None:
    seen: list[tuple[str, object]] = []

    async def broken(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        raise RuntimeError("boom")

    async def abandoned(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        seen.append((scope["type"], receive))

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    route = f"/faulty-{uuid.uuid4().hex[:6]}"
    get = {"type": "http", "http_version": "1.1", "method": "GET", "path": "/x", "headers": [(b"host", b"t")]}
    with pytest.raises(RuntimeError):
        await ServiceLayer(broken, max_body_bytes=10, route_of=lambda scope: route)(dict(get), receive, None)  # type: ignore[arg-type]
    layer = ServiceLayer(abandoned, max_body_bytes=10, route_of=lambda scope: route)  # type: ignore[arg-type]
    await layer({"type": "lifespan"}, receive, None)  # type: ignore[arg-type]
    await layer(dict(get), receive, None)  # type: ignore[arg-type]
    await layer({**get, "method": "POST", "headers": [(b"content-length", b"5")]}, receive, None)  # type: ignore[arg-type]
    assert seen[0] == ("lifespan", receive) and seen[1] == ("http", receive)  # nothing to limit: not wrapped
    assert seen[2][1] is not receive  # a body: read through the limit
    assert (requests(route, 500), requests(route, 499), requests(route, 499, "POST")) == (1, 1, 1)


async def test_tracing_puts_the_request_id_on_every_server_span(kit_db_url: str, issuer: TestIssuer) -> None:
    settings = ServiceSettings(
        **service_settings_for(issuer, service_name="layer-traced", database_url=kit_db_url, tracing_exporter="memory")
    )
    app = create_service_app(settings, title="layer-traced", routers=[echo_router()])
    exporter = memory_exporter()
    async with running(app) as client:
        exporter.clear()
        ok = await client.post("/echo", json={"a": 1}, headers={"X-Request-ID": "span-ok"})
        refused = await client.post(
            "/echo", json={}, headers=[("X-Request-ID", "span-400"), ("Host", "a"), ("Host", "b")]
        )
    assert (ok.status_code, refused.status_code) == (200, 400)
    spans = [s for s in exporter.get_finished_spans() if s.resource.attributes["service.name"] == "layer-traced"]
    server = {s.attributes[REQUEST_ID_ATTRIBUTE]: s for s in spans if s.kind is SpanKind.SERVER}
    assert set(server) == {"span-ok", "span-400"}
    assert server["span-ok"].name == "POST /echo"
