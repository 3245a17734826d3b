"""Token verification shared by the gateway and the services."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from cleanprod_kit.auth import JWKSCache, Principal, TokenVerifier, VerifiedTokens
from cleanprod_kit.errors import Unauthorized
from cleanprod_kit.testing.issuer import AUDIENCE, TestIssuer


def verifier(issuer: TestIssuer, min_refetch: float = 60) -> TokenVerifier:
    return TokenVerifier(
        issuer=issuer.issuer,
        audience=AUDIENCE,
        leeway_seconds=5,
        jwks=JWKSCache(issuer.jwks_url, ttl_seconds=300, min_refetch_seconds=min_refetch),
    )


async def test_valid_token_gives_principal(issuer: TestIssuer) -> None:
    principal = await verifier(issuer).verify(issuer.token("enterprise", tax_code="0100109106", username="an"))
    assert principal == Principal(
        subject=principal.subject,
        username="an",
        roles=frozenset({"enterprise"}),
        tax_code="0100109106",
        client_id="cleanprod-test",
    )
    assert principal.primary_role == "enterprise"


@pytest.mark.parametrize(
    "make",
    [
        lambda i: i.token("officer", expires_in=-60),
        lambda i: i.token("officer", audience="other-api"),
        lambda i: i.token("officer", issuer="http://evil.example/realms/cleanprod"),
        lambda i: i.token("officer", key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        lambda i: i.token("officer", kid="unknown-kid"),
        lambda i: "garbage",
        lambda i: jwt.encode(
            {"sub": "x", "aud": AUDIENCE, "iss": i.issuer, "exp": 9999999999, "iat": 1},
            "a-shared-secret-that-is-long-enough-for-hs256",
            algorithm="HS256",
            headers={"kid": i.kid},
        ),
    ],
)
async def test_bad_tokens_are_unauthorized(issuer: TestIssuer, make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Unauthorized):
        await verifier(issuer).verify(make(issuer))


async def test_alg_none_is_refused(issuer: TestIssuer) -> None:
    good = issuer.token("officer")
    _, payload, _ = good.split(".")
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": issuer.kid}).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthorized, match="RS256 only"):
        await verifier(issuer).verify(f"{header}.{payload}.")


async def test_unknown_kid_refetches_at_most_once_per_interval(issuer: TestIssuer) -> None:
    check = verifier(issuer, min_refetch=60)
    await check.verify(issuer.token("officer"))
    before = issuer.jwks_requests
    for _ in range(20):
        with pytest.raises(Unauthorized):
            await check.verify(issuer.token("officer", kid="forged-kid"))
    assert issuer.jwks_requests - before <= 1
    await check.jwks.close()


async def test_issuer_down_keeps_known_keys(issuer: TestIssuer) -> None:
    check = verifier(issuer, min_refetch=0)
    token = issuer.token("auditor")
    await check.verify(token)
    check.jwks.jwks_url = "http://127.0.0.1:9/unreachable"
    assert (await check.verify(token)).roles == {"auditor"}
    await check.jwks.close()


async def test_http_client_failure_is_not_a_500(issuer: TestIssuer) -> None:
    check = TokenVerifier(
        issuer=issuer.issuer, audience=AUDIENCE, jwks=JWKSCache("http://127.0.0.1:9/none", min_refetch_seconds=0)
    )
    with pytest.raises(Unauthorized):
        await check.verify(issuer.token("officer"))


def test_full_name_is_family_name_first_from_the_profile_claims() -> None:
    from cleanprod_kit.auth import Principal

    person = Principal.from_claims(
        {
            "sub": "u1",
            "preferred_username": "verifier1",
            "given_name": "Đức Hải",
            "family_name": "Vũ",
            "realm_access": {"roles": ["verifier"]},
        }
    )
    assert person.full_name == "Vũ Đức Hải" and person.display_name == "verifier1"
    service = Principal.from_claims({"sub": "s", "azp": "svc-registry", "realm_access": {"roles": ["service"]}})
    assert service.full_name is None


async def test_a_verified_token_is_not_checked_again_until_it_expires(
    issuer: TestIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    check = TokenVerifier(
        issuer=issuer.issuer, audience=AUDIENCE, leeway_seconds=0, jwks=JWKSCache(issuer.jwks_url, ttl_seconds=300)
    )
    token = issuer.token("officer", expires_in=2)
    first = await check.verify(token)
    decoded = 0
    real_decode = jwt.decode

    def counting_decode(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal decoded
        decoded += 1
        return real_decode(*args, **kwargs)

    monkeypatch.setattr(jwt, "decode", counting_decode)
    assert await check.verify(token) is first
    assert decoded == 0  # remembered: no signature, JSON or claims check
    # Once expired it is refused, as it would have been without the cache.
    await asyncio.sleep(max(0.0, first.claims["exp"] - time.time()) + 0.1)
    with pytest.raises(Unauthorized, match="expired"):
        await check.verify(token)
    assert decoded == 1
    await check.jwks.close()


async def test_a_remembered_token_is_refused_once_its_key_leaves_the_key_set(issuer: TestIssuer) -> None:
    check = verifier(issuer, min_refetch=0)
    check.jwks.ttl = 0  # every look-up refetches the key set
    token = issuer.token("officer")
    await check.verify(token)
    issuer.rotate()  # the old key is withdrawn from the JWKS
    with pytest.raises(Unauthorized, match="unknown key"):
        await check.verify(token)
    await check.jwks.close()


def test_verified_tokens_stay_bounded_and_drop_the_expired_first() -> None:
    tokens = VerifiedTokens(max_entries=3)
    principal = Principal(subject="s", username=None, roles=frozenset())
    now = time.time()
    tokens.put("expired", principal, "k", now - 1)
    tokens.put("a", principal, "k", now + 60)
    tokens.put("b", principal, "k", now + 60)
    tokens.put("c", principal, "k", now + 60)  # full: the expired one goes
    assert tokens.get("expired") is None
    assert [tokens.get(t) is not None for t in ("a", "b", "c")] == [True, True, True]
    tokens.put("d", principal, "k", now + 60)  # full of valid ones: the oldest goes
    assert tokens.get("a") is None and tokens.get("d") == (principal, "k")
    off = VerifiedTokens(max_entries=0)
    off.put("a", principal, "k", now + 60)
    assert off.get("a") is None
