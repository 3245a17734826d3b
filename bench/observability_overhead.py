"""What metrics and traces cost per request (docs/observability.md): apps called directly in one event loop, in
alternating rounds, the best round of each printed in microseconds per request. No network and no server: only
the observability code's own work is measured.

1. a trivial ASGI app, bare and under the kit's MetricsMiddleware;
2. a small FastAPI app (one route with a path parameter), bare, with the middleware, and with the middleware and
   tracing on (the kit's Tracing, spans kept in memory and dropped after each round) — what a service pays when
   `<P>TRACING_EXPORTER` is set. Tracing off costs nothing: nothing is installed (libs/kit/tests/test_tracing.py).

    .venv/bin/python bench/observability_overhead.py [--requests 50000] [--rounds 5]
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import _common
from fastapi import FastAPI

from cleanprod_kit.metrics import MetricsMiddleware
from cleanprod_kit.settings import ObservabilitySettings
from cleanprod_kit.tracing import Tracing, memory_exporter

SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "scheme": "http",
    "method": "GET",
    "path": "/api/v1/things/42",
    "raw_path": b"/api/v1/things/42",
    "root_path": "",
    "query_string": b"",
    "headers": [(b"host", b"bench")],
    "server": ("127.0.0.1", 8000),
    "client": ("127.0.0.1", 50000),
}
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


def fastapi_app(*, metered: bool, traced: bool) -> Any:
    app = FastAPI()

    @app.get("/api/v1/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    if metered:
        app.add_middleware(MetricsMiddleware)
    if traced:
        Tracing("bench", ObservabilitySettings(tracing_exporter="memory")).instrument_app(app)
    return app


async def started(app: Any) -> Any:
    """Run the app once so its middleware stack is built before timing."""
    await per_request_us(app, 10)
    return app


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
    # (label, app, what it is compared with)
    apps = [
        ("trivial ASGI app", trivial, None),
        ("  + MetricsMiddleware", MetricsMiddleware(trivial), "trivial ASGI app"),
        ("FastAPI, one route", await started(fastapi_app(metered=False, traced=False)), None),
        ("  + MetricsMiddleware ", await started(fastapi_app(metered=True, traced=False)), "FastAPI, one route"),
        (
            "  + MetricsMiddleware + tracing on",
            await started(fastapi_app(metered=True, traced=True)),
            "FastAPI, one route",
        ),
    ]
    runs: dict[str, list[float]] = {label: [] for label, _, _ in apps}
    for _ in range(args.rounds):
        for label, app, _ in apps:
            runs[label].append(await per_request_us(app, args.requests))
            memory_exporter().clear()
    best = {label: min(values) for label, values in runs.items()}
    print(f"{args.rounds} rounds x {args.requests} requests, best round ({_common.shared_cores()})")
    for label, _, base in apps:
        extra = f"  (+{best[label] - best[base]:.2f})" if base else ""
        print(f"  {label:36s} {best[label]:7.2f} us/request{extra}")


if __name__ == "__main__":
    asyncio.run(main())
