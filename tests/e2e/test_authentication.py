"""Authentication and coarse authorization through the gateway, with real Keycloak tokens (issue #3)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from infra.devstack import Stack

PROBLEM = "application/problem+json"
DEMO = {
    "officer1": "officer",
    "reviewer1": "reviewer",
    "verifier1": "verifier",
    "auditor1": "auditor",
    "ent-hanoisteel": "enterprise",
    "ent-thanglong": "enterprise",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert response.headers.get("www-authenticate", "").startswith("Bearer")


@pytest.mark.parametrize("username", list(DEMO))
def test_every_demo_user_gets_a_token_and_me_reports_it(gateway: httpx.Client, tokens, username: str) -> None:
    me = gateway.get("/api/v1/me", headers=tokens.headers(username))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["username"] == username and DEMO[username] in body["roles"]
    if DEMO[username] == "enterprise":
        assert body["tax_code"] in {"0100109106", "0101243150"}


def test_role_matrix_on_the_registry(gateway: httpx.Client, tokens) -> None:
    sector = {"code": "e2e_role_matrix", "name_vi": "Ngành thử nghiệm", "name_en": "Test sector"}
    for username in ("reviewer1", "verifier1", "auditor1", "ent-hanoisteel"):
        headers = tokens.headers(username)
        assert gateway.get("/api/v1/sectors", headers=headers).status_code == 200
        assert gateway.post("/api/v1/sectors", json=sector, headers=headers).status_code == 403, username
    created = gateway.post("/api/v1/sectors", json=sector, headers=tokens.headers("officer1"))
    assert created.status_code in (201, 409)
    egov = {"Authorization": f"Bearer {tokens.client('egov-demo')}"}
    refused = gateway.get("/api/v1/enterprises", headers=egov)
    assert refused.status_code == 403 and refused.headers["content-type"].startswith(PROBLEM)


def test_enterprise_sees_only_its_own_enterprise(gateway: httpx.Client, tokens) -> None:
    mine = gateway.get("/api/v1/enterprises", params={"limit": 200}, headers=tokens.headers("ent-hanoisteel"))
    assert [e["tax_code"] for e in mine.json()["items"]] == ["0100109106"]
    everyone = gateway.get(
        "/api/v1/enterprises", params={"tax_code": "0101243150"}, headers=tokens.headers("officer1")
    ).json()["items"]
    other_id = everyone[0]["id"]
    assert gateway.get(f"/api/v1/enterprises/{other_id}", headers=tokens.headers("ent-hanoisteel")).status_code == 404


def test_requests_without_valid_tokens_are_401(gateway: httpx.Client, tokens, stack: Stack) -> None:
    real = tokens.password("officer1")
    header, payload, _ = real.split(".")
    kid = json.loads(base64.urlsafe_b64decode(header + "=="))["kid"]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))

    _assert_401(gateway.get("/api/v1/sectors"))
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": "Bearer not.a.token"}))
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": "Basic b2ZmaWNlcjE6RGVtb0AyMDI2"}))

    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, other_key, algorithm="RS256", headers={"kid": kid})
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": f"Bearer {forged}"}))

    unsigned = f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT', 'kid': kid}).encode())}.{payload}."
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": f"Bearer {unsigned}"}))

    jwks = httpx.get(f"{stack.issuer}/protocol/openid-connect/certs").json()
    public_pem = jwt.algorithms.RSAAlgorithm.from_jwk(next(k for k in jwks["keys"] if k["kid"] == kid)).public_bytes(
        encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM,
        format=__import__(
            "cryptography.hazmat.primitives.serialization", fromlist=["PublicFormat"]
        ).PublicFormat.SubjectPublicKeyInfo,
    )
    hs_header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    signature = hmac.new(public_pem, f"{hs_header}.{payload}".encode(), hashlib.sha256).digest()
    confused = f"{hs_header}.{payload}.{_b64(signature)}"
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": f"Bearer {confused}"}))

    tampered_claims = dict(claims, realm_access={"roles": ["officer", "auditor", "egov"]})
    tampered = f"{header}.{_b64(json.dumps(tampered_claims).encode())}.{real.split('.')[2]}"
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": f"Bearer {tampered}"}))


def test_foreign_issuer_and_audience_are_401(gateway: httpx.Client, stack: Stack) -> None:
    master = (
        httpx.post(
            f"http://127.0.0.1:{stack.ports.keycloak}/realms/master/protocol/openid-connect/token",
            data={"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "admin"},
            timeout=30,
        )
        .raise_for_status()
        .json()["access_token"]
    )
    claims = jwt.decode(master, options={"verify_signature": False})
    assert claims["iss"].endswith("/realms/master") and "cleanprod-api" not in str(claims.get("aud"))
    _assert_401(gateway.get("/api/v1/sectors", headers={"Authorization": f"Bearer {master}"}))


def test_expired_keycloak_token_is_401(gateway: httpx.Client, tokens, stack: Stack) -> None:
    short = httpx.post(
        tokens.token_url,
        data={
            "grant_type": "password",
            "client_id": "cleanprod-cli-shortlived",
            "username": "auditor1",
            "password": "Demo@2026",
        },
        timeout=30,
    )
    body = short.raise_for_status().json()
    assert body["expires_in"] <= 5
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert gateway.get("/api/v1/sectors", headers=headers).status_code == 200
    time.sleep(body["expires_in"] + 2 + 1.5)  # lifetime + the test stack's 2 s clock skew + margin
    response = gateway.get("/api/v1/sectors", headers=headers)
    _assert_401(response)
    assert "expired" in response.json()["detail"]
    direct = httpx.get(f"{stack.url('registry')}/api/v1/sectors", headers=headers)
    assert direct.status_code == 401  # the service checks on its own as well (zero trust)


def test_spoofed_identity_headers_change_nothing(gateway: httpx.Client, tokens) -> None:
    spoof = {
        "X-Roles": "officer",
        "X-User-Id": "officer1",
        "X-Tax-Code": "0101243150",
        "X-Forwarded-User": "officer1",
        "X-Auth-Request-User": "officer1",
    }
    as_enterprise = tokens.headers("ent-hanoisteel", **spoof)
    listed = gateway.get("/api/v1/enterprises", params={"limit": 200}, headers=as_enterprise).json()["items"]
    assert [e["tax_code"] for e in listed] == ["0100109106"]
    sector = {"code": "e2e_spoof", "name_vi": "Giả mạo", "name_en": "Spoof"}
    assert gateway.post("/api/v1/sectors", json=sector, headers=as_enterprise).status_code == 403
    _assert_401(gateway.get("/api/v1/sectors", headers=spoof))


def test_request_id_is_propagated(gateway: httpx.Client, tokens) -> None:
    response = gateway.get("/api/v1/sectors", headers=tokens.headers("auditor1", **{"X-Request-ID": "e2e-rid-42"}))
    assert response.headers["x-request-id"] == "e2e-rid-42"
    generated = gateway.get("/api/v1/sectors", headers=tokens.headers("auditor1"))
    assert len(generated.headers["x-request-id"]) >= 16


def test_rate_limit_answers_429_with_retry_after(stack: Stack, tokens) -> None:
    headers = tokens.headers("reviewer2")
    statuses = []
    with httpx.Client(base_url=stack.url("gateway"), timeout=30, limits=httpx.Limits(max_connections=20)) as client:
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(client.get, "/api/v1/me", headers=headers) for _ in range(1000)]
            responses = [f.result() for f in futures]
    statuses = [r.status_code for r in responses]
    limited = [r for r in responses if r.status_code == 429]
    assert limited, f"no 429 among {sorted(set(statuses))}"
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].headers["content-type"].startswith(PROBLEM)
    assert set(statuses) <= {200, 429}


# Coarse role rules across the whole API, through the gateway, with every kind of real token. Each row: who, method,
# path, and whether the gateway lets the role through (the service may still answer 404/409/422 for the object).
ROLE_MATRIX = [
    ("auditor1", "GET", "/api/v1/calls", True),
    ("auditor1", "POST", "/api/v1/calls", False),
    ("auditor1", "GET", "/api/v1/programme/summary", True),
    ("auditor1", "POST", "/api/v1/applications", False),
    ("reviewer1", "POST", "/api/v1/calls", False),
    ("reviewer1", "GET", "/api/v1/programme/summary", False),
    ("verifier1", "POST", "/api/v1/calls", False),
    ("verifier1", "GET", "/api/v1/verifications", True),
    ("ent-hanoisteel", "GET", "/api/v1/programme/summary", False),
    ("ent-hanoisteel", "POST", "/api/v1/calls", False),
    ("ent-hanoisteel", "GET", "/api/v1/applications", True),
    ("ent-hanoisteel", "GET", "/api/v1/integrations/events", False),
    ("officer1", "GET", "/api/v1/programme/summary", True),
    ("officer1", "GET", "/api/v1/integrations/events", True),
]


@pytest.mark.parametrize(("username", "method", "path", "allowed"), ROLE_MATRIX)
def test_role_matrix_across_services(
    gateway: httpx.Client, tokens, username: str, method: str, path: str, allowed: bool
) -> None:
    response = gateway.request(method, path, headers=tokens.headers(username), json={} if method == "POST" else None)
    if allowed:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.headers["content-type"].startswith(PROBLEM)


@pytest.mark.parametrize(
    ("client_id", "path", "allowed"),
    [
        ("egov-demo", "/api/v1/integrations/events", True),
        ("egov-demo", "/api/v1/calls", True),
        ("egov-demo", "/api/v1/applications", False),
        ("egov-demo", "/api/v1/verifications", False),
        ("svc-applications", "/api/v1/facilities", False),  # service accounts are for the internal network only
        ("svc-verification", "/api/v1/verifications", False),
    ],
)
def test_client_credentials_tokens_at_the_gateway(
    gateway: httpx.Client, tokens, client_id: str, path: str, allowed: bool
) -> None:
    response = gateway.get(path, headers={"Authorization": f"Bearer {tokens.client(client_id)}"})
    assert (response.status_code == 200) if allowed else (response.status_code == 403), response.text
