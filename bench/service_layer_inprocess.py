"""CPU per request of the kit's request path without HTTP: one kit service app whose routes are served under its
one `ServiceLayer` (issue 16, session 7), and the same app under the four middlewares it replaced (metrics,
request id, header checks, body limit, stacked as create_service_app stacked them before), called as ASGI apps in
this one process, in alternating blocks (`time.process_time`).

The routes do no I/O (no database, no token): what differs is the layers. A GET (no body: the body limit does not
wrap it) and a POST with a small JSON body (read through the limit).

    .venv/bin/python bench/service_layer_inprocess.py [--requests 20000] [--block 500]
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import _common


def build(layered: bool) -> Any:
    from fastapi import APIRouter
    from starlette.middleware import Middleware

    from cleanprod_kit import metrics
    from cleanprod_kit.app import create_service_app
    from cleanprod_kit.headerchecks import HeaderCheckMiddleware
    from cleanprod_kit.limits import BodyLimitMiddleware
    from cleanprod_kit.requestid import RequestIdMiddleware
    from cleanprod_kit.settings import ServiceSettings

    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id, "tên": "Hà Nội"}

    @router.post("/things")
    async def add(body: dict[str, Any]) -> dict[str, int]:
        return {"keys": len(body)}

    settings = ServiceSettings(log_json=False, log_level="WARNING", log_requests=True, gc_threshold=0)
    app = create_service_app(settings, title="layers", routers=[router])
    if not layered:  # as create_service_app stacked them before (outermost first)
        app.user_middleware[:] = [
            Middleware(metrics.MetricsMiddleware),
            Middleware(RequestIdMiddleware, log_requests=settings.log_requests),
            Middleware(HeaderCheckMiddleware),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_json_body_bytes),
        ]
    app.middleware_stack = app.build_middleware_stack()
    return app


async def call(app: Any, method: str, path: str, body: bytes) -> int:
    headers = [(b"host", b"t"), (b"authorization", b"Bearer x.y.z"), (b"x-request-id", b"bench-1")]
    if body:
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("t", 80),
    }  # fmt: skip
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def measure(args: Any) -> dict[str, dict[str, list[float]]]:
    apps = {"four middlewares": build(layered=False), "one layer": build(layered=True)}
    body = json.dumps({"a": 1, "tên": "Hà Nội"}).encode()
    requests = (("GET", "/things/t-1", b""), ("POST", "/things", body))
    cpu: dict[str, dict[str, list[float]]] = {name: {"GET": [], "POST": []} for name in apps}
    for app in apps.values():  # warm up, and check both answer the same
        assert [await call(app, *r) for r in requests] == [200, 200]
    for _ in range(args.requests // args.block):
        for name, app in apps.items():
            for method, path, content in requests:
                started = time.process_time()
                for _ in range(args.block):
                    await call(app, method, path, content)
                cpu[name][method].append((time.process_time() - started) / args.block * 1e6)
    return cpu


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--requests", type=int, default=20000, help="requests per app and method (default 20000)")
    parser.add_argument("--block", type=int, default=500, help="requests per alternating block (default 500)")
    args = parser.parse_args()
    import logging

    logging.getLogger("cleanprod.access").setLevel(logging.WARNING)  # the same call in both, not written out
    cpu = asyncio.run(measure(args))
    print(f"kit request path in one process, {args.requests} requests per app and method; {_common.shared_cores()}")
    for method in ("GET", "POST"):
        old, new = (statistics.median(cpu[name][method]) for name in cpu)
        print(f"  {method:4s} four middlewares {old:6.1f} µs   one layer {new:6.1f} µs   saved {old - new:5.1f} µs")


if __name__ == "__main__":
    main()
