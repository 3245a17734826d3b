"""What the metrics middleware (kit metrics.py) costs per request: the same trivial ASGI app called directly in one
event loop, bare and wrapped, in alternating rounds (the best round of each is printed, in microseconds per
request, with the difference). No network and no server: only the middleware's own work is measured.

    .venv/bin/python bench/observability_overhead.py [--requests 100000] [--rounds 5]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import _common

from cleanprod_kit.metrics import MetricsMiddleware

SCOPE: dict[str, Any] = {"type": "http", "method": "GET", "path": "/api/v1/things/42", "headers": []}
ROUTE = {"path_format": "/api/v1/things/{thing_id}"}


class _Route:
    path_format = ROUTE["path_format"]


async def trivial(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["route"] = _Route  # what Starlette's router records
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b""}


async def _send(message: dict[str, Any]) -> None:
    return None


async def per_request_us(app: Any, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        await app(dict(SCOPE), _receive, _send)
    return (time.perf_counter() - started) / requests * 1e6


async def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    wrapped = MetricsMiddleware(trivial)
    bare_runs, wrapped_runs = [], []
    for _ in range(args.rounds):
        bare_runs.append(await per_request_us(trivial, args.requests))
        wrapped_runs.append(await per_request_us(wrapped, args.requests))
    bare, metered = min(bare_runs), min(wrapped_runs)
    print(f"{args.rounds} rounds x {args.requests} requests, best round ({_common.shared_cores()})")
    print(f"  trivial ASGI app           {bare:6.2f} us/request")
    print(f"  + MetricsMiddleware        {metered:6.2f} us/request")
    print(f"  middleware cost            {metered - bare:6.2f} us/request")


if __name__ == "__main__":
    asyncio.run(main())
