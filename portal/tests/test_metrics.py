"""The portal's metrics: on a port of their own (the portal's own port is public), pages counted by route template
and status, the session database pool watched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from infra.ports import free_port


def parse(body: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def pages(samples: dict[Any, float], route: str, status: int) -> float:
    key = frozenset({"method": "GET", "route": route, "status": str(status)}.items())
    return samples.get(("cleanprod_http_request_duration_seconds_count", key), 0.0)


async def test_metrics_on_their_own_port_and_pages_by_template(make_client: Callable[..., Any]) -> None:
    port = free_port()
    async with (
        make_client(metrics_port=port) as portal,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as internal,
    ):
        before = parse((await internal.get("/metrics")).text)
        public = await portal.get("/metrics")
        assert public.status_code == 404 and "cleanprod_http" not in public.text  # the portal's page, not metrics
        assert (await portal.get("/healthz")).status_code == 200
        assert (await portal.get("/static/does-not-exist.css")).status_code == 404
        response = await internal.get("/metrics")
        assert response.status_code == 200
        after = parse(response.text)
    assert pages(after, "/healthz", 200) - pages(before, "/healthz", 200) == 1
    assert pages(after, "unmatched", 404) - pages(before, "unmatched", 404) == 1
    assert pages(after, "/static", 404) - pages(before, "/static", 404) == 1  # the mount's template, not the file
    pool = ("cleanprod_db_pool_connections_max", frozenset({"pool": "portal"}.items()))
    assert after[pool] > 0
