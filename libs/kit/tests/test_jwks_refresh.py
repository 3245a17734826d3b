"""The JWKS cache's public refresh() and client lifecycle (what the gateway uses at start-up and shutdown), and
the roles `require_roles` leaves readable on its dependency (tests/test_role_rules.py reads them)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from cleanprod_kit.auth import JWKSCache, require_roles
from cleanprod_kit.testing.issuer import TestIssuer


def _kid(token: str) -> str:
    return jwt.get_unverified_header(token)["kid"]


@pytest.fixture
def own_issuer() -> Iterator[TestIssuer]:
    issuer = TestIssuer()  # its key is rotated: not the session's issuer
    yield issuer
    issuer.close()


async def test_refresh_fetches_now_whatever_the_age_of_the_keys(own_issuer: TestIssuer) -> None:
    jwks = JWKSCache(own_issuer.jwks_url, ttl_seconds=300, min_refetch_seconds=300)
    try:
        assert await jwks.get(_kid(own_issuer.token("officer"))) is not None
        fetched = own_issuer.jwks_requests
        own_issuer.rotate()
        new_kid = _kid(own_issuer.token("officer"))
        await jwks.refresh()  # min_refetch (300 s) would hold get() back; refresh() does not wait
        assert own_issuer.jwks_requests == fetched + 1
        assert await jwks.get(new_kid) is not None
        assert own_issuer.jwks_requests == fetched + 1  # served from what refresh() fetched
    finally:
        await jwks.close()


async def test_refresh_raises_when_the_issuer_cannot_be_read_and_keeps_the_keys(issuer: TestIssuer) -> None:
    jwks = JWKSCache(issuer.jwks_url, timeout_seconds=2)
    try:
        kid = _kid(issuer.token("officer"))
        await jwks.refresh()
        jwks.jwks_url = "http://127.0.0.1:9/certs"  # nothing listens there
        with pytest.raises(httpx.HTTPError):
            await jwks.refresh()
        assert await jwks.get(kid) is not None
    finally:
        await jwks.close()


async def test_a_closed_cache_opens_a_new_client_when_used_again(issuer: TestIssuer) -> None:
    jwks = JWKSCache(issuer.jwks_url)
    await jwks.refresh()
    await jwks.close()
    fetched = issuer.jwks_requests
    await jwks.refresh()
    assert issuer.jwks_requests == fetched + 1 and jwks.fetched
    await jwks.close()


def test_require_roles_leaves_its_roles_on_the_dependency() -> None:
    assert require_roles("officer", "auditor").roles == frozenset({"officer", "auditor"})  # type: ignore[attr-defined]
