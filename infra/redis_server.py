"""Debian's real `redis-server` on loopback for dev and tests: the gateways' shared rate-limit counters
(gateway/ratelimit.py). Nothing is persisted (no RDB snapshots, no AOF): counters live for seconds.

`./cleanprod` installs the package with apt when it runs as root and it is missing (as it does Chromium); without it
`redis_available()` is false and the dev stack runs its gateways with per-process limits, saying so.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .ports import HOST

REDIS_SERVER = os.environ.get("CLEANPROD_REDIS_SERVER", "redis-server")


def redis_available() -> bool:
    return shutil.which(REDIS_SERVER) is not None


def command(port: int, directory: Path) -> list[str]:
    """redis-server on loopback only, without persistence, in the foreground."""
    return [
        REDIS_SERVER,
        "--bind",
        HOST,
        "--port",
        str(port),
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--protected-mode",
        "yes",
        "--loglevel",
        "warning",
    ]


def ping(port: int, timeout: float = 0.5) -> bool:
    """Whether a Redis server answers PING on the port (RESP inline command)."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def wait_ready(port: int, process: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not ping(port):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server did not answer on port {port} within {timeout:.0f}s")
        time.sleep(0.05)


@dataclass
class RedisServer:
    """A redis-server child process (tests start, stop and start it again on the same port)."""

    port: int
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            command(self.port, self.directory), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_ready(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
