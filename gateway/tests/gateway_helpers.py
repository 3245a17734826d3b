"""Shared helpers for gateway tests: settings for a test gateway and serving it on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from gateway_upstream import Upstream, closed_port, free_port

from cleanprod_gateway.gateway import Gateway
from cleanprod_gateway.settings import GatewaySettings
from cleanprod_kit.testing.issuer import TestIssuer
from cleanprod_kit.testing.servers import serving


@dataclass
class RunningGateway:
    gateway: Gateway
    url: str
    client: httpx.AsyncClient


def gateway_settings(
    issuer: TestIssuer, registry: Upstream, applications: Upstream, **overrides: Any
) -> GatewaySettings:
    values: dict[str, Any] = {
        "registry_url": registry.url,
        "applications_url": applications.url,
        "verification_url": f"http://127.0.0.1:{closed_port()}",
        "oidc_issuer": issuer.issuer,
        "oidc_jwks_url": issuer.jwks_url,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "rate_limit_per_second": 1000.0,
        "rate_limit_burst": 1000,
        "cors_origins": ["https://portal.example.gov.vn"],
        "openapi_cache_seconds": 60.0,
        "access_log": False,
        "log_json": False,
        "log_level": "WARNING",
        "metrics_port": 0,  # no listener per test gateway (tests/test_metrics.py serves one)
    }
    values.update(overrides)
    return GatewaySettings(**values)


@asynccontextmanager
async def serve_gateway(settings: GatewaySettings) -> AsyncIterator[RunningGateway]:
    """The gateway on a real loopback port (uvicorn, httptools), in this event loop."""
    gateway = Gateway(settings)
    port = free_port()
    config = uvicorn.Config(
        gateway,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        http="httptools",
        loop="none",
        interface="asgi3",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]  # older uvicorn
    url = f"http://127.0.0.1:{port}"
    async with serving(server, "gateway"), httpx.AsyncClient(base_url=url, timeout=30) as client:
        yield RunningGateway(gateway, url, client)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
