"""The portal's HTTP protocol for uvicorn (`--http cleanprod_portal.server:HttpToolsProtocol`): uvicorn's httptools
protocol, but a response's head leaves in one write with the first piece of its body.

uvicorn writes the status line and headers as soon as the app sends `http.response.start`, and the body with the
next message — two system calls and two segments on the socket, so the browser (or the gateway's balancer) is woken
for the head alone and again for the page; on a busy machine the second write waited behind that wake-up (on the
page benchmark under load the head's write took ~0.75 ms at the median; docs/performance.md "Portal pages"). Holding the
head until the body arrives — in the same turn of the event loop for every page, which sends both at once — makes it
one write. A head with no body in that turn (a stream that is still preparing its first chunk) goes out at the end
of the turn. Nothing else changes: the same parser, the same flow control, keep-alive, pipelining and 100-continue.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http import httptools_impl


class _HeadWithBody:
    """The transport as one response's cycle sees it: the response head waits for the first body write."""

    def __init__(self, transport: asyncio.Transport, cycle: httptools_impl.RequestResponseCycle) -> None:
        self._transport = transport
        self._cycle = cycle
        self._head: bytes | None = None
        self._head_seen = False

    def write(self, data: bytes) -> None:
        # The head is the first write after the response started (a 100 Continue is written before that).
        if not self._head_seen and self._cycle.response_started:
            self._head_seen = True
            self._head = data
            asyncio.get_running_loop().call_soon(self._flush)
            return
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.writelines((head, data))  # one system call for both
            return
        self._transport.write(data)

    def _flush(self) -> None:
        if self._head is not None:
            head, self._head = self._head, None
            self._transport.write(head)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, …: the transport's own
        return getattr(self._transport, name)


class HttpToolsProtocol(httptools_impl.HttpToolsProtocol):
    def _start_asgi_task(self, cycle: httptools_impl.RequestResponseCycle, app: Any) -> None:
        cycle.transport = _HeadWithBody(cycle.transport, cycle)  # type: ignore[assignment]
        super()._start_asgi_task(cycle, app)
