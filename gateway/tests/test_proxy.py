"""What crosses the gateway: identity headers stripped, request ids, forwarding headers, hop-by-hop headers,
paths and queries untouched, upstream failures as 502/504 within the timeouts, CORS, rate limits."""

from __future__ import annotations

import asyncio
import gzip
import re
import time

import httpx
from gateway_helpers import RunningGateway, bearer, serve_gateway
from gateway_upstream import Upstream

from cleanprod_kit.testing.issuer import TestIssuer

PROBLEM = "application/problem+json"

SPOOFED = {
    "X-User-Id": "officer-1",
    "X-Roles": "officer,auditor",
    "X-Role": "officer",
    "X-Tax-Code": "0100109106",
    "X-Forwarded-User": "officer1",
    "X-Forwarded-Email": "boss@example",
    "X-Auth-Request-User": "officer1",
    "X-Auth-Roles": "officer",
    "X-Principal": "officer1",
    "X-Gateway-Subject": "spoofed-subject",
    "X-Gateway-Client": "spoofed",
    "X-Remote-User": "officer1",
    "Remote-User": "officer1",
    "X-Authenticated-Userid": "officer1",
    "X-Consumer-Username": "officer1",
    "X-Userinfo": "e30=",
    "X-Jwt-Payload": "e30=",
    "X-Amzn-Oidc-Identity": "officer1",
    "X-Ms-Client-Principal-Name": "officer1",
}


def headers_of(record: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in record["headers"]:
        out.setdefault(name.lower(), []).append(value)
    return out


async def test_spoofed_identity_headers_never_arrive(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    token = issuer.token("enterprise", sub="ent-user-1", tax_code="0100109106")
    response = await gw.client.get("/api/v1/enterprises", headers={**bearer(token), **SPOOFED})
    assert response.status_code == 200
    seen = headers_of(response.json())
    for name in SPOOFED:
        if name.lower().startswith("x-gateway-"):
            continue
        assert name.lower() not in seen, name
    # The gateway's own informational headers carry the verified identity, never the client's copy.
    assert seen["x-gateway-subject"] == ["ent-user-1"]
    assert seen["x-gateway-client"] == ["cleanprod-test"]
    # The original Authorization header is forwarded unchanged: the service verifies the token again.
    assert seen["authorization"] == [f"Bearer {token}"]


async def test_forwarding_and_hop_by_hop_headers(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    response = await gw.client.get(
        "/api/v1/facilities",
        headers={
            **bearer(issuer.token("officer")),
            "X-Forwarded-For": "6.6.6.6",
            "X-Real-IP": "6.6.6.6",
            "Forwarded": "for=6.6.6.6",
            "X-Forwarded-Proto": "https",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "secret",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Proxy-Authorization": "Basic eA==",
            "X-Custom": "kept",
            "Accept-Language": "vi",
        },
    )
    assert response.status_code == 200
    seen = headers_of(response.json())
    assert seen["x-forwarded-for"] == ["127.0.0.1"]  # the client's claim is replaced, not trusted
    assert seen["x-forwarded-proto"] == ["http"]
    assert seen["x-forwarded-host"] == [gw.url.removeprefix("http://")]
    for name in ("x-real-ip", "forwarded", "x-hop", "keep-alive", "te", "proxy-authorization"):
        assert name not in seen, name
    assert seen["x-custom"] == ["kept"]
    assert seen["accept-language"] == ["vi"]
    assert seen["host"] == [registry_upstream.url.removeprefix("http://")]
    # The gateway adds nothing the client did not send (no Accept-Encoding, User-Agent, ...).
    assert seen["user-agent"] == [f"python-httpx/{httpx.__version__}"]
    assert seen["accept-encoding"] == ["gzip, deflate"]  # httpx's, not aiohttp's


async def test_proxy_adds_no_headers_of_its_own(gw: RunningGateway, issuer: TestIssuer) -> None:
    # A bare client sending no Accept / Accept-Encoding / User-Agent: none must be invented on the way.
    reader, writer = await asyncio.open_connection("127.0.0.1", int(gw.url.rsplit(":", 1)[1]))
    token = issuer.token("officer")
    writer.write(
        f"GET /api/v1/sectors HTTP/1.1\r\nHost: gw\r\nAuthorization: Bearer {token}\r\n"
        "Connection: close\r\n\r\n".encode()
    )
    await writer.drain()
    raw = await reader.read()
    writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    import json

    seen = headers_of(json.loads(body))
    for name in ("accept", "accept-encoding", "user-agent", "content-type", "content-length"):
        assert name not in seen, name


async def test_trusted_front_proxy_forwarding_is_appended(make_settings, issuer: TestIssuer) -> None:  # noqa: ANN001
    async with serve_gateway(make_settings(trust_forwarded_headers=True)) as running:
        response = await running.client.get(
            "/api/v1/sectors",
            headers={**bearer(issuer.token("officer")), "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        )
        seen = headers_of(response.json())
        assert seen["x-forwarded-for"] == ["203.0.113.7, 127.0.0.1"]
        assert seen["x-forwarded-proto"] == ["https"]


async def test_request_id_propagated(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get(
        "/api/v1/sectors", headers={**bearer(issuer.token("officer")), "X-Request-ID": "client-req-42"}
    )
    assert response.headers["x-request-id"] == "client-req-42"
    assert headers_of(response.json())["x-request-id"] == ["client-req-42"]


async def test_request_id_generated_and_malformed_replaced(gw: RunningGateway, issuer: TestIssuer) -> None:
    for sent in (None, "has spaces; and <tags>", "x" * 500):
        headers = bearer(issuer.token("officer"))
        if sent is not None:
            headers["X-Request-ID"] = sent
        response = await gw.client.get("/api/v1/sectors", headers=headers)
        rid = response.headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", rid)
        assert headers_of(response.json())["x-request-id"] == [rid]
    # Error answers carry it too.
    response = await gw.client.get("/api/v1/sectors", headers={"X-Request-ID": "err-1"})
    assert response.status_code == 401 and response.headers["x-request-id"] == "err-1"
    assert response.json()["request_id"] == "err-1"


async def test_response_headers_cleaned(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get(
        "/api/v1/sectors/spoof-response", headers={**bearer(issuer.token("officer")), "X-Request-ID": "mine"}
    )
    assert response.headers["x-request-id"] == "mine"  # the upstream's own value is not leaked
    assert response.headers.get_list("x-request-id") == ["mine"]
    assert response.headers["x-upstream"] == "yes"
    assert len(response.headers.get_list("server")) <= 1 and len(response.headers.get_list("date")) == 1


async def test_path_query_and_method_pass_untouched(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.request(
        "PUT",
        "/api/v1/enterprises/a%20b%2Fc/facilities?q=h%C3%A0+n%E1%BB%99i&limit=5&limit=6",
        headers=bearer(issuer.token("officer")),
        content=b"x" * 100,
    )
    record = response.json()
    assert record["method"] == "PUT"
    assert record["raw_path"] == "/api/v1/enterprises/a%20b%2Fc/facilities"
    assert record["query"] == "q=h%C3%A0+n%E1%BB%99i&limit=5&limit=6"
    assert record["body_size"] == 100


async def test_upstream_status_and_body_pass_through(gw: RunningGateway, issuer: TestIssuer) -> None:
    response = await gw.client.get("/api/v1/norms?status=418", headers=bearer(issuer.token("officer")))
    assert response.status_code == 418
    assert response.json()["path"] == "/api/v1/norms"
    head = await gw.client.head("/api/v1/norms", headers=bearer(issuer.token("officer")))
    assert head.status_code == 200 and head.content == b""


async def test_compressed_answers_are_not_decompressed(gw: RunningGateway, issuer: TestIssuer) -> None:
    async with gw.client.stream("GET", "/api/v1/sectors/gzip", headers=bearer(issuer.token("officer"))) as resp:
        raw = b"".join([chunk async for chunk in resp.aiter_raw()])
    assert resp.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == b'{"compressed": true}'


async def test_unknown_routes_and_dot_segments(gw: RunningGateway, issuer: TestIssuer) -> None:
    token = bearer(issuer.token("officer"))
    for path in ("/api/v1/unknown", "/internal/events", "/openapi.json", "/api/v1/sectorsX", "/docs", "/"):
        response = await gw.client.get(path, headers=token)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == PROBLEM
    egov = bearer(issuer.token("egov"))
    # (httpx itself resolves a literal "/../" before sending; the encoded form reaches the gateway as is.)
    response = await gw.client.get("/api/v1/integrations/../enterprises", headers=egov)
    assert response.status_code == 403
    response = await gw.client.get("/api/v1/integrations/%2E%2E/enterprises", headers=egov)
    assert response.status_code == 400


async def test_upstream_down_is_502_quickly(gw: RunningGateway, issuer: TestIssuer) -> None:
    started = time.monotonic()
    response = await gw.client.get("/api/v1/verifications", headers=bearer(issuer.token("verifier")))
    elapsed = time.monotonic() - started
    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    assert "verification" in response.json()["detail"]
    assert elapsed < 1.0


async def test_upstream_slow_is_504_within_the_read_timeout(gw: RunningGateway, issuer: TestIssuer) -> None:
    started = time.monotonic()
    response = await gw.client.get("/api/v1/sectors/slow?delay=5", headers=bearer(issuer.token("officer")))
    elapsed = time.monotonic() - started
    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM
    assert 0.9 <= elapsed < 2.5  # read_timeout is 1 s in the test settings


async def test_connect_timeout_is_504(make_settings, issuer: TestIssuer) -> None:  # noqa: ANN001
    # A listening socket whose accept queue is full never completes new handshakes: the connect times out.
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        async with serve_gateway(
            make_settings(verification_url=f"http://127.0.0.1:{port}", connect_timeout=0.5)
        ) as running:
            started = time.monotonic()
            response = await running.client.get("/api/v1/verifications", headers=bearer(issuer.token("verifier")))
            elapsed = time.monotonic() - started
        # Linux may still complete the handshake (SYN cookies): then the read timeout answers. Either way: 504.
        assert response.status_code == 504
        assert elapsed < 2.5
    finally:
        for s in fillers:
            s.close()
        listener.close()


async def test_cors_preflight_and_simple_requests(gw: RunningGateway, issuer: TestIssuer) -> None:
    origin = "https://portal.example.gov.vn"
    preflight = await gw.client.options(
        "/api/v1/applications",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, idempotency-key",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"]
    assert int(preflight.headers["access-control-max-age"]) > 0

    refused = await gw.client.options(
        "/api/v1/applications", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers

    response = await gw.client.get("/api/v1/sectors", headers={**bearer(issuer.token("officer")), "Origin": origin})
    assert response.headers["access-control-allow-origin"] == origin
    assert "X-Request-ID" in response.headers["access-control-expose-headers"]
    # Errors are readable by the browser too.
    response = await gw.client.get("/api/v1/sectors", headers={"Origin": origin})
    assert response.status_code == 401 and response.headers["access-control-allow-origin"] == origin
    other = await gw.client.get(
        "/api/v1/sectors", headers={**bearer(issuer.token("officer")), "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


async def test_rate_limit_per_client_with_retry_after(make_settings, issuer: TestIssuer) -> None:  # noqa: ANN001
    async with serve_gateway(make_settings(rate_limit_per_second=1.0, rate_limit_burst=3)) as running:
        alice = bearer(issuer.token("officer", sub="alice"))
        statuses = [(await running.client.get("/api/v1/sectors", headers=alice)).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = await running.client.get("/api/v1/sectors", headers=alice)
        assert limited.status_code == 429
        assert limited.headers["content-type"] == PROBLEM
        assert limited.headers["retry-after"] == "1"
        assert limited.json()["status"] == 429
        # Another user is not affected; a new token of the same user shares the bucket (keyed by azp + sub).
        bob = bearer(issuer.token("officer", sub="bob"))
        assert (await running.client.get("/api/v1/sectors", headers=bob)).status_code == 200
        alice_again = bearer(issuer.token("officer", sub="alice"))
        assert (await running.client.get("/api/v1/sectors", headers=alice_again)).status_code == 429
        await asyncio.sleep(1.05)
        assert (await running.client.get("/api/v1/sectors", headers=alice)).status_code == 200
        # Anonymous / invalid-token callers are limited by IP.
        anonymous = [(await running.client.get("/api/v1/sectors")).status_code for _ in range(4)]
        assert anonymous[:3] == [401, 401, 401] and anonymous[3] == 429
