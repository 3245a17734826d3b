"""Real uvicorn servers on loopback ports for tests: in a thread of their own (for synchronous fixtures and
test doubles) or as a task in the test's event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any


def start_in_thread(server: Any, what: str, timeout: float = 10) -> threading.Thread:
    """Run the uvicorn server in a daemon thread; returns once it accepts connections."""
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start")
        time.sleep(0.02)
    return thread


def stop_thread(server: Any, thread: threading.Thread) -> None:
    server.should_exit = True
    thread.join(timeout=10)


@asynccontextmanager
async def serving(server: Any, what: str) -> AsyncIterator[None]:
    """Serve in this event loop for the length of the block (it stops the server and waits for it after)."""
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if not server.started:
        raise RuntimeError(f"{what} did not start")
    try:
        yield
    finally:
        server.should_exit = True
        await task
