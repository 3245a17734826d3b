"""The real registry service (real PostgreSQL, migrated) behind the gateway: tokens are verified twice (gateway
and service), the service's own answers and OpenAPI come through."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import uvicorn
from gateway_helpers import bearer, serve_gateway
from gateway_upstream import Upstream, free_port

from cleanprod_kit.testing.fixtures import service_settings_for
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.servers import start_in_thread, stop_thread


@pytest.fixture(scope="module")
def registry_service(make_database: Callable[[str, str], str], issuer: TestIssuer) -> Iterator[str]:
    from cleanprod_registry.config import MIGRATIONS, RegistrySettings
    from cleanprod_registry.main import create_app

    url = make_database("registry_gateway_test", MIGRATIONS)
    settings = RegistrySettings(**service_settings_for(issuer, database_url=url))
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, log_level="warning", loop="asyncio", http="h11"
        )
    )
    thread = start_in_thread(server, "registry", timeout=30)
    yield f"http://127.0.0.1:{port}"
    stop_thread(server, thread)


async def test_registry_answers_through_the_gateway(
    registry_service: str, make_settings: Any, issuer: TestIssuer, applications_upstream: Upstream
) -> None:
    async with serve_gateway(
        make_settings(registry_url=registry_service, verification_url=applications_upstream.url)
    ) as running:
        officer = bearer(issuer.token("officer"))
        response = await running.client.get("/api/v1/sectors", headers={**officer, "X-Request-ID": "reg-1"})
        assert response.status_code == 200, response.text
        sectors = response.json()
        assert isinstance(sectors, list) and sectors and "code" in sectors[0]
        assert response.headers["x-request-id"] == "reg-1"

        # Refused at the gateway: auditors never write.
        response = await running.client.post("/api/v1/sectors", headers=bearer(issuer.token("auditor")), json={})
        assert response.status_code == 403
        # Passed by the gateway (coarse rule: enterprises may write enterprises), judged by the service itself.
        response = await running.client.post(
            "/api/v1/enterprises", headers=bearer(issuer.token("enterprise")), json={"name": "x"}
        )
        assert response.status_code in (403, 422)
        assert response.headers["content-type"] == "application/problem+json"

        # The registry's real paths are in the merged document, its internal ones are not.
        doc = (await running.client.get("/api/openapi.json")).json()
        assert "/api/v1/sectors" in doc["paths"] and "/api/v1/enterprises" in doc["paths"]
        assert all(not path.startswith("/internal") for path in doc["paths"])
        assert "/api/v1/calls" in doc["paths"]  # from the second upstream

        ready = (await running.client.get("/readyz")).json()
        assert ready["checks"]["registry"]["status"] == "ok"
