"""Small pieces on their own: settings from the environment, route matching, the token bucket, the access log."""

from __future__ import annotations

import io
import json

import pytest

from cleanprod_gateway.accesslog import AccessLog
from cleanprod_gateway.main import create_app
from cleanprod_gateway.ratelimit import RateLimiter
from cleanprod_gateway.routes import RouteTable, has_dot_segment
from cleanprod_gateway.settings import GatewaySettings


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_REGISTRY_URL", "http://registry:8000/")
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("GATEWAY_RATE_LIMIT_PER_SECOND", "7.5")
    monkeypatch.setenv("GATEWAY_OIDC_ISSUER", "http://127.0.0.1:9/realms/cleanprod")
    settings = GatewaySettings()
    assert settings.upstreams["registry"] == "http://registry:8000"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert settings.rate_limit_per_second == 7.5
    assert settings.jwks_url == "http://127.0.0.1:9/realms/cleanprod/protocol/openid-connect/certs"
    monkeypatch.setenv("GATEWAY_CORS_ORIGINS", '["https://c.example"]')
    assert GatewaySettings().cors_origins == ["https://c.example"]


def test_create_app_factory() -> None:
    app = create_app(GatewaySettings(log_json=False, log_level="WARNING", gc_threshold=0))
    assert callable(app)
    assert app.access_log is None  # the access log is INFO: off at WARNING


def test_route_matching_is_by_whole_segment() -> None:
    table = RouteTable()
    assert table.match("/api/v1/sectors").service == "registry"
    assert table.match("/api/v1/sectors/C23").prefix == "/api/v1/sectors"
    assert table.match("/api/v1/integrations/dossiers/x").service == "applications"
    assert table.match("/api/v1/programme/summary").service == "verification"
    for path in ("/api/v1/sectorsX", "/api/v1", "/api/v2/sectors", "/internal/events", "//api/v1/sectors"):
        assert table.match(path) is None, path
    assert has_dot_segment("/api/v1/a/../b") and has_dot_segment("/api/v1/./b")
    assert not has_dot_segment("/api/v1/integrations/dossiers/000.00.01.H26-261128-0001")


def test_token_bucket() -> None:
    limiter = RateLimiter(rate=2.0, burst=2)
    assert limiter.take("a") == 0 and limiter.take("a") == 0
    assert limiter.take("a") == 1  # empty: one token comes back in 0.5 s -> Retry-After 1
    assert limiter.take("b") == 0
    assert RateLimiter(rate=0, burst=1).take("a") == 0  # disabled


def test_token_bucket_table_stays_bounded() -> None:
    limiter = RateLimiter(rate=1000.0, burst=1, max_clients=100)
    for i in range(1000):
        limiter.take(f"client-{i}")
    assert len(limiter) <= 100


def test_access_log_lines() -> None:
    stream = io.BytesIO()
    log = AccessLog("gateway", stream=stream)
    log.log("GET", "/api/v1/sectors", 200, 1.5, "rid-1", "user-1", "127.0.0.1")
    log.flush()
    entry = json.loads(stream.getvalue().decode().strip())
    assert entry["request_id"] == "rid-1" and entry["status"] == 200 and entry["subject"] == "user-1"
    assert entry["logger"] == "cleanprod.gateway.access" and entry["level"] == "INFO"
