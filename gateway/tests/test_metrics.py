"""The gateway's metrics: served on a port of their own, never on the public one; proxied requests counted per
route prefix and status, refused tokens by reason."""

from __future__ import annotations

from typing import Any

import httpx
from gateway_helpers import bearer, serve_gateway
from prometheus_client.parser import text_string_to_metric_families

from cleanprod_kit.testing.issuer import TestIssuer
from infra.ports import free_port


def parse(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def count(samples: dict[Any, float], route: str, status: int) -> float:
    key = frozenset({"method": "GET", "route": route, "status": str(status)}.items())
    return samples.get(("cleanprod_http_request_duration_seconds_count", key), 0.0)


async def test_metrics_are_on_their_own_port_not_through_the_public_one(make_settings: Any, issuer: TestIssuer) -> None:
    port = free_port()
    async with serve_gateway(make_settings(metrics_port=port)) as running:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as internal:
            before = parse((await internal.get("/metrics")).text)
            public = await running.client.get("/metrics")
            assert public.status_code == 404  # the public port has no such route
            assert public.headers["content-type"] == "application/problem+json"
            assert "cleanprod_http" not in public.text
            officer = bearer(issuer.token("officer"))
            for _ in range(3):
                assert (await running.client.get("/api/v1/sectors", headers=officer)).status_code == 200
            expired = bearer(issuer.token("officer", expires_in=-3600))
            assert (await running.client.get("/api/v1/sectors/x", headers=expired)).status_code == 401
            assert (await running.client.get("/api/v1/sectors")).status_code == 401  # no token
            assert (await running.client.get("/healthz")).status_code == 200
            response = await internal.get("/metrics")
            assert response.status_code == 200
            after = parse(response.text)

    assert count(after, "/api/v1/sectors", 200) - count(before, "/api/v1/sectors", 200) == 3
    assert count(after, "/api/v1/sectors", 401) - count(before, "/api/v1/sectors", 401) == 2
    assert count(after, "/healthz", 200) - count(before, "/healthz", 200) == 1
    assert count(after, "unmatched", 404) - count(before, "unmatched", 404) == 1  # the public GET /metrics
    failures = "cleanprod_token_verification_failures_total"
    for reason in ("expired", "missing"):
        key = (failures, frozenset({"reason": reason}.items()))
        assert after.get(key, 0.0) - before.get(key, 0.0) == 1, reason


async def test_a_taken_metrics_port_does_not_stop_the_gateway(make_settings: Any, issuer: TestIssuer) -> None:
    port = free_port()
    async with serve_gateway(make_settings(metrics_port=port)):
        async with serve_gateway(make_settings(metrics_port=port)) as second:  # same port: logged, still serving
            response = await second.client.get("/api/v1/sectors", headers=bearer(issuer.token("officer")))
            assert response.status_code == 200
