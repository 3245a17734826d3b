"""Calls (programme rounds): officers open and change them; everyone signed in reads them."""

from __future__ import annotations

import asyncio

import httpx
from applications_helpers import Actors, World, assert_problem, call_body, days, if_match


async def test_officer_opens_a_call_everyone_reads_it(client: httpx.AsyncClient, actors: Actors) -> None:
    body = call_body()
    created = await client.post("/api/v1/calls", json=body, headers=actors.officer())
    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"' and created.headers["location"].endswith(created.json()["id"])
    call = created.json()
    assert call["is_open"] is True and call["committed_vnd"] == 0 and call["remaining_vnd"] == 10_000_000_000
    assert call["criteria"][0] == {"code": "tech", "name": "Mức độ hoàn thiện công nghệ", "weight": 3, "max_score": 10}
    assert call["pass_score_pct"] == 60
    for headers in (actors.enterprise("0100109106"), actors.reviewer(), actors.auditor, actors.verifier, actors.egov):
        response = await client.get(f"/api/v1/calls/{call['id']}", headers=headers)
        assert response.status_code == 200 and response.json()["code"] == body["code"]
    listed = await client.get("/api/v1/calls", params={"code": body["code"]}, headers=actors.auditor)
    assert [c["id"] for c in listed.json()["items"]] == [call["id"]]


async def test_only_officers_write_calls(client: httpx.AsyncClient, actors: Actors) -> None:
    for headers in (actors.auditor, actors.enterprise("0100109106"), actors.reviewer()):
        assert_problem(await client.post("/api/v1/calls", json=call_body(), headers=headers), 403)
    assert_problem(await client.post("/api/v1/calls", json=call_body()), 401)


async def test_duplicate_code_conflicts(client: httpx.AsyncClient, actors: Actors) -> None:
    body = call_body()
    assert (await client.post("/api/v1/calls", json=body, headers=actors.officer())).status_code == 201
    problem = assert_problem(await client.post("/api/v1/calls", json=body, headers=actors.officer()), 409)
    assert problem["errors"][0]["field"] == "code"


async def test_bad_call_bodies_name_each_field(client: httpx.AsyncClient, actors: Actors) -> None:
    body = call_body(
        closes_on=days(-20),
        support_rate_bp=20_000,
        budget_vnd=1.5,
        min_reviews=0,
        criteria=[{"code": "a", "name": "A", "weight": 0, "max_score": 10}],
    )
    problem = assert_problem(await client.post("/api/v1/calls", json=body, headers=actors.officer()), 422)
    fields = {e["field"] for e in problem["errors"]}
    assert {"support_rate_bp", "budget_vnd", "min_reviews", "criteria.0.weight"} <= fields
    twice = call_body(criteria=[{"code": "a", "name": "A", "weight": 1, "max_score": 5}] * 2)
    assert_problem(await client.post("/api/v1/calls", json=twice, headers=actors.officer()), 422)
    backwards = call_body(opens_on=days(5), closes_on=days(1))
    assert_problem(await client.post("/api/v1/calls", json=backwards, headers=actors.officer()), 422)
    closed = assert_problem(
        await client.post(
            "/api/v1/calls", json=call_body(opens_on=days(-30), closes_on=days(-1)), headers=actors.officer()
        ),
        422,
    )
    assert closed["code"] == "call_already_closed" and closed["errors"][0]["field"] == "closes_on"
    closing_today = await client.post("/api/v1/calls", json=call_body(closes_on=days(0)), headers=actors.officer())
    assert closing_today.status_code == 201, closing_today.text
    early = await client.patch(
        f"/api/v1/calls/{closing_today.json()['id']}",
        json={"closes_on": days(-1)},
        headers=if_match(actors.officer(), closing_today.json()["version"]),
    )
    assert early.status_code == 200 and early.json()["is_open"] is False, "closing a call early is still an update"


async def test_update_needs_if_match_and_keeps_rules(client: httpx.AsyncClient, actors: Actors, world: World) -> None:
    call = await world.call(budget_vnd=1_000_000_000)
    url = f"/api/v1/calls/{call['id']}"
    assert_problem(await client.patch(url, json={"title": "Đợt 2"}, headers=actors.officer()), 428)
    ok = await client.patch(url, json={"title": "Đợt hỗ trợ bổ sung"}, headers=if_match(actors.officer(), 1))
    assert ok.status_code == 200 and ok.headers["etag"] == '"2"' and ok.json()["title"] == "Đợt hỗ trợ bổ sung"
    assert_problem(await client.patch(url, json={"title": "x"}, headers=if_match(actors.officer(), 1)), 412)
    assert_problem(await client.patch(url, json={"closes_on": days(-30)}, headers=if_match(actors.officer(), 2)), 422)
    assert_problem(await client.patch(url, json={"budget_vnd": None}, headers=if_match(actors.officer(), 2)), 422)
    assert_problem(await client.patch(url, json={"title": "x"}, headers=if_match(actors.auditor, 2)), 403)

    await world.approved(call=call)  # commits 800M of the 1 000M
    call_now = (await client.get(url, headers=actors.officer())).json()
    assert call_now["committed_vnd"] == 800_000_000 and call_now["version"] == 2  # committing does not bump it
    below = await client.patch(url, json={"budget_vnd": 700_000_000}, headers=if_match(actors.officer(), 2))
    assert assert_problem(below, 409)["errors"][0]["field"] == "budget_vnd"
    rubric = await client.patch(
        url,
        json={"criteria": [{"code": "x", "name": "X", "weight": 1, "max_score": 5}]},
        headers=if_match(actors.officer(), 2),
    )
    assert assert_problem(rubric, 409)["errors"][0]["code"] == "rubric_in_use"


async def test_idempotent_call_creation(client: httpx.AsyncClient, actors: Actors) -> None:
    body = call_body()
    headers = {**actors.officer(), "Idempotency-Key": f"call-{body['code']}"}
    responses = await asyncio.gather(*[client.post("/api/v1/calls", json=body, headers=headers) for _ in range(4)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1


async def test_open_on_filter_and_pagination(client: httpx.AsyncClient, actors: Actors, world: World) -> None:
    future = await world.call(opens_on=days(400), closes_on=days(430))
    page = await client.get("/api/v1/calls", params={"open_on": days(410), "limit": 200}, headers=actors.officer())
    assert future["id"] in [c["id"] for c in page.json()["items"]]
    today = await client.get("/api/v1/calls", params={"open_on": days(0), "limit": 200}, headers=actors.officer())
    assert future["id"] not in [c["id"] for c in today.json()["items"]]
    first = await client.get("/api/v1/calls", params={"limit": 1}, headers=actors.officer())
    second = await client.get(
        "/api/v1/calls", params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=actors.officer()
    )
    assert first.json()["items"][0]["id"] != second.json()["items"][0]["id"]
    assert_problem(await client.get("/api/v1/calls", params={"cursor": "garbage"}, headers=actors.officer()), 422)
