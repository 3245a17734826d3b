"""Concurrency through the gateway with real Keycloak tokens (issue #4): two officers deciding with the same
If-Match, approvals racing for a call's budget, parallel submissions taking dossier numbers, Idempotency-Key
retries. Requests are fired at once with asyncio and httpx.AsyncClient; the per-user bursts stay well under the
test gateway's rate limit (100 requests/s, burst 200)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import psycopg
from e2e_helpers import (
    DOSSIER,
    HANOISTEEL,
    THANGLONG,
    Api,
    application_body,
    assert_problem,
    if_match,
)


def _burst(api: Api, requests: list[tuple[str, str, dict[str, str], Any]]) -> list[httpx.Response]:
    """Send every (method, path, headers, json) at once on fresh connections; answers in the same order."""

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=60, limits=limits) as client:
            return await asyncio.gather(
                *[client.request(method, path, headers=headers, json=body) for method, path, headers, body in requests]
            )

    return asyncio.run(run())


def test_two_officers_deciding_at_once_with_the_same_if_match_exactly_one_wins(api: Api) -> None:
    application = api.reviewed(api.submitted(api.call()))
    url = f"/api/v1/applications/{application['id']}/decision"
    results = _burst(
        api,
        [
            (
                "POST",
                url,
                if_match(api.h("officer1"), application["version"]),
                {"outcome": "approve", "reason": "Đạt, đề nghị hỗ trợ."},
            ),
            (
                "POST",
                url,
                if_match(api.h("officer2"), application["version"]),
                {"outcome": "reject", "reason": "Không phù hợp ưu tiên đợt này."},
            ),
        ],
    )
    assert sorted(r.status_code for r in results) == [200, 412], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    assert_problem(next(r for r in results if r.status_code == 412), 412)
    final = api.get(application)
    assert final["status"] == winner["status"] and final["version"] == application["version"] + 1
    decisions = [e for e in api.history(application) if e["action"].startswith("decide")]
    assert len(decisions) == 1 and decisions[0]["to_status"] == winner["status"]
    event = {"approved": "application.approved", "rejected": "application.rejected"}[winner["status"]]
    assert api.outbox_types(application["id"])[-1] == event
    assert sum(t in ("application.approved", "application.rejected") for t in api.outbox_types(application["id"])) == 1
    if winner["status"] == "approved":
        assert api.get_call(winner["call_id"])["committed_vnd"] == winner["approved_support_vnd"]


def test_twenty_concurrent_approvals_against_a_budget_for_ten(api: Api) -> None:
    award = 800_000_000
    call = api.call(budget_vnd=10 * award, min_reviews=1)
    applications = [api.submitted(call, (HANOISTEEL, THANGLONG)[i % 2]) for i in range(20)]
    for application in applications:
        api.review(application, "reviewer1")  # the call needs one review
    applications = [api.get(a) for a in applications]

    committed_seen: list[int] = []

    async def run() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=30, max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=str(api.client.base_url), timeout=60, limits=limits) as client:
            done = asyncio.Event()

            async def watch() -> None:  # the call's committed figure while the approvals run
                while not done.is_set():
                    seen = await client.get(f"/api/v1/calls/{call['id']}", headers=api.h("auditor1"))
                    committed_seen.append(seen.json()["committed_vnd"])
                    await asyncio.sleep(0.02)

            watcher = asyncio.ensure_future(watch())
            try:
                return await asyncio.gather(
                    *[
                        client.post(
                            f"/api/v1/applications/{a['id']}/decision",
                            json={"outcome": "approve", "reason": "Đạt, trong giới hạn ngân sách đợt."},
                            headers=if_match(api.h("officer2"), a["version"]),
                        )
                        for a in applications
                    ]
                )
            finally:
                done.set()
                await watcher

    results = asyncio.run(run())
    codes = [r.status_code for r in results]
    assert codes.count(200) == 10 and codes.count(409) == 10, [r.text for r in results if r.status_code != 200]
    assert all(r.json()["approved_support_vnd"] == award for r in results if r.status_code == 200)
    for refused in (r for r in results if r.status_code == 409):
        assert assert_problem(refused, 409, "zero-support")["remaining_budget_vnd"] == 0

    assert committed_seen and max(committed_seen) <= 10 * award
    final = api.get_call(call["id"])
    assert final["committed_vnd"] == final["budget_vnd"] == 10 * award and final["remaining_vnd"] == 0
    approved = api.client.get(
        "/api/v1/applications",
        params={"call_id": call["id"], "status": "approved", "limit": 200},
        headers=api.h("officer1"),
    )
    assert len(approved.json()["items"]) == 10
    still = api.client.get(
        "/api/v1/applications",
        params={"call_id": call["id"], "status": "under_review", "limit": 200},
        headers=api.h("officer1"),
    )
    assert len(still.json()["items"]) == 10
    with psycopg.connect(api.stack.pg.dsn("cleanprod_applications")) as conn:
        budget, committed = conn.execute(
            "SELECT budget_vnd, committed_vnd FROM calls WHERE id = %s", (call["id"],)
        ).fetchone()
        awarded = conn.execute(
            "SELECT coalesce(sum(approved_support_vnd), 0) FROM applications "
            "WHERE call_id = %s AND status = 'approved'",
            (call["id"],),
        ).fetchone()[0]
    assert committed == budget == awarded == 10 * award


def test_fifty_parallel_submissions_get_fifty_distinct_dossier_codes(api: Api) -> None:
    call = api.call()
    owners = [(HANOISTEEL, THANGLONG)[i % 2] for i in range(50)]
    drafts = [api.draft(call, owner) for owner in owners]
    results = _burst(
        api,
        [
            (
                "POST",
                f"/api/v1/applications/{d['id']}/submit",
                if_match(api.h(owner), d["version"]),
                {"reason": "Nộp hồ sơ trực tuyến"},
            )
            for d, owner in zip(drafts, owners)
        ],
    )
    assert [r.status_code for r in results] == [200] * 50, [r.text for r in results if r.status_code != 200]
    codes = [r.json()["dossier_code"] for r in results]
    assert len(set(codes)) == 50
    matches = [DOSSIER.match(code) for code in codes]
    assert all(matches), codes
    days_seen = {m.group(1) for m in matches}
    if len(days_seen) == 1:  # the same Hanoi day: the daily sequence has no gaps and no repeats
        sequences = sorted(int(m.group(2)) for m in matches)
        assert sequences == list(range(sequences[0], sequences[0] + 50)), sequences
    assert {r.json()["status"] for r in results} == {"under_review"}
    # the codes are stored as answered
    for draft, code in list(zip(drafts, codes))[:5]:
        assert api.get(draft)["dossier_code"] == code


def test_idempotency_key_retry_on_create_gives_one_application(api: Api) -> None:
    call = api.call()
    body = application_body(call["id"], api.facility(THANGLONG)["id"], THANGLONG)
    key = str(uuid.uuid4())
    headers = api.h(THANGLONG, **{"Idempotency-Key": key})
    first = api.client.post("/api/v1/applications", json=body, headers=headers)
    assert first.status_code == 201, first.text
    retry = api.client.post("/api/v1/applications", json=body, headers=headers)
    assert retry.status_code == 201 and retry.headers.get("idempotent-replayed") == "true"
    assert retry.json()["id"] == first.json()["id"]
    # a client that retries several times at once (timeouts): still one application
    racing = _burst(api, [("POST", "/api/v1/applications", headers, body)] * 5)
    assert {r.status_code for r in racing} == {201}
    assert {r.json()["id"] for r in racing} == {first.json()["id"]}
    # the same key with another body is a client bug
    assert_problem(
        api.client.post("/api/v1/applications", json=body | {"title": "Một dự án khác"}, headers=headers), 422
    )
    listed = api.client.get(
        "/api/v1/applications", params={"call_id": call["id"], "limit": 200}, headers=api.h("officer1")
    )
    assert [a["id"] for a in listed.json()["items"]] == [first.json()["id"]]
    created = [e for e in api.history(first.json()) if e["action"] == "create"]
    assert len(created) == 1
    # another key is another application
    other = api.client.post(
        "/api/v1/applications", json=body, headers=api.h(THANGLONG, **{"Idempotency-Key": str(uuid.uuid4())})
    )
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]
