"""devstack's redis-server (infra/redis_server.py): a recorded process on loopback that the gateway is pointed at;
without the program the gateway gets no Redis URL (per-process limits) and the stack still starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import redis_server
from infra.devstack import PROCESS_FILE, Ports, Stack


def test_devstack_starts_redis_and_points_the_gateway_at_it(tmp_path: Path) -> None:
    if not redis_server.redis_available():
        pytest.fail("needs Debian's redis-server: apt-get install -y redis-server (./cleanprod does as root)")
    stack = Stack(tmp_path, Ports.free(), environment="test")
    assert "GATEWAY_RATE_LIMIT_REDIS_URL" not in stack.gateway_env()
    stack.start_redis()
    try:
        assert redis_server.ping(stack.ports.redis)
        assert "redis" in json.loads((tmp_path / PROCESS_FILE).read_text())["processes"]
        assert stack.gateway_env()["GATEWAY_RATE_LIMIT_REDIS_URL"] == f"redis://127.0.0.1:{stack.ports.redis}/0"
    finally:
        stack.stop_process("redis")
    assert not redis_server.ping(stack.ports.redis)


def test_without_redis_server_the_gateway_limits_per_process(tmp_path: Path, monkeypatch, capsys) -> None:  # noqa: ANN001
    monkeypatch.setattr(redis_server, "REDIS_SERVER", "no-such-redis-server")
    stack = Stack(tmp_path, Ports.free(), environment="test")
    stack.start_redis()
    assert "redis" not in stack.processes
    assert "GATEWAY_RATE_LIMIT_REDIS_URL" not in stack.gateway_env()
    assert "the gateways limit rates per process" in capsys.readouterr().err
