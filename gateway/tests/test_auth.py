"""Token validation at the gateway (401) and coarse role rules (403): nothing invalid reaches an upstream."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_helpers import RunningGateway, bearer
from gateway_upstream import Upstream

from cleanprod_kit.testing.issuer import TestIssuer

PROBLEM = "application/problem+json"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(issuer: TestIssuer, **extra: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": issuer.issuer,
        "aud": "cleanprod-api",
        "sub": "attacker",
        "iat": now,
        "exp": now + 300,
        "azp": "cleanprod-test",
        "realm_access": {"roles": ["officer"]},
    }
    claims.update(extra)
    return claims


def alg_none_token(issuer: TestIssuer) -> str:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": issuer.kid}).encode())
    return f"{header}.{_b64(json.dumps(_claims(issuer)).encode())}."


def hs256_with_public_key(issuer: TestIssuer) -> str:
    """The classic key-confusion attack: HMAC-sign with the (public) RSA key as the shared secret."""
    pem = issuer.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": issuer.kid}).encode())
    payload = _b64(json.dumps(_claims(issuer)).encode())
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def bad_tokens(issuer: TestIssuer) -> dict[str, str]:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return {
        "expired": issuer.token("officer", expires_in=-120),  # past the 30 s skew
        "another key, same kid": issuer.token("officer", key=other_key),
        "unknown kid": issuer.token("officer", key=other_key, kid="not-a-known-kid"),
        "alg none": alg_none_token(issuer),
        "HS256 with the public key": hs256_with_public_key(issuer),
        "wrong issuer": issuer.token("officer", issuer="http://127.0.0.1:1/realms/evil"),
        "wrong audience": issuer.token("officer", audience="some-other-api"),
        "garbage": "not.a.token",
        "garbage base64": "eyJhbGciOiJSUzI1NiJ9.@@@.###",
        "tampered payload": _tamper(issuer.token("auditor")),
    }


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["realm_access"] = {"roles": ["officer"]}
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


async def test_no_token_is_401_with_www_authenticate(gw: RunningGateway, registry_upstream: Upstream) -> None:
    before = len(registry_upstream.requests)
    response = await gw.client.get("/api/v1/sectors")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    assert len(registry_upstream.requests) == before


async def test_wrong_scheme_is_401(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get("/api/v1/sectors", headers={"Authorization": "Basic b2ZmaWNlcjE6eA=="})
    assert response.status_code == 401
    assert "invalid_request" in response.headers["www-authenticate"]


async def test_every_bad_token_is_401_and_never_reaches_upstream(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    before = len(registry_upstream.requests)
    for case, token in bad_tokens(issuer).items():
        response = await gw.client.get("/api/v1/sectors", headers=bearer(token))
        assert response.status_code == 401, case
        assert response.headers["content-type"] == PROBLEM, case
        assert response.headers["www-authenticate"].startswith("Bearer"), case
        assert response.json()["status"] == 401, case
    assert len(registry_upstream.requests) == before


async def test_valid_token_passes_and_is_verified_once(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    token = issuer.token("officer", sub="officer-cache")
    misses = gw.gateway.tokens.misses
    for _ in range(5):
        response = await gw.client.get("/api/v1/sectors", headers=bearer(token))
        assert response.status_code == 200
    assert gw.gateway.tokens.misses == misses + 1  # RS256 checked once, then served from the LRU
    assert registry_upstream.last["path"] == "/api/v1/sectors"


async def test_token_inside_skew_is_accepted(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get("/api/v1/sectors", headers=bearer(issuer.token("officer", expires_in=-5)))
    assert response.status_code == 200


async def test_cached_token_expires_with_its_exp(make_settings, issuer: TestIssuer) -> None:  # noqa: ANN001
    from gateway_helpers import serve_gateway

    async with serve_gateway(make_settings(clock_skew_seconds=0)) as running:
        token = issuer.token("officer", expires_in=2)
        assert (await running.client.get("/api/v1/sectors", headers=bearer(token))).status_code == 200
        import asyncio

        await asyncio.sleep(3.1)
        response = await running.client.get("/api/v1/sectors", headers=bearer(token))
        assert response.status_code == 401
        assert "expired" in response.json()["detail"]


@pytest.mark.parametrize(
    ("roles", "method", "path", "status"),
    [
        (("auditor",), "GET", "/api/v1/sectors", 200),
        (("auditor",), "POST", "/api/v1/sectors", 403),  # auditors never write
        (("auditor",), "DELETE", "/api/v1/applications/1", 403),
        (("egov",), "GET", "/api/v1/integrations/dossiers/000.00.01.H26-261128-0001", 200),
        (("egov",), "POST", "/api/v1/integrations/webhooks", 200),
        (("egov",), "GET", "/api/v1/enterprises", 403),  # e-gov systems reach only /integrations
        (("egov",), "GET", "/api/v1/applications", 403),
        (("service",), "GET", "/api/v1/sectors", 403),  # service accounts do not come through the public gateway
        (("enterprise",), "POST", "/api/v1/enterprises", 200),
        (("enterprise",), "POST", "/api/v1/calls", 403),
        (("enterprise",), "GET", "/api/v1/integrations/events", 403),
        (("reviewer",), "POST", "/api/v1/applications/7/reviews", 200),
        (("officer",), "PATCH", "/api/v1/sectors/C23", 200),
        ((), "GET", "/api/v1/sectors", 403),  # a valid token without any realm role
    ],
)
async def test_coarse_role_rules(
    gw: RunningGateway, issuer: TestIssuer, roles: tuple[str, ...], method: str, path: str, status: int
) -> None:
    response = await gw.client.request(method, path, headers=bearer(issuer.token(*roles)), json={})
    assert response.status_code == status, response.text
    if status == 403:
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["status"] == 403


async def test_service_accounts_get_an_explanation(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get("/api/v1/sectors", headers=bearer(issuer.token("service")))
    assert "directly" in response.json()["detail"]
