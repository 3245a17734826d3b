"""Two gateway processes sharing the stack's Redis (Debian's redis-server, started by devstack) together let one
client through at the configured rate, within 10 %, with a real Keycloak token (issue 11)."""

from __future__ import annotations

import concurrent.futures
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from infra.devstack import REPO_ROOT, Stack
from infra.ports import HOST, free_port
from infra.processes import spawn, stop, uvicorn_command, wait_http

RATE = 20


@pytest.fixture
def gateway_pair(stack: Stack) -> Iterator[list[str]]:
    if "redis" not in stack.processes:
        pytest.fail("devstack started no redis-server (apt-get install -y redis-server; ./cleanprod does as root)")
    env = {
        **stack.gateway_env(),
        **stack.extra_env,
        "GATEWAY_RATE_LIMIT_PER_SECOND": str(RATE),
        "GATEWAY_RATE_LIMIT_BURST": str(RATE),
        "GATEWAY_RATE_LIMIT_KEY_PREFIX": f"e2e-{uuid.uuid4().hex}",  # counters of their own in the shared Redis
        "GATEWAY_ACCESS_LOG": "false",
        "GATEWAY_METRICS_PORT": "0",  # the stack's gateway has the metrics port
    }
    assert env["GATEWAY_RATE_LIMIT_REDIS_URL"].startswith("redis://")
    processes, urls = [], []
    try:
        for n in range(2):
            port = free_port()
            command = uvicorn_command("cleanprod_gateway.main:create_app", port, "--no-proxy-headers")
            processes.append(spawn(command, env=env, log_file=stack.log_dir / f"gateway-pair-{n}.log", cwd=REPO_ROOT))
            urls.append(f"http://{HOST}:{port}")
        for url, process in zip(urls, processes, strict=True):
            wait_http(f"{url}/healthz", process, timeout=60)
        yield urls
    finally:
        for process in processes:
            stop(process)


def test_two_gateways_together_allow_the_configured_rate(gateway_pair: list[str], tokens) -> None:  # noqa: ANN001
    headers = tokens.headers("auditor1")
    clients = [httpx.Client(base_url=url, timeout=30) for url in gateway_pair]
    started = time.monotonic()
    seconds = 5.0

    def worker(n: int) -> list[tuple[float, int]]:
        seen = []
        i = n
        while time.monotonic() - started < seconds:
            response = clients[i % 2].get("/api/v1/me", headers=headers)
            i += 1
            seen.append((time.monotonic() - started, response.status_code))
        return seen

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = [r for seen in pool.map(worker, range(8)) for r in seen]
    finally:
        for client in clients:
            client.close()
    assert {status for _, status in results} == {200, 429}
    offered = len(results) / seconds
    assert offered > 3 * RATE, f"only {offered:.0f} requests/s offered: the test cannot show a limit"
    passed = sum(1 for at, status in results if 1.0 <= at < seconds and status == 200) / (seconds - 1.0)
    assert abs(passed - RATE) <= 0.1 * RATE, f"two gateways let {passed:.1f}/s through, configured {RATE}/s"
