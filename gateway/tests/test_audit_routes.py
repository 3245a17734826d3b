"""The audit search (issue #14): one prefix per service, officers and auditors read, nobody writes; the public
results are anonymous."""

from __future__ import annotations

import pytest
from gateway_helpers import RunningGateway, bearer
from gateway_upstream import Upstream
from test_proxy import headers_of

from cleanprod_gateway.routes import RouteTable
from cleanprod_kit.testing.issuer import TestIssuer


def test_each_service_has_its_audit_prefix_and_the_results_are_public() -> None:
    table = RouteTable()
    for service in ("registry", "applications", "verification"):
        route = table.match(f"/api/v1/audit/{service}/export")
        assert route is not None and route.service == service and not route.public
        assert route.allowed("GET") == {"officer", "auditor"} and route.allowed("POST") == frozenset()
    assert table.match("/api/v1/audit") is None and table.match("/api/v1/audit/other") is None
    results = table.match("/api/v1/public/results")
    assert results is not None and results.service == "verification" and results.anonymous("GET")
    showcase = table.match("/api/v1/public/showcase")
    assert showcase is not None and showcase.service == "applications" and showcase.anonymous("GET")
    assert not showcase.anonymous("POST")
    handbooks = table.match("/api/v1/public/handbooks/x/versions/1")
    assert handbooks is not None and handbooks.service == "applications" and handbooks.anonymous("GET")
    assert table.match("/api/v1/handbooks/x/versions").allowed("POST") == {"officer"}  # type: ignore[union-attr]


@pytest.mark.parametrize(("service", "role"), [("registry", "auditor"), ("applications", "officer")])
async def test_officers_and_auditors_reach_the_service_search(
    gw: RunningGateway,
    issuer: TestIssuer,
    registry_upstream: Upstream,
    applications_upstream: Upstream,
    service: str,
    role: str,
) -> None:
    upstream = registry_upstream if service == "registry" else applications_upstream
    response = await gw.client.get(
        f"/api/v1/audit/{service}", params={"q": "sóc sơn"}, headers=bearer(issuer.token(role))
    )
    assert response.status_code == 200, response.text
    assert upstream.last["path"] == f"/api/v1/audit/{service}"
    assert "authorization" in headers_of(upstream.last)


async def test_other_roles_and_every_write_are_refused_before_the_service(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    before = len(registry_upstream.requests)
    for role in ("enterprise", "reviewer", "verifier"):
        response = await gw.client.get("/api/v1/audit/registry", headers=bearer(issuer.token(role)))
        assert response.status_code == 403, role
    forged = await gw.client.post("/api/v1/audit/registry", json={}, headers=bearer(issuer.token("auditor")))
    assert forged.status_code == 405  # a read-only prefix: no role may write (Allow: GET, HEAD, OPTIONS)
    assert (await gw.client.get("/api/v1/audit/registry")).status_code == 401
    assert len(registry_upstream.requests) == before
