"""Issue 9, fault 2: two `Authorization` headers (the gateway verified the last, the service read the first).
Raw HTTP over a socket to the real gateway (uvicorn + httptools), since no client library sends duplicates."""

from __future__ import annotations

import pytest
from gateway_helpers import RunningGateway
from gateway_upstream import Upstream

from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.rawhttp import RawResponse, answer_to, assert_duplicate_refused


async def _raw(
    gw: RunningGateway, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""
) -> RawResponse:
    return await answer_to(int(gw.url.rsplit(":", 1)[1]), method, path, headers, body, who="gateway")


def _assert_refused(response: RawResponse, header: str, code: str = "duplicate_header") -> None:
    body = assert_duplicate_refused(response, header, code)
    assert header in body["detail"] and body["request_id"] == response.header("x-request-id")


async def test_two_authorization_headers_are_refused(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    officer = issuer.token("officer", sub="officer-1")
    enterprise = issuer.token("enterprise", sub="ent-1", tax_code="0100109106")
    service = issuer.token("service", sub="svc-1")
    before = len(registry_upstream.requests)
    for first, last in ((service, enterprise), (enterprise, service), (officer, enterprise), (enterprise, officer)):
        for path in ("/api/v1/enterprises", "/api/v1/me"):  # proxied and the gateway's own endpoint
            response = await _raw(
                gw,
                "GET",
                path,
                [("Host", "gw"), ("Authorization", f"Bearer {first}"), ("Authorization", f"Bearer {last}")],
            )
            _assert_refused(response, "Authorization")
    joined = await _raw(
        gw, "GET", "/api/v1/enterprises", [("Host", "gw"), ("Authorization", f"Bearer {service}, Bearer {enterprise}")]
    )
    _assert_refused(joined, "Authorization")
    assert len(registry_upstream.requests) == before  # nothing reached the service


async def test_the_verified_header_is_the_one_forwarded(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    token = issuer.token("enterprise", sub="ent-2", tax_code="0100109106")
    response = await _raw(
        gw,
        "GET",
        "/api/v1/enterprises",
        [("Host", "gw"), ("Authorization", f"Bearer {token}"), ("Connection", "close, authorization")],
    )
    assert response.status == 200, response
    sent = [v for k, v in registry_upstream.last["headers"] if k == "authorization"]
    assert sent == [f"Bearer {token}"]


@pytest.mark.parametrize(
    ("headers", "header", "code"),
    [
        ([("Host", "a"), ("Host", "b")], "Host", "duplicate_header"),
        ([("Content-Type", "application/json"), ("Content-Type", "text/plain")], "Content-Type", "duplicate_header"),
        ([("Idempotency-Key", "k1"), ("Idempotency-Key", "k2")], "Idempotency-Key", "duplicate_header"),
        ([("If-Match", '"1"'), ("If-Match", '"2"')], "If-Match", "duplicate_header"),
    ],
)
async def test_other_meaningful_duplicates_are_refused(
    gw: RunningGateway,
    issuer: TestIssuer,
    registry_upstream: Upstream,
    headers: list[tuple[str, str]],
    header: str,
    code: str,
) -> None:
    before = len(registry_upstream.requests)
    base = [("Authorization", f"Bearer {issuer.token('officer')}"), ("Content-Length", "2")]
    if header != "Host":
        base.insert(0, ("Host", "gw"))
    response = await _raw(gw, "POST", "/api/v1/sectors", base + headers, b"{}")
    _assert_refused(response, header, code)
    assert len(registry_upstream.requests) == before


async def test_content_length_conflicts_are_400_and_never_forwarded(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    """What really arrives: httptools refuses conflicting Content-Length and Content-Length + Transfer-Encoding
    itself (plain-text 400) before the gateway runs; the gateway's own check covers any server that does not."""
    token = issuer.token("officer")
    before = len(registry_upstream.requests)
    for extra in (
        [("Content-Length", "2"), ("Content-Length", "3")],
        [("Content-Length", "2"), ("Content-Length", "2")],
        [("Content-Length", "2"), ("Transfer-Encoding", "chunked")],
    ):
        response = await _raw(
            gw, "POST", "/api/v1/sectors", [("Host", "gw"), ("Authorization", f"Bearer {token}"), *extra], b"{}"
        )
        assert response.status == 400 and response.closed, (extra, response)
        if response.header("content-type") == "application/problem+json":
            assert response.json()["code"] in ("duplicate_header", "conflicting_headers")
    assert len(registry_upstream.requests) == before
