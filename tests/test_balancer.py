"""The replicated dev stack's load balancer (infra/balancer.py) over real HTTP: requests of one kept-alive
connection go to the replicas in turn, bodies stream both ways unchanged, headers pass (Host, repeated
Set-Cookie), a replica that is down is skipped, and with none up the answer is a 503 problem+json."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from infra.ports import free_ports, port_open
from infra.processes import spawn, stop

ROOT = Path(__file__).resolve().parent.parent


class Replica:
    """A real HTTP server that says who it is, echoes what it got, and hashes uploads as they stream in."""

    def __init__(self, name: str, port: int) -> None:
        self.name = name
        self.port = port
        self.hosts: list[str] = []
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.hosts.append(request.headers.get("Host", ""))
        digest, size = hashlib.sha256(), 0
        async for chunk in request.content.iter_chunked(65536):
            digest.update(chunk)
            size += len(chunk)
        if request.path == "/download":
            response = web.StreamResponse(headers={"X-Replica": self.name})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for _ in range(64):
                await response.write(b"\x00\xff" * 32768)
            await response.write_eof()
            return response
        response = web.json_response(
            {
                "replica": self.name,
                "sha256": digest.hexdigest(),
                "size": size,
                "target": request.raw_path,
                "cookie": request.headers.get("Cookie"),
            },
            headers={"X-Replica": self.name},
        )
        response.set_cookie("a", "1")
        response.set_cookie("b", "2")
        return response

    async def start(self) -> Replica:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


@pytest.fixture
def ports() -> list[int]:
    return free_ports(4)  # front, replica 1, replica 2, a front with no replica up


@pytest.fixture
def balancer(ports: list[int], tmp_path: Path) -> Iterator[int]:
    front, one, two, empty = ports
    process = spawn(
        [
            sys.executable,
            "-m",
            "infra.balancer",
            "--listen",
            f"{front}=127.0.0.1:{one},127.0.0.1:{two}",
            "--listen",
            f"{empty}=127.0.0.1:{free_ports(1)[0]}",
        ],
        env={"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
        log_file=tmp_path / "balancer.log",
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 20
        while not (port_open(front) and port_open(empty)):
            assert process.poll() is None, (tmp_path / "balancer.log").read_text()
            assert time.monotonic() < deadline, "the balancer did not start"
            time.sleep(0.1)
        yield front
    finally:
        stop(process)


@pytest.fixture
async def replicas(ports: list[int]) -> AsyncIterator[list[Replica]]:
    servers = [await Replica("one", ports[1]).start(), await Replica("two", ports[2]).start()]
    yield servers
    for server in servers:
        await server.stop()


async def test_requests_of_one_connection_go_round_robin_with_bodies_and_headers(
    balancer: int, replicas: list[Replica]
) -> None:
    upload = os.urandom(3 * 1024 * 1024 + 17)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{balancer}", timeout=30) as client:
        answers: list[dict[str, Any]] = []
        for n in range(6):
            response = await client.post(f"/echo?n={n}&q=H%C3%A0%20N%E1%BB%99i", content=upload)
            assert response.status_code == 200
            assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
            answers.append(response.json())
        streamed = await client.get("/download")
    assert [a["replica"] for a in answers] == ["one", "two"] * 3
    assert all(a["sha256"] == hashlib.sha256(upload).hexdigest() and a["size"] == len(upload) for a in answers)
    assert answers[0]["target"] == "/echo?n=0&q=H%C3%A0%20N%E1%BB%99i"  # not re-encoded
    assert streamed.content == b"\x00\xff" * 32768 * 64
    assert {h for r in replicas for h in r.hosts} == {f"127.0.0.1:{balancer}"}  # Host names the front port


async def test_a_replica_that_is_down_is_skipped(balancer: int, replicas: list[Replica]) -> None:
    await replicas[1].stop()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{balancer}", timeout=30) as client:
        seen = [(await client.post("/echo", json={"tên": "Hà Nội"})).json()["replica"] for _ in range(4)]
    assert seen == ["one"] * 4


async def test_no_replica_up_is_a_503_problem(balancer: int, ports: list[int]) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[3]}", timeout=30) as client:
        english = await client.get("/api/v1/sectors")
        vietnamese = await client.get("/api/v1/sectors", headers={"Accept-Language": "vi"})
    assert english.status_code == 503 and english.headers["content-type"] == "application/problem+json"
    assert english.headers["retry-after"] == "1"
    assert english.json()["code"] == "service_unavailable" and english.json()["instance"] == "/api/v1/sectors"
    assert vietnamese.json()["title"] == "Dịch vụ tạm thời không khả dụng"


async def test_one_clients_cookies_never_reach_another(balancer: int, replicas: list[Replica]) -> None:
    """The balancer's own HTTP client is shared by every caller: it must not keep what a replica set for one."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{balancer}", timeout=30) as first:
        assert (await first.get("/echo")).headers.get_list("set-cookie")  # the replica sets a=1, b=2
        assert (await first.get("/echo")).json()["cookie"] == "a=1; b=2"  # the first client sends them back
    for _ in range(2):  # both replicas, each asked by a new client that holds no cookie
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{balancer}", timeout=30) as other:
            assert (await other.get("/echo")).json()["cookie"] is None


async def _raw_request(port: int, head: bytes) -> tuple[int, bytes]:
    """One request written byte for byte (httpx itself would refuse to send these headers): status and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


async def test_header_values_pass_without_surrounding_whitespace(balancer: int, replicas: list[Replica]) -> None:
    """`Authorization: Bearer ` (a fuzzer sends it) reached no replica: the outbound encoder refused the trailing
    space and the balancer answered 502. The whitespace is not part of the value (RFC 9110 §5.5)."""
    status, body = await _raw_request(
        balancer,
        b"GET /echo HTTP/1.1\r\nHost: front\r\nAuthorization: Bearer \r\nCookie:  a=1 \r\nConnection: close\r\n\r\n",
    )
    assert status == 200, body
    assert json.loads(body)["cookie"] == "a=1"


async def test_a_request_that_cannot_be_written_out_is_the_clients_400(replicas: list[Replica]) -> None:
    """A header value the outbound encoder refuses (a vertical tab, should the front server's parser let one
    through) is the client's fault: 400 problem+json in the client's language, and no replica is asked."""
    from infra.balancer import Balancer, Pool

    front = 8000
    balancer = Balancer({front: Pool([f"127.0.0.1:{replicas[0].port}"])})
    balancer.client = httpx.AsyncClient()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/echo",
        "raw_path": b"/echo",
        "query_string": b"",
        "server": ("127.0.0.1", front),
        "headers": [(b"host", b"front"), (b"x-odd", b"a\x0bb"), (b"accept-language", b"vi")],
    }
    try:
        await balancer(scope, receive, send)
    finally:
        await balancer.client.aclose()
    assert sent[0]["status"] == 400
    assert dict(sent[0]["headers"])[b"content-type"] == b"application/problem+json"
    problem = json.loads(sent[1]["body"])
    assert problem["code"] == "bad_request" and problem["instance"] == "/echo"
    assert problem["title"] == "Yêu cầu không hợp lệ"
    assert not replicas[0].hosts
