"""Service-to-service identity: client-credentials tokens fetched from the real Keycloak with python-keycloak,
reused until shortly before they expire, and accepted by the other services (zero trust: each verifies)."""

from __future__ import annotations

import httpx
import jwt

from cleanprod_kit.http import ClientCredentialsTokens, ServiceClient
from cleanprod_kit.requestid import request_id_var
from infra import keycloak_server
from infra.devstack import Stack


def _tokens(stack: Stack, margin: float) -> ClientCredentialsTokens:
    return ClientCredentialsTokens(
        server_url=f"http://127.0.0.1:{stack.ports.keycloak}/",
        realm="cleanprod",
        client_id="svc-applications",
        client_secret=keycloak_server.client_secret("svc-applications"),
        refresh_margin=margin,
    )


async def test_token_is_cached_until_shortly_before_expiry(stack: Stack) -> None:
    cached = _tokens(stack, margin=30)
    first, second = await cached(), await cached()
    assert first == second  # one fetch serves many calls
    claims = jwt.decode(first, options={"verify_signature": False})
    assert claims["azp"] == "svc-applications" and "service" in claims["realm_access"]["roles"]
    assert "cleanprod-api" in (claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]])
    await cached.close()

    # A margin longer than the token's whole life means "always near expiry": every call fetches anew.
    eager = _tokens(stack, margin=10_000)
    one, two = await eager(), await eager()
    assert (
        jwt.decode(one, options={"verify_signature": False})["jti"]
        != jwt.decode(two, options={"verify_signature": False})["jti"]
    )
    await eager.close()


async def test_service_client_calls_another_service_with_its_token_and_request_id(stack: Stack) -> None:
    tokens = _tokens(stack, margin=30)
    client = ServiceClient(tokens)
    marker = request_id_var.set("svc-call-rid-7")  # as if serving a request with this id
    try:
        response = await client.get(f"{stack.url('registry')}/api/v1/sectors")
        assert response.status_code == 200
        assert response.headers["x-request-id"] == "svc-call-rid-7"  # the caller's request id travelled along
        assert {s["code"] for s in response.json()} >= {"steel", "beer", "paper"}
        # the same token is refused at the public gateway: service accounts work on the internal network only
        refused = httpx.get(
            f"{stack.url('gateway')}/api/v1/sectors", headers={"Authorization": f"Bearer {await tokens()}"}
        )
        assert refused.status_code == 403
    finally:
        request_id_var.reset(marker)
        await client.aclose()
        await tokens.close()
