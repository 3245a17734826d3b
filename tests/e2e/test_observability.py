"""Metrics on the real stack (real Keycloak tokens, every process started by the devstack): each process serves
/metrics — the services on their own port, the gateway and the portal on a metrics port of their own — and none
of it is reachable through the public gateway or portal ports. A known workload through the gateway shows up in
the gateway's counts (by route prefix) and the registry's (by route template)."""

from __future__ import annotations

from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from infra.devstack import Stack


def scrape(urls: list[str]) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """The samples of every replica of a part, summed (with replicas, the workload is spread over them)."""
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for url in urls:
        response = httpx.get(url, timeout=10)
        assert response.status_code == 200, (url, response.status_code)
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                key = (s.name, frozenset(s.labels.items()))
                samples[key] = samples.get(key, 0.0) + s.value
    return samples


def count(samples: dict[Any, float], route: str, status: str, method: str = "GET") -> float:
    key = frozenset({"method": method, "route": route, "status": status}.items())
    return samples.get(("cleanprod_http_request_duration_seconds_count", key), 0.0)


def test_every_process_has_metrics_none_through_the_public_ports(
    stack: Stack, gateway: httpx.Client, tokens: Any
) -> None:
    for public in (stack.url("gateway"), stack.url("portal")):
        response = httpx.get(f"{public}/metrics", timeout=10)
        assert response.status_code == 404 and "cleanprod_http" not in response.text, public
    gateway_metrics, registry_metrics = stack.metrics_urls("gateway"), stack.metrics_urls("registry")
    for name in ("gateway", "portal", "registry", "applications", "verification"):
        for url in stack.metrics_urls(name):
            assert scrape([url]), url

    before_gateway, before_registry = scrape(gateway_metrics), scrape(registry_metrics)
    officer = tokens.headers("officer1")
    for _ in range(3):
        assert gateway.get("/api/v1/sectors/steel", headers=officer).status_code == 200
    expired = {"Authorization": "Bearer not.a.token"}
    assert gateway.get("/api/v1/sectors/steel", headers=expired).status_code == 401
    after_gateway, after_registry = scrape(gateway_metrics), scrape(registry_metrics)

    assert count(after_gateway, "/api/v1/sectors", "200") - count(before_gateway, "/api/v1/sectors", "200") == 3
    template = "/api/v1/sectors/{code}"
    assert count(after_registry, template, "200") - count(before_registry, template, "200") == 3
    refused = ("cleanprod_token_verification_failures_total", frozenset({("reason", "malformed")}))
    assert after_gateway.get(refused, 0) - before_gateway.get(refused, 0) == 1
    pool = ("cleanprod_db_pool_connections_max", frozenset({("pool", "registry")}))
    assert after_registry[pool] > 0
