"""What the portal adds to the API: response time of two enterprise pages beside the API calls they make.

Starts the whole system here (infra/devstack.py on free ports, a temporary folder, demo data; gateway rate limit
off), gives ent-hanoisteel 200 applications through the gateway (an officer's call, the enterprise's drafts, 80 of
them submitted), logs ent-hanoisteel into the portal on Keycloak's real login page (tests/e2e/portal_helpers.py),
then, one request at a time and interleaved so that drift hits all four alike (each page and its API calls in
alternating order: whichever runs first pays for what the other page left in the caches), measures N times:

  portal  GET /enterprise                     the dashboard (every application, what needs doing)
  API     the same gateway calls the dashboard makes, made the way it makes them (three in parallel; the list
          page by page), with the same access token (read from the portal's session table)
  portal  GET /enterprise/applications/{id}   a submitted application's page (timeline, documents, call)
  API     its gateway calls (application, history, documents and messages at once; the call and the supplement
          requests when the application is in, as the page does)

The API calls are replayed with the portal's own client (cleanprod_portal.api.Api: same headers, same
Accept-Language), and the bench checks in the gateway's access log, by request id, that a page view and its
replay made exactly the same calls. Times are wall-clock on loopback with one request in flight. Two figures per
page, both against the same API time (the replay's wall clock, i.e. what the page waits for):

  portal server time  the portal's `Server-Timing` (from the request reaching its application to the answer's
                      start: routing, session, the gateway calls, rendering) — the issue's "server time"; the goal
                      is that this adds ≤ 20 % to the API time
  portal round trip   the bench's own wall clock around the page: the server time plus the loopback hop to the
                      portal, uvicorn's parse, the write, and the bench's client reading the page

    .venv/bin/python bench/portal_pages.py [-n 200] [--applications 200] [--json]

Everything shares this machine's cores: read the figures as "on this machine", against the API measured in the
same run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import _common

from infra.devstack import Stack

ENTERPRISE, OFFICER = "ent-hanoisteel", "officer1"
SUBMITTED = 80  # of the applications, how many are submitted (the rest stay drafts)


@dataclass
class Series(_common.Series):
    portal_first: list[bool] = field(default_factory=list)  # per round: did the portal's request go first?


# ---- seeding ---------------------------------------------------------------------------------------------------
def password_token(stack: Stack, username: str) -> str:
    return _common.password_token(f"{stack.issuer}/protocol/openid-connect/token", username)


async def seed(stack: Stack, count: int) -> str:
    """`count` applications of ENTERPRISE on one call; returns the id of a submitted one."""
    import httpx
    from e2e_helpers import application_body, call_body

    officer = {"Authorization": f"Bearer {password_token(stack, OFFICER)}"}
    enterprise = {"Authorization": f"Bearer {password_token(stack, ENTERPRISE)}"}
    async with httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as http:
        call = await http.post(
            "/api/v1/calls",
            json=call_body(
                title="Đợt đo hiệu năng cổng thông tin", cap_per_project_vnd=5_000_000_000, budget_vnd=10**12
            ),
            headers=officer,
        )
        call.raise_for_status()
        facilities = (await http.get("/api/v1/facilities", headers=enterprise)).json()["items"]
        facility_id = facilities[0]["id"]
        submitted: list[str] = []
        semaphore = asyncio.Semaphore(8)

        async def one(i: int) -> None:
            async with semaphore:
                body = application_body(
                    call.json()["id"],
                    facility_id,
                    title=f"Dự án tiết kiệm năng lượng số {i + 1:03d} – lò nung và biến tần",
                )
                created = await http.post("/api/v1/applications", json=body, headers=enterprise)
                created.raise_for_status()
                if i < SUBMITTED:
                    done = await http.post(
                        f"/api/v1/applications/{created.json()['id']}/submit",
                        json={"reason": "Nộp hồ sơ"},
                        headers={**enterprise, "If-Match": f'"{created.json()["version"]}"'},
                    )
                    done.raise_for_status()
                    submitted.append(created.json()["id"])

        await asyncio.gather(*(one(i) for i in range(count)))
    return submitted[0]


# ---- the API calls each page makes (kept beside the routes: enterprise/routes.py, enterprise/applications.py) ----
async def dashboard_calls(api: Any) -> None:
    await asyncio.gather(
        api.all_pages("/applications/summaries", max_items=1000),
        api.get("/enterprises", limit=1),
        api.get("/facilities", limit=1),
    )


async def supplement_requests(api: Any, application: dict[str, Any]) -> None:
    from cleanprod_portal.messaging import supplement_requests as asked

    await asked(api, application)


async def application_page_calls(api: Any, application_id: str) -> None:
    # Since session 5 the page asks what needs only the id (history, documents, messages) beside the application,
    # and what the application names (its call, supplement requests) as soon as it is in.
    async def application_and_what_it_names() -> dict[str, Any]:
        application = await api.get(f"/applications/{application_id}")
        await asyncio.gather(api.get(f"/calls/{application['call_id']}"), supplement_requests(api, application))
        return application

    application, *_ = await asyncio.gather(
        application_and_what_it_names(),
        api.get(f"/applications/{application_id}/history", limit=200),
        api.all_pages(f"/applications/{application_id}/documents", limit=50, max_items=200),
        api.all_pages(f"/applications/{application_id}/messages", limit=200),
    )
    if application.get("verification_id"):
        await api.get(f"/verifications/{application['verification_id']}/result")


def gateway_calls(stack: Stack, request_id: str) -> list[str]:
    """The API calls the gateway logged for one request id, as sorted 'METHOD path' lines."""
    lines = (stack.log_dir / "gateway.log").read_text(encoding="utf-8").splitlines()
    calls = []
    for line in lines:
        if request_id in line:
            entry = json.loads(line)
            if entry.get("request_id") == request_id and entry.get("path"):
                calls.append(f"{entry['method']} {entry['path']}")
    return sorted(calls)


# ---- measuring ---------------------------------------------------------------------------------------------------
async def same_calls(stack: Stack, portal_get: Any, api_run: Any, pages: tuple[tuple[str, str, Any], ...]) -> list[str]:
    """One tagged page view and one tagged replay of each page, compared in the gateway's access log: the bench
    stops if the replay no longer makes the page's calls."""
    checks = []
    for label, path, calls in pages:
        portal_id, api_id = uuid.uuid4().hex, uuid.uuid4().hex
        await portal_get(path, portal_id)
        await api_run(calls, api_id)
        await asyncio.sleep(0.3)  # the access log line is written after the answer
        made, replayed = gateway_calls(stack, portal_id), gateway_calls(stack, api_id)
        if made != replayed:
            raise SystemExit(f"the {label} made {made} but the replay made {replayed}: update this bench")
        checks.append(f"{label}: {len(made)} gateway calls ({', '.join(dict.fromkeys(made))})")
    return checks


async def measure(stack: Stack, application_id: str, rounds: int, warmup: int) -> tuple[list[Series], list[str]]:
    import httpx
    import psycopg
    from portal_helpers import PortalUser

    from cleanprod_portal.api import Api

    user = PortalUser(stack.url("portal"), ENTERPRISE)  # Keycloak's real login page, code + PKCE
    cookie = user.client.cookies.get("cp_session")
    user.close()
    id_hash = hashlib.sha256(cookie.encode()).hexdigest()

    def session_token() -> str:
        with psycopg.connect(stack.pg.dsn("cleanprod_portal")) as conn:
            return conn.execute("SELECT access_token FROM portal_sessions WHERE id_hash = %s", (id_hash,)).fetchone()[0]

    page_path = f"/enterprise/applications/{application_id}"
    series = {
        name: Series(name)
        for name in (
            "portal  GET /enterprise (dashboard), round trip",
            "API     the dashboard's gateway calls",
            "portal  GET /enterprise/applications/{id}, round trip",
            "API     the application page's gateway calls",
            "portal  GET /enterprise, server time",
            "portal  GET /enterprise/applications/{id}, server time",
        )
    }
    names = list(series)
    checks: list[str] = []
    async with (
        httpx.AsyncClient(
            base_url=stack.url("portal"), cookies={"cp_session": cookie, "cp_lang": "vi"}, timeout=60
        ) as portal,
        httpx.AsyncClient(base_url=stack.url("gateway"), timeout=60) as gateway,
    ):
        server_seconds: list[float] = []  # the portal's Server-Timing of each portal_get, in order

        async def portal_get(path: str, request_id: str | None = None) -> float:
            started = time.perf_counter()
            response = await portal.get(path, headers={"X-Request-ID": request_id} if request_id else None)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (path, response.status_code, response.text[:500])
            name, _, took = response.headers["server-timing"].partition(";dur=")
            assert name == "app", response.headers["server-timing"]
            server_seconds.append(float(took) / 1000)
            return elapsed

        async def api_run(calls: Any, request_id: str | None = None) -> float:
            api = Api(gateway, session_token(), request_id)  # the token the portal holds now (refreshed by it)
            started = time.perf_counter()
            await calls(api)
            return time.perf_counter() - started

        def dashboard(api: Any) -> Any:
            return dashboard_calls(api)

        def application(api: Any) -> Any:
            return application_page_calls(api, application_id)

        checks += await same_calls(
            stack,
            portal_get,
            api_run,
            (("dashboard", "/enterprise", dashboard), ("application page", page_path, application)),
        )

        async def pair(path: str, calls: Any, portal_first: bool) -> list[float]:
            if portal_first:
                return [await portal_get(path), await api_run(calls)]
            api_seconds = await api_run(calls)
            return [await portal_get(path), api_seconds]

        for i in range(warmup + rounds):
            # Whichever of a pair runs first meets what the other page left behind in the gateway, the services and
            # PostgreSQL (their caches, the pages of other rows), and pays for it: with a fixed order, portal first,
            # that was 3-5 ms of the application page's p50 charged to the portal alone (measured both ways). So the
            # order alternates: each side runs first in half the rounds.
            portal_first = i % 2 == 0
            timings = [
                *await pair("/enterprise", dashboard, portal_first),
                *await pair(page_path, application, portal_first),
            ]
            timings += server_seconds[-2:]  # the dashboard's, then the application page's
            if i >= warmup:
                for name, seconds in zip(names, timings):
                    series[name].seconds.append(seconds)
                    series[name].portal_first.append(portal_first)
    return list(series.values()), checks


def report(results: list[Series], checks: list[str], args: argparse.Namespace, seed_seconds: float) -> None:
    portal_dash, api_dash, portal_app, api_app, server_dash, server_app = results
    ratios = {"dashboard": (server_dash, api_dash), "application page": (server_app, api_app)}
    round_trips = {"dashboard": (portal_dash, api_dash), "application page": (portal_app, api_app)}

    def both(pairs: dict[str, tuple[Series, Series]]) -> dict[str, dict[str, float]]:
        return {
            k: {"p50": round(_common.ratio(p, a, 50), 3), "p95": round(_common.ratio(p, a, 95), 3)}
            for k, (p, a) in pairs.items()
        }

    if args.json:
        print(
            json.dumps(
                {
                    "applications": args.applications,
                    "rounds": args.n,
                    "series": [s.row() for s in results],
                    "portal_server_time_over_api": both(ratios),
                    "portal_round_trip_over_api": both(round_trips),
                    "same_calls": checks,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    print(
        f"\ncleanprod portal pages — {ENTERPRISE} with {args.applications} applications "
        f"({min(SUBMITTED, args.applications)} submitted; "
        f"seeded in {seed_seconds:.0f}s), {args.n} rounds, one request in flight, {_common.shared_cores()}\n"
    )
    for line in checks:
        print(f"  same calls — {line}")
    print()
    print(_common.table(results, width=56))
    print()
    for label, (p, a) in ratios.items():
        over = [f"p{q}" for q in (50, 95) if _common.ratio(p, a, q) > 1.2]
        verdict = f"over the ≤ 20 % goal at {' and '.join(over)}" if over else "within the ≤ 20 % goal"
        print(f"{label:18s} portal server time ÷ API: {_common.ratio_text(p, a)} — {verdict}")
        rp, ra = round_trips[label]
        print(f"{'':18s} portal round trip ÷ API:  {_common.ratio_text(rp, ra)}")
        by_order = []
        for first, words in ((True, "portal first"), (False, "API first")):
            ps, as_ = (Series("", [x for x, f in zip(s.seconds, s.portal_first) if f is first]) for s in (p, a))
            if ps.seconds:
                by_order.append(f"{words} {_common.ratio(ps, as_, 50):.2f}")
        print(f"{'':18s} p50 ratio in the rounds with {', in those with '.join(by_order)}")


def main(argv: list[str]) -> None:
    parser = _common.parser(__doc__, keep=True, json=True)
    parser.add_argument("-n", type=int, default=200, help="measured rounds (default 200)")
    parser.add_argument("--warmup", type=int, default=10, help="rounds before measuring (default 10)")
    parser.add_argument("--applications", type=int, default=200, help="applications of the enterprise (default 200)")
    args = parser.parse_args(argv)

    quiet = {f"{p}LOG_LEVEL": "WARNING" for p in ("REGISTRY_", "APPLICATIONS_", "VERIFICATION_", "PORTAL_")}
    with (
        _common.workdir("cleanprod-bench-portal-", keep=args.keep) as workdir,
        _common.stack(workdir, {"GATEWAY_RATE_LIMIT_PER_SECOND": "0", **quiet}) as stack,
    ):
        application_id, seed_seconds = _common.timed(asyncio.run, seed(stack, args.applications))
        results, checks = asyncio.run(measure(stack, application_id, args.n, args.warmup))
        report(results, checks, args, seed_seconds)


if __name__ == "__main__":
    main(sys.argv[1:])
