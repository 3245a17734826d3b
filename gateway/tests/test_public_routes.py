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
    for path, service in (
        ("/api/v1/public/calls", "applications"),
        ("/api/v1/public/calls/x", "applications"),
        ("/api/v1/public/dossiers/000.00.01.H26-261201-0001", "applications"),
        ("/api/v1/public/sectors", "registry"),
    ):
        route = table.match(path)
        assert route is not None and route.service == service and route.public, path
        assert route.anonymous("GET") and route.anonymous("HEAD") and not route.anonymous("POST")
    assert table.match("/api/v1/public") is None and table.match("/api/v1/public/other") is None
    assert not table.match("/api/v1/calls").public  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "upstream_name"), [("/api/v1/public/calls", "applications"), ("/api/v1/public/sectors", "registry")]
)
async def test_anonymous_read_reaches_the_service_without_identity(
    gw: RunningGateway, registry_upstream: Upstream, applications_upstream: Upstream, path: str, upstream_name: str
) -> None:
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
    gw: RunningGateway, issuer: TestIssuer, applications_upstream: Upstream
) -> None:
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
    gw: RunningGateway, issuer: TestIssuer, applications_upstream: Upstream
) -> None:
    # No role may write there, so no such method exists on these paths: 405 with the reads in Allow, for anyone
    # (was 401 anonymous / 403 with a token naming an empty role list; Schemathesis' unsupported_method check).
    before = len(applications_upstream.requests)
    for method in ("POST", "PUT", "PATCH", "DELETE", "TRACE"):
        anonymous = await gw.client.request(method, "/api/v1/public/calls", json={})
        assert anonymous.status_code == 405 and anonymous.headers["content-type"] == PROBLEM
        assert anonymous.headers["allow"] == "GET, HEAD, OPTIONS"
        officer = await gw.client.request(
            method, "/api/v1/public/calls", json={}, headers=bearer(issuer.token("officer"))
        )
        assert officer.status_code == 405 and officer.json()["code"] == "method_not_allowed"
    assert len(applications_upstream.requests) == before


# ---- the gateway's own problems: codes and the request's language ------------------------------------------------


async def test_gateway_problems_carry_codes_and_follow_accept_language(gw: RunningGateway, issuer: TestIssuer) -> None:
    vi = {"Accept-Language": "vi-VN,vi;q=0.9"}
    missing = await gw.client.get("/api/v1/sectors", headers=vi)
    assert missing.status_code == 401 and missing.json()["code"] == "unauthorized"
    assert missing.json()["title"] == "Chưa xác thực" and missing.json()["detail"].startswith("Cần xác thực")
    english = (await gw.client.get("/api/v1/sectors")).json()
    assert english["code"] == "unauthorized" and english["title"] == "Unauthorized"
    nowhere = await gw.client.get("/api/v2/nothing", headers=vi)
    assert nowhere.status_code == 404 and nowhere.json()["code"] == "no_route"
    assert nowhere.json()["detail"] == "Không có địa chỉ API /api/v2/nothing."
    role = await gw.client.post("/api/v1/sectors", json={}, headers={**bearer(issuer.token("auditor")), **vi})
    assert role.status_code == 403 and role.json()["code"] == "role_not_allowed"
    assert "officer" in role.json()["detail"] and role.json()["detail"].startswith("Vai trò của bạn (auditor)")
    dots = await gw.client.get("/api/v1/calls/%2e%2e/applications", headers=vi)
    assert dots.status_code in (400, 404) and dots.json()["code"] in ("dot_segment_path", "no_route")
    down = await gw.client.get("/api/v1/verifications", headers={**bearer(issuer.token("officer")), **vi})
    assert down.status_code == 502 and down.json()["code"] == "upstream_unreachable"
    assert down.json()["detail"] == "Không kết nối được tới dịch vụ verification."


def test_merged_openapi_marks_public_operations_as_needing_no_token() -> None:
    from cleanprod_gateway.openapi import merge_documents

    doc = {
        "openapi": "3.1.0",
        "info": {"title": "applications", "version": "1"},
        "paths": {
            "/api/v1/public/calls": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/api/v1/public/calls/{call_id}": {"get": {"responses": {}}, "parameters": []},
            "/api/v1/calls": {"get": {"responses": {}}},
        },
    }
    table = RouteTable()
    merged = merge_documents(
        [("applications", doc)],
        allowed_prefixes={"applications": table.prefixes_for("applications")},
        public_prefixes=table.public_prefixes(),
    )
    assert merged["security"] == [{"bearer": []}]
    assert merged["paths"]["/api/v1/public/calls"]["get"]["security"] == []
    assert merged["paths"]["/api/v1/public/calls/{call_id}"]["get"]["security"] == []
    assert merged["paths"]["/api/v1/public/calls/{call_id}"]["parameters"] == []
    assert "security" not in merged["paths"]["/api/v1/calls"]["get"]
