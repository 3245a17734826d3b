"""Cross-service tests: the real processes — PostgreSQL, Keycloak, the three services, the gateway and the portal — started
once per test session by the same `infra.devstack.Stack` that `./cleanprod up` uses, on free ports in a
temporary folder. Tokens come from Keycloak's password and client-credentials grants."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra import keycloak_server
from infra.devstack import Ports, Stack, replicas_from_env

# Processes per service, gateway and portal unless CLEANPROD_REPLICAS says otherwise. With 2 (two of each, two
# dispatchers per service, behind infra/balancer.py) every e2e and browser test passes; it takes ~10 minutes more
# on 2 cores, so the suite runs on one of each and tests/e2e/test_replicas.py starts a replicated stack of its
# own (`replicated_stack`). `CLEANPROD_REPLICAS=2 ./cleanprod test tests/e2e tests/browser` runs them all on two.
E2E_REPLICAS = 1


@contextlib.contextmanager
def e2e_stack(replicas: int) -> Iterator[Stack]:
    """The whole system as `./cleanprod up` starts it, on free ports in a temporary folder, tuned for tests."""
    data_dir = Path(tempfile.mkdtemp(prefix="cleanprod-e2e-"))
    # Small clock skew so a 5-second Keycloak token is really expired a few seconds later; quick JWKS refetch
    # so a rotated key is picked up within the test.
    tuning = {
        f"{prefix}CLOCK_SKEW_SECONDS": "2" for prefix in ("GATEWAY_", "REGISTRY_", "APPLICATIONS_", "VERIFICATION_")
    }
    tuning.update(
        {
            f"{prefix}JWKS_MIN_REFETCH_SECONDS": "1"
            for prefix in ("GATEWAY_", "REGISTRY_", "APPLICATIONS_", "VERIFICATION_")
        }
    )
    # The portal's pages reach the gateway as their users; with Redis the limit is a sliding window (burst per
    # burst/rate seconds), which a fast portal test can fill: well above what tests send, still reachable by the
    # rate-limit test's 1,000 requests.
    tuning.update(
        {"GATEWAY_RATE_LIMIT_PER_SECOND": "200", "GATEWAY_RATE_LIMIT_BURST": "400", "GATEWAY_READ_TIMEOUT": "10"}
    )
    # Quick webhook retries, so a receiver's failure is retried within the test (tests/e2e/test_replicas.py).
    tuning.update({"APPLICATIONS_WEBHOOK_RETRY_BASE_SECONDS": "0.2", "APPLICATIONS_WEBHOOK_RETRY_CAP_SECONDS": "2"})
    system = Stack(data_dir, Ports.free(), environment="test", demo_data=True, extra_env=tuning, replicas=replicas)
    try:
        system.start()
        yield system
    finally:
        system.stop()
        if os.environ.get("CLEANPROD_KEEP_E2E_DATA"):  # every process's log stays, to read after a failure
            print(f"end-to-end stack's data and logs kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    with e2e_stack(replicas_from_env(E2E_REPLICAS)) as system:
        yield system


@pytest.fixture(scope="session")
def replicated_stack(stack: Stack) -> Iterator[Stack]:
    """Two replicas of everything: the session's stack when it has them, else one started for the tests that
    need them (tests/e2e/test_replicas.py), beside it."""
    if stack.replicas >= 2:
        yield stack
        return
    with e2e_stack(2) as system:
        yield system


class Tokens:
    """Access tokens from the real Keycloak, cached per user for the session (refreshed when near expiry)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._cache: dict[str, tuple[str, float]] = {}

    @property
    def token_url(self) -> str:
        return f"{self.stack.issuer}/protocol/openid-connect/token"

    def password(
        self, username: str, password: str = keycloak_server.DEMO_PASSWORD, client_id: str = "cleanprod-cli"
    ) -> str:
        key = f"{client_id}:{username}"
        cached = self._cache.get(key)
        if cached and cached[1] > time.monotonic() + 30:
            return cached[0]
        response = httpx.post(
            self.token_url,
            data={"grant_type": "password", "client_id": client_id, "username": username, "password": password},
            timeout=30,
        )
        response.raise_for_status()
        body = response.json()
        self._cache[key] = (body["access_token"], time.monotonic() + body["expires_in"])
        return body["access_token"]

    def client(self, client_id: str) -> str:
        response = httpx.post(
            self.token_url,
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": keycloak_server.client_secret(client_id),
            },
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.password(username)}", **extra}


@pytest.fixture(scope="session")
def tokens(stack: Stack) -> Tokens:
    return Tokens(stack)


def gateway_client(system: Stack) -> httpx.Client:
    return httpx.Client(base_url=system.url("gateway"), timeout=30)


@pytest.fixture(scope="session")
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    with gateway_client(stack) as client:
        yield client


@pytest.fixture(scope="session")
def replicated_tokens(replicated_stack: Stack) -> Tokens:
    return Tokens(replicated_stack)


@pytest.fixture(scope="session")
def replicated_gateway(replicated_stack: Stack) -> Iterator[httpx.Client]:
    with gateway_client(replicated_stack) as client:
        yield client


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/tests/e2e/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.e2e)
    # Schemathesis writes random data through every operation (demo facilities renamed, closed, …): it runs after
    # every other test of the session, so none of them meets its data.
    items.sort(key=lambda item: item.fspath.basename == "test_schemathesis.py")
