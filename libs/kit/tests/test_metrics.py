"""/metrics of a service built by the kit's app factory, after a known workload: requests by route template and
status, refused tokens by reason, the database pool, the outbox backlog and lag, and the middleware's bounded
label values. Values are compared as differences (one registry per process, shared by every test)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from cleanprod_kit.app import create_service_app
from cleanprod_kit.auth import CurrentPrincipal
from cleanprod_kit.db import Database
from cleanprod_kit.errors import NotFound
from cleanprod_kit.metrics import MetricsMiddleware
from cleanprod_kit.outbox import emit
from cleanprod_kit.settings import ServiceSettings
from cleanprod_kit.testing.fixtures import running, service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from infra.ports import free_port

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ROUTE = "/things/{thing_id}"
POOL = f"things-{uuid.uuid4().hex[:6]}"  # this module's pool alone under its name


def parse(body: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests(samples: Samples, route: str, status: int, method: str = "GET") -> float:
    return value(
        samples, "cleanprod_http_request_duration_seconds_count", method=method, route=route, status=str(status)
    )


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def things_router() -> APIRouter:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        if thing_id == "missing":
            raise NotFound(code="not_found")
        return {"id": thing_id, "by": principal.subject}

    return router


@pytest.fixture
async def service(kit_db_url: str, issuer: TestIssuer) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with Database(kit_db_url).session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        await session.commit()
    settings = ServiceSettings(
        **service_settings_for(
            issuer,
            service_name=POOL,
            database_url=kit_db_url,
            db_pool_size=3,
            db_max_overflow=2,
            # A dispatcher runs (so the outbox is watched), its subscriber never answers: events stay pending.
            outbox_enabled=True,
            event_subscribers=f"http://127.0.0.1:{free_port()}/internal/events",
            outbox_poll_seconds=30,
        )
    )

    async def token() -> str:
        return issuer.client_token("svc-things", "service")

    app = create_service_app(settings, title="things", routers=[things_router()], token_source=token)
    async with running(app) as client:
        yield app, client
    async with Database(kit_db_url).session() as session:
        await session.exec(text("DELETE FROM outbox_events"))  # type: ignore[call-overload]
        await session.commit()


async def test_metrics_count_a_known_workload(service: tuple[FastAPI, httpx.AsyncClient], issuer: TestIssuer) -> None:
    app, client = service
    officer = {"Authorization": f"Bearer {issuer.token('officer')}"}
    before = await scrape(client)

    for n in range(3):
        assert (await client.get(f"/things/t-{n}", headers=officer)).status_code == 200
    for _ in range(2):
        assert (await client.get("/things/missing", headers=officer)).status_code == 404
    assert (await client.get("/nowhere/at/all/42")).status_code == 404
    assert (await client.post("/things/t-1", headers=officer)).status_code == 405

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    refused = {
        "missing": {},
        "scheme": {"Authorization": "Basic b2ZmaWNlcjpzZWNyZXQ="},
        "malformed": {"Authorization": "Bearer not-a-jwt"},
        "expired": {"Authorization": f"Bearer {issuer.token('officer', expires_in=-3600)}"},
        "audience": {"Authorization": f"Bearer {issuer.token('officer', audience='another-api')}"},
        "issuer": {"Authorization": f"Bearer {issuer.token('officer', issuer='https://elsewhere/realms/x')}"},
        "unknown_key": {"Authorization": f"Bearer {issuer.token('officer', key=other_key, kid='other')}"},
    }
    for headers in refused.values():
        response = await client.get("/things/t-9", headers=headers)
        assert response.status_code == 401
        assert "reason" not in response.json()  # the label stays out of the answer

    async with app.state.db.session() as session:
        for n in range(4):
            emit(session, "thing.happened", aggregate_type="thing", aggregate_id="a-1", payload={"n": n})
        await session.commit()
    await asyncio.sleep(0.05)

    after = await scrape(client)
    assert requests(after, ROUTE, 200) - requests(before, ROUTE, 200) == 3
    assert requests(after, ROUTE, 404) - requests(before, ROUTE, 404) == 2
    assert requests(after, ROUTE, 401) - requests(before, ROUTE, 401) == len(refused)
    assert requests(after, ROUTE, 405, "POST") - requests(before, ROUTE, 405, "POST") == 1
    assert requests(after, "unmatched", 404) - requests(before, "unmatched", 404) == 1
    assert requests(after, "/metrics", 200) - requests(before, "/metrics", 200) == 1  # the first scrape
    assert not any("t-1" in dict(labels).get("route", "") for _, labels in after)  # templates, never raw paths
    for reason in refused:
        name = "cleanprod_token_verification_failures_total"
        assert value(after, name, reason=reason) - value(before, name, reason=reason) == 1, reason

    assert value(after, "cleanprod_http_requests_in_progress") == 1  # the scrape itself
    assert value(after, "cleanprod_db_pool_connections_max", pool=POOL) == 5
    assert ("cleanprod_db_pool_connections_in_use", frozenset({"pool": POOL}.items())) in after
    assert value(after, "cleanprod_outbox_backlog_events") == 4
    assert 0 <= value(after, "cleanprod_outbox_lag_seconds") < 60


async def test_the_slow_part_of_the_histogram_gets_the_slow_requests() -> None:
    """Buckets are cumulative: a request of 0.3 s falls in le=0.5 and above, not in le=0.25."""

    async def slow(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        await asyncio.sleep(0.3)
        await send({"type": "http.response.start", "status": 204, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    route = f"/slow-{uuid.uuid4().hex[:6]}"
    app = MetricsMiddleware(slow, route_of=lambda scope: route)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/x")).status_code == 204
    from prometheus_client import REGISTRY, generate_latest

    samples = parse(generate_latest(REGISTRY).decode())
    bucket = "cleanprod_http_request_duration_seconds_bucket"
    labels = {"method": "GET", "route": route, "status": "204"}
    assert value(samples, bucket, le="0.25", **labels) == 0
    assert value(samples, bucket, le="0.5", **labels) == 1
    assert value(samples, bucket, le="+Inf", **labels) == 1
    assert value(samples, "cleanprod_http_request_duration_seconds_sum", **labels) >= 0.3


async def test_unknown_methods_share_one_label_value() -> None:
    async def answer(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        await send({"type": "http.response.start", "status": 405, "headers": []})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b""})  # type: ignore[operator]

    route = f"/odd-{uuid.uuid4().hex[:6]}"
    middleware = MetricsMiddleware(answer, route_of=lambda scope: route)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=middleware), base_url="http://t") as client:
        for method in ("BREW", "WHEN", "PROPFIND"):
            await client.request(method, "/x")
    from prometheus_client import REGISTRY, generate_latest

    samples = parse(generate_latest(REGISTRY).decode())
    assert requests(samples, route, 405, "other") == 3
    assert requests(samples, route, 405, "BREW") == 0


async def test_an_app_that_raises_counts_500_and_one_that_never_answers_499() -> None:
    async def broken(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        raise RuntimeError("boom")

    async def abandoned(scope: dict, receive: object, send: object) -> None:  # type: ignore[type-arg]
        return None  # e.g. the gateway when the client hung up before the upstream answered

    route = f"/faulty-{uuid.uuid4().hex[:6]}"
    for app in (broken, abandoned):
        middleware = MetricsMiddleware(app, route_of=lambda scope: route)  # type: ignore[arg-type]
        scope = {"type": "http", "method": "GET", "path": "/x", "headers": []}
        try:
            await middleware(scope, None, None)  # type: ignore[arg-type]
        except RuntimeError:
            pass
    from prometheus_client import REGISTRY, generate_latest

    samples = parse(generate_latest(REGISTRY).decode())
    assert requests(samples, route, 500) == 1
    assert requests(samples, route, 499) == 1
