"""The gateway's own endpoints: merged OpenAPI, Swagger UI, /api/v1/me, /healthz, /readyz."""

from __future__ import annotations

from gateway_helpers import RunningGateway, bearer, serve_gateway
from gateway_upstream import Upstream

from cleanprod_gateway.openapi import merge_documents
from cleanprod_kit.testing.issuer import TestIssuer


async def test_merged_openapi_has_paths_from_each_reachable_upstream(gw: RunningGateway) -> None:
    response = await gw.client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    paths = doc["paths"]
    assert "/api/v1/sectors" in paths  # registry
    assert "/api/v1/calls" in paths  # applications
    assert "/api/v1/me" in paths  # the gateway's own
    assert "/internal/events" not in paths  # not routed, so not advertised
    schemas = doc["components"]["schemas"]
    # Both upstreams define a different "Page": the second is renamed and its references follow.
    assert "Page" in schemas and "Applications_Page" in schemas
    calls_ref = paths["/api/v1/calls"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert calls_ref == "#/components/schemas/Applications_Page"
    sectors_ref = paths["/api/v1/sectors"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert sectors_ref["$ref"] == "#/components/schemas/Page"
    # Identical definitions are shared, not duplicated.
    assert "Problem" in schemas and "Applications_Problem" not in schemas
    # The verification service is down in these tests: left out, and the document says so.
    assert "verification" in doc["info"]["description"]
    assert "Not included" in doc["info"]["description"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert {t["name"] for t in doc["tags"]} >= {"registry", "applications"}


async def test_merged_openapi_is_cached(gw: RunningGateway, registry_upstream: Upstream) -> None:
    await gw.client.get("/api/openapi.json")
    before = sum(1 for r in registry_upstream.requests if r["path"] == "/openapi.json")
    await gw.client.get("/api/openapi.json")
    await gw.client.get("/api/openapi.json")
    after = sum(1 for r in registry_upstream.requests if r["path"] == "/openapi.json")
    # Cached for openapi_cache_seconds while all services answer; while one is down it is retried after
    # openapi_retry_seconds (5 s) — still not on every request.
    assert after - before <= 1


def test_merge_without_clash_keeps_names() -> None:
    a = {"paths": {"/api/v1/x": {}}, "components": {"schemas": {"A": {"type": "string"}}}}
    b = {
        "paths": {"/api/v1/y": {}, "/api/v1/x": {"get": {}}},
        "components": {"schemas": {"B": {"$ref": "#/components/schemas/A"}, "A": {"type": "integer"}}},
    }
    doc = merge_documents([("one", a), ("two", b)], missing=["three"])
    assert set(doc["components"]["schemas"]) == {"A", "B", "Two_A"}
    assert doc["components"]["schemas"]["B"] == {"$ref": "#/components/schemas/Two_A"}
    assert doc["paths"]["/api/v1/x"] == {}  # first definition kept
    assert "three" in doc["info"]["description"]


async def test_swagger_ui(gw: RunningGateway) -> None:
    response = await gw.client.get("/api/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "/api/openapi.json" in response.text


async def test_me(gw: RunningGateway, issuer: TestIssuer) -> None:
    token = issuer.token("enterprise", sub="user-42", username="dn.an", tax_code="0100109106")
    response = await gw.client.get("/api/v1/me", headers={**bearer(token), "X-Request-ID": "me-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "me-1"
    body = response.json()
    assert body["subject"] == "user-42"
    assert body["username"] == "dn.an"
    assert body["roles"] == ["enterprise"]
    assert body["tax_code"] == "0100109106"
    assert body["client_id"] == "cleanprod-test"
    assert isinstance(body["expires_at"], int)


async def test_me_needs_a_valid_token(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    response = await gw.client.get("/api/v1/me", headers=bearer(issuer.token("officer", audience="other")))
    assert response.status_code == 401


async def test_healthz(gw: RunningGateway) -> None:
    response = await gw.client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "ok"


async def test_readyz_reports_each_upstream_and_jwks(gw: RunningGateway) -> None:
    response = await gw.client.get("/readyz")
    assert response.status_code == 503  # the verification upstream is down in these tests
    checks = response.json()["checks"]
    assert checks["registry"]["status"] == "ok"
    assert checks["applications"]["status"] == "ok"
    assert checks["verification"]["status"] == "unreachable"
    assert checks["jwks"]["status"] == "ok"


async def test_readyz_ready_when_everything_answers(make_settings, applications_upstream: Upstream) -> None:  # noqa: ANN001
    async with serve_gateway(make_settings(verification_url=applications_upstream.url)) as running:
        response = await running.client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"
