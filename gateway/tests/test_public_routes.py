"""The portal's public routes (/api/v1/public/...): reads pass without a token, a token sent along is neither
verified nor forwarded, identity headers are still stripped, writes still need a token and no role may write."""

from __future__ import annotations

import pytest
from gateway_helpers import RunningGateway, bearer
from gateway_upstream import Upstream
from test_proxy import SPOOFED, headers_of

from cleanprod_gateway.routes import RouteTable
from cleanprod_kit.testing.issuer import TestIssuer

PROBLEM = "application/problem+json"


def test_public_prefixes_are_routed_to_their_services() -> None:
    table = RouteTable()
    for path, service in (("/api/v1/public/calls", "applications"), ("/api/v1/public/calls/x", "applications"),
                          ("/api/v1/public/dossiers/000.00.01.H26-261201-0001", "applications"),
                          ("/api/v1/public/sectors", "registry")):
        route = table.match(path)
        assert route is not None and route.service == service and route.public, path
        assert route.anonymous("GET") and route.anonymous("HEAD") and not route.anonymous("POST")
    assert table.match("/api/v1/public") is None and table.match("/api/v1/public/other") is None
    assert not table.match("/api/v1/calls").public  # type: ignore[union-attr]


@pytest.mark.parametrize(("path", "upstream_name"), [("/api/v1/public/calls", "applications"),
                                                     ("/api/v1/public/sectors", "registry")])
async def test_anonymous_read_reaches_the_service_without_identity(
        gw: RunningGateway, registry_upstream: Upstream, applications_upstream: Upstream, path: str,
        upstream_name: str) -> None:
    upstream = registry_upstream if upstream_name == "registry" else applications_upstream
    response = await gw.client.get(path, params={"limit": 5}, headers={"Accept-Language": "vi"})
    assert response.status_code == 200, response.text
    record = upstream.last
    assert record["path"] == path and record["query"] == "limit=5"
    seen = headers_of(record)
    assert "authorization" not in seen
    assert not any(name.startswith("x-gateway-") for name in seen)
    assert seen["accept-language"] == ["vi"]


async def test_a_token_sent_to_a_public_route_is_ignored_not_verified_nor_forwarded(
        gw: RunningGateway, issuer: TestIssuer, applications_upstream: Upstream) -> None:
    misses = gw.gateway.tokens.misses
    for token in ("not-a-jwt", "eyJhbGciOiJub25lIn0.e30.", issuer.token("officer", sub="officer-public")):
        response = await gw.client.get("/api/v1/public/calls/123", headers={**bearer(token), **SPOOFED})
        assert response.status_code == 200, response.text
        seen = headers_of(applications_upstream.last)
        assert "authorization" not in seen
        for name in SPOOFED:
            assert name.lower() not in seen, name
    assert gw.gateway.tokens.misses == misses  # no token was even looked at


async def test_writes_on_public_routes_still_need_a_token_and_no_role_may_write(
        gw: RunningGateway, issuer: TestIssuer, applications_upstream: Upstream) -> None:
    before = len(applications_upstream.requests)
    anonymous = await gw.client.post("/api/v1/public/calls", json={})
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == PROBLEM
    officer = await gw.client.post("/api/v1/public/calls", json={}, headers=bearer(issuer.token("officer")))
    assert officer.status_code == 403
    assert len(applications_upstream.requests) == before
