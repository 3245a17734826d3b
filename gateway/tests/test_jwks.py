"""JWKS handling: keys cached by kid; an unknown kid causes at most one refetch per min interval; a rotated key
is picked up once that interval has passed. Uses its own issuer (rotation must not disturb other tests)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_helpers import bearer, serve_gateway
from gateway_upstream import Upstream

from cleanprod_kit.testing.issuer import TestIssuer

MIN_REFETCH = 1.0


@pytest.fixture
def own_issuer() -> Iterator[TestIssuer]:
    issuer = TestIssuer()
    yield issuer
    issuer.close()


async def test_unknown_kid_triggers_exactly_one_refetch(own_issuer: TestIssuer, make_settings) -> None:  # noqa: ANN001
    settings = make_settings(
        oidc_issuer=own_issuer.issuer, oidc_jwks_url=own_issuer.jwks_url, jwks_min_refetch_seconds=MIN_REFETCH
    )
    async with serve_gateway(settings) as running:
        assert own_issuer.jwks_requests == 1  # fetched once at start-up
        ok = await running.client.get("/api/v1/sectors", headers=bearer(own_issuer.token("officer")))
        assert ok.status_code == 200
        assert own_issuer.jwks_requests == 1  # the known kid is served from the cache
        await asyncio.sleep(MIN_REFETCH + 0.1)

        forged_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        started = time.monotonic()
        for _ in range(10):
            forged = own_issuer.token("officer", key=forged_key, kid=uuid.uuid4().hex)
            response = await running.client.get("/api/v1/sectors", headers=bearer(forged))
            assert response.status_code == 401
        assert time.monotonic() - started < MIN_REFETCH, "test too slow to prove the rate limit"
        assert own_issuer.jwks_requests == 2  # ten unknown kids inside the interval: one refetch


async def test_rotated_key_is_picked_up_after_the_interval(
    own_issuer: TestIssuer,
    make_settings,  # noqa: ANN001
    registry_upstream: Upstream,
) -> None:
    settings = make_settings(
        oidc_issuer=own_issuer.issuer, oidc_jwks_url=own_issuer.jwks_url, jwks_min_refetch_seconds=MIN_REFETCH
    )
    async with serve_gateway(settings) as running:
        old_token = own_issuer.token("officer")
        assert (await running.client.get("/api/v1/sectors", headers=bearer(old_token))).status_code == 200
        own_issuer.rotate()
        new_token = own_issuer.token("officer")
        fetches = own_issuer.jwks_requests
        # Within the interval after the start-up fetch the new kid is unknown and no refetch is allowed yet...
        early = await running.client.get("/api/v1/sectors", headers=bearer(new_token))
        if early.status_code == 401:
            assert own_issuer.jwks_requests == fetches
            await asyncio.sleep(MIN_REFETCH + 0.1)
        # ...after it, the first request with the new kid refetches once and is accepted.
        response = await running.client.get("/api/v1/sectors", headers=bearer(new_token))
        assert response.status_code == 200
        assert own_issuer.jwks_requests == fetches + 1
        # Further new-key tokens use the cache.
        again = await running.client.get("/api/v1/sectors", headers=bearer(own_issuer.token("auditor")))
        assert again.status_code == 200
        assert own_issuer.jwks_requests == fetches + 1


async def test_jwks_unreachable_keeps_known_keys_and_does_not_hammer(make_settings) -> None:  # noqa: ANN001
    issuer = TestIssuer()
    settings = make_settings(
        oidc_issuer=issuer.issuer,
        oidc_jwks_url=issuer.jwks_url,
        jwks_min_refetch_seconds=5.0,
        jwks_cache_ttl_seconds=0.2,
        jwks_timeout_seconds=0.5,
    )
    try:
        async with serve_gateway(settings) as running:
            token = issuer.token("officer")
            assert (await running.client.get("/api/v1/sectors", headers=bearer(token))).status_code == 200
            issuer.close()  # Keycloak goes away
            await asyncio.sleep(0.3)  # the JWKS TTL runs out
            started = time.monotonic()
            for _ in range(5):
                fresh = issuer.token("auditor")  # new token, known kid: verified with the key already held
                response = await running.client.get("/api/v1/sectors", headers=bearer(fresh))
                assert response.status_code == 200
            assert time.monotonic() - started < 3.0
    finally:
        issuer.server.server_close()
