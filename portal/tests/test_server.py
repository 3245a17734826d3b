"""The portal's uvicorn protocol (server.py): a response's head leaves in one write with its body; everything
else as uvicorn does it."""

from __future__ import annotations

import asyncio
import socket

import httpx
import uvicorn

from cleanprod_portal.server import HttpToolsProtocol, _HeadWithBody


class RecordingTransport:
    def __init__(self) -> None:
        self.calls: list[tuple[str, bytes]] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.calls.append(("write", data))

    def writelines(self, parts) -> None:  # noqa: ANN001
        self.calls.append(("writelines", b"".join(parts)))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class Cycle:
    response_started = False


async def test_the_head_waits_for_the_body_and_both_go_in_one_write() -> None:
    transport, cycle = RecordingTransport(), Cycle()
    held = _HeadWithBody(transport, cycle)  # type: ignore[arg-type]
    held.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # before the response: at once
    cycle.response_started = True
    held.write(b"HTTP/1.1 200 OK\r\n\r\n")
    assert transport.calls == [("write", b"HTTP/1.1 100 Continue\r\n\r\n")]
    held.write(b"<html>")
    held.write(b"</html>")
    await asyncio.sleep(0)  # the end of the turn has nothing left to send
    assert transport.calls[1:] == [("writelines", b"HTTP/1.1 200 OK\r\n\r\n<html>"), ("write", b"</html>")]
    assert held.is_closing() is False  # the rest is the transport's own


async def test_a_head_without_a_body_in_the_same_turn_goes_at_the_end_of_the_turn_or_on_close() -> None:
    transport, cycle = RecordingTransport(), Cycle()
    held = _HeadWithBody(transport, cycle)  # type: ignore[arg-type]
    cycle.response_started = True
    held.write(b"HEAD")
    await asyncio.sleep(0)
    held.write(b"chunk")
    assert transport.calls == [("write", b"HEAD"), ("write", b"chunk")]
    other = RecordingTransport()
    closing = _HeadWithBody(other, cycle)  # type: ignore[arg-type]
    closing.write(b"HEAD")
    closing.close()
    assert other.calls == [("write", b"HEAD")] and other.closed


async def app(scope, receive, send) -> None:  # noqa: ANN001
    if scope["type"] != "http":
        return
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        for part in (b"m\xe1\xbb\x99t ", b"hai ", b"ba"):
            await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    body = ("Xin chào " + scope["path"]).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def test_a_real_server_with_the_protocol_answers_pages_streams_and_keeps_the_connection() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, http=HttpToolsProtocol, loop="asyncio", log_level="warning")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            first = await client.get("/trang-1")
            second = await client.get("/trang-2")  # the same kept-alive connection
            streamed = await client.get("/stream")
            posted = await client.post("/upload", content=b"x" * 100_000, headers={"Expect": "100-continue"})
    finally:
        server.should_exit = True
        await serving
    assert first.status_code == 200 and first.text == "Xin chào /trang-1"
    assert second.text == "Xin chào /trang-2" and second.headers["content-length"] == str(len(second.content))
    assert streamed.text == "một hai ba" and streamed.headers["transfer-encoding"] == "chunked"
    assert posted.status_code == 200 and posted.text == "Xin chào /upload"


def test_the_portal_is_started_with_this_protocol_by_devstack_and_the_image() -> None:
    from pathlib import Path

    import_string = "cleanprod_portal.server:HttpToolsProtocol"
    config = uvicorn.Config(app, http=import_string)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    root = Path(__file__).resolve().parents[2]
    assert f'"--http", "{import_string}"' in (root / "infra/devstack.py").read_text()
    assert f'"$SERVICE" = "portal" ]; then HTTP={import_string}' in (root / "infra/docker/entrypoint.sh").read_text()
