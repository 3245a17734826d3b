"""Large bodies are streamed both ways: nothing waits for a whole body before passing it on."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator

from gateway_helpers import RunningGateway, bearer
from gateway_upstream import Upstream

from cleanprod_kit.testing.issuer import TestIssuer

MIB = 1 << 20


async def test_25_mib_upload_is_streamed_and_arrives_intact(
    gw: RunningGateway, issuer: TestIssuer, applications_upstream: Upstream
) -> None:
    size = 25 * MIB
    blob = os.urandom(size)
    applications_upstream.first_chunk_seen.clear()

    async def body() -> AsyncIterator[bytes]:
        # Send the first 2 MiB, then hold the rest back until the upstream has received at least 1 MiB: a gateway
        # that buffered the whole request before forwarding it would never get there (the test would time out).
        yield blob[: 2 * MIB]
        arrived = await asyncio.to_thread(applications_upstream.first_chunk_seen.wait, 10)
        assert arrived, "the upstream saw nothing while the client was still sending: the body was buffered"
        for offset in range(2 * MIB, size, 256 * 1024):
            yield blob[offset : offset + 256 * 1024]

    token = issuer.token("enterprise", tax_code="0100109106")
    response = await gw.client.post(
        "/api/v1/applications/17/documents/upload",
        content=body(),
        headers={**bearer(token), "Content-Type": "application/pdf", "Content-Length": str(size)},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["size"] == size
    assert result["sha256"] == hashlib.sha256(blob).hexdigest()
    assert result["content_length"] == str(size)  # a known length is passed on, not turned into chunks
    assert result["chunks"] > 1


async def test_chunked_upload_without_length(gw: RunningGateway, issuer: TestIssuer) -> None:
    parts = [os.urandom(300_000) for _ in range(10)]

    async def body() -> AsyncIterator[bytes]:
        for part in parts:
            yield part

    response = await gw.client.post(
        "/api/v1/applications/17/documents/upload", content=body(), headers=bearer(issuer.token("enterprise"))
    )
    result = response.json()
    assert result["transfer_encoding"] == "chunked"
    assert result["sha256"] == hashlib.sha256(b"".join(parts)).hexdigest()


async def test_large_download_is_streamed(gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream) -> None:
    size = 30 * MIB
    block = bytes(range(256)) * 256
    expected = hashlib.sha256()
    for offset in range(0, size, len(block)):
        expected.update(block[: min(len(block), size - offset)])
    registry_upstream.release_download.clear()
    digest = hashlib.sha256()
    received = 0
    # The upstream sends its first 64 KiB and then waits until we have seen bytes: a buffering gateway would stall.
    async with gw.client.stream(
        "GET", f"/api/v1/facilities/9/download?size={size}&wait=1", headers=bearer(issuer.token("officer"))
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-length"] == str(size)
        async for chunk in response.aiter_raw():
            if received == 0:
                registry_upstream.release_download.set()
            digest.update(chunk)
            received += len(chunk)
    assert received == size
    assert digest.hexdigest() == expected.hexdigest()


async def test_client_leaving_a_download_stops_the_upstream_read(
    gw: RunningGateway, issuer: TestIssuer, registry_upstream: Upstream
) -> None:
    registry_upstream.release_download.set()
    async with gw.client.stream(
        "GET", f"/api/v1/facilities/9/download?size={200 * MIB}", headers=bearer(issuer.token("officer"))
    ) as response:
        async for _ in response.aiter_raw():
            break  # leave after the first chunk: the connection is closed
    # The gateway keeps serving.
    response = await gw.client.get("/api/v1/sectors", headers=bearer(issuer.token("officer")))
    assert response.status_code == 200


async def test_upstream_dying_mid_answer_aborts_the_client_connection(gw: RunningGateway, issuer: TestIssuer) -> None:
    import httpx

    received = 0
    with __import__("pytest").raises(httpx.HTTPError):
        async with gw.client.stream(
            "GET", "/api/v1/facilities/9/broken", headers=bearer(issuer.token("officer"))
        ) as response:
            assert response.status_code == 200
            async for chunk in response.aiter_raw():
                received += len(chunk)
    assert received < 1 << 20
    # The gateway keeps serving.
    response = await gw.client.get("/api/v1/sectors", headers=bearer(issuer.token("officer")))
    assert response.status_code == 200
