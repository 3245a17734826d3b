"""Gateway test set-up: two echo upstreams (registry, applications) on real loopback ports, the verification
upstream pointed at a closed port (down), and the gateway itself served by uvicorn in the test's event loop."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from gateway_helpers import RunningGateway, gateway_settings, serve_gateway
from gateway_upstream import Upstream

from cleanprod_gateway.settings import GatewaySettings
from cleanprod_kit.testing.issuer import TestIssuer


@pytest.fixture(scope="session")
def registry_upstream() -> Iterator[Upstream]:
    upstream = Upstream("registry").start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="session")
def applications_upstream() -> Iterator[Upstream]:
    upstream = Upstream("applications").start()
    yield upstream
    upstream.stop()


@pytest.fixture(scope="session")
async def gw(
    issuer: TestIssuer, registry_upstream: Upstream, applications_upstream: Upstream
) -> AsyncIterator[RunningGateway]:
    async with serve_gateway(gateway_settings(issuer, registry_upstream, applications_upstream)) as running:
        yield running


@pytest.fixture
def make_settings(issuer: TestIssuer, registry_upstream: Upstream, applications_upstream: Upstream) -> Any:
    def make(**overrides: Any) -> GatewaySettings:
        return gateway_settings(issuer, registry_upstream, applications_upstream, **overrides)

    return make
