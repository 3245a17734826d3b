"""HTTP/1.1 over a plain socket, for tests that must send what no HTTP client library sends: the same header
twice, `Content-Length` with `Transfer-Encoding`, two `Host` headers. The answer is read up to its
Content-Length (or to EOF), so a test sees exactly what the server put on the wire."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass
class RawResponse:
    status: int
    headers: list[tuple[str, str]]  # names lower-case, in wire order
    body: bytes
    closed: bool  # the server closed the connection after this answer

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    def json(self) -> Any:
        return json.loads(self.body)


def request_bytes(method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def send_raw(host: str, port: int, data: bytes, timeout: float = 10.0) -> RawResponse | None:
    """Send `data` on a new connection and read one answer; None if the server closed without answering."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(read_response(reader), timeout)
    finally:
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass


async def answer_to(
    port: int, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b"", who: str = "server"
) -> RawResponse:
    """The answer on 127.0.0.1:`port` to a request written byte for byte (repeated headers stay repeated)."""
    response = await send_raw("127.0.0.1", port, request_bytes(method, path, headers, body))
    assert response is not None, f"the {who} closed the connection without an answer"
    return response


def assert_duplicate_refused(response: RawResponse, header: str, code: str = "duplicate_header") -> dict[str, Any]:
    """A 400 problem naming the repeated header, on a connection closed after it; the problem body."""
    assert response.status == 400, response
    assert response.header("content-type") == "application/problem+json"
    body = response.json()
    assert (body["code"], body["header"]) == (code, header), body
    assert response.closed  # Connection: close — nothing more is read from this connection
    return body


async def read_response(reader: asyncio.StreamReader) -> RawResponse | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = []
    for line in header_lines:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
    length = next((int(v) for k, v in headers if k == "content-length"), None)
    if length is not None:
        body = await reader.readexactly(length)
    elif any(k == "transfer-encoding" and "chunked" in v.lower() for k, v in headers):
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                break
            body += chunk[:-2]
    else:
        body = await reader.read()
    closed = any(k == "connection" and v.lower() == "close" for k, v in headers)
    if not closed:
        try:
            closed = await asyncio.wait_for(reader.read(1), 0.05) == b""
        except TimeoutError:
            closed = False
    return RawResponse(status, headers, body, closed)
