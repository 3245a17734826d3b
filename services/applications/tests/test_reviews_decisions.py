"""Reviews (assignment, conflict declaration, scores) and decisions (four-eyes, minimum reviews, pass score,
the approved amount: min(requested, rate × eligible, cap, remaining budget))."""

from __future__ import annotations

import httpx
from applications_helpers import Actors, World, assert_problem, if_match


async def test_recused_reviewer_cannot_score(world: World) -> None:
    application = await world.submitted()
    await world.assign(application, 1)
    assert_problem(await world.score(application, 1), 409, "declaration-required")
    declared = await world.declare(application, 1, conflict=True)
    assert declared.status_code == 201 and declared.json()["recused"] is True
    assert_problem(await world.score(application, 1), 403, "recused")
    assert_problem(await world.declare(application, 1, conflict=False), 409, "already-declared")


async def test_only_assigned_reviewers_review(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await world.submitted()
    assert_problem(await world.declare(application, 5), 404)  # cannot even see it
    await world.assign(application, 1)
    response = await client.post(
        f"/api/v1/applications/{application['id']}/reviews/declaration",
        headers=actors.headers("reviewer", "officer", sub="officer-and-reviewer"),
        json={"conflict": False, "statement": "Không"},
    )
    assert_problem(response, 403, "not-assigned")
    assert_problem(
        await client.post(
            f"/api/v1/applications/{application['id']}/assignments",
            headers=actors.reviewer(1),
            json={"reviewer_subject": "reviewer-2", "reviewer_username": "reviewer2"},
        ),
        403,
    )
    duplicate = await client.post(
        f"/api/v1/applications/{application['id']}/assignments",
        headers=actors.officer(),
        json={"reviewer_subject": "reviewer-1", "reviewer_username": "reviewer1"},
    )
    assert_problem(duplicate, 409)


async def test_scores_must_fit_the_rubric(world: World) -> None:
    application = await world.submitted()
    await world.assign(application, 1)
    await world.declare(application, 1)
    bad = await world.score(application, 1, [{"criterion": "tech", "score": 11}, {"criterion": "bogus", "score": 1}])
    problem = assert_problem(bad, 422)
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("scores.tech", "out_of_range"),
        ("scores.bogus", "unknown_criterion"),
        ("scores.saving", "missing"),
    }
    assert_problem(
        await world.score(application, 1, [{"criterion": "tech", "score": "8"}, {"criterion": "saving", "score": 4}]),
        422,
    )
    ok = await world.score(application, 1, [{"criterion": "tech", "score": 7.5}, {"criterion": "saving", "score": 5}])
    assert ok.status_code == 201 and ok.json()["score_pct"] == 81.25  # (22.5 + 10) / 40
    assert_problem(await world.score(application, 1), 409, "already-reviewed")


async def test_reviews_listing(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await world.reviewed()
    url = f"/api/v1/applications/{application['id']}/reviews"
    assert len((await client.get(url, headers=actors.officer())).json()) == 2
    assert len((await client.get(url, headers=actors.auditor)).json()) == 2
    own = (await client.get(url, headers=actors.reviewer(1))).json()
    assert [r["reviewer_subject"] for r in own] == ["reviewer-1"]
    assert_problem(await client.get(url, headers=world.owner(application)), 403)


async def test_decider_who_reviewed_is_refused(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await world.reviewed()
    # officer-3 is assigned as a reviewer too (recused), then tries to decide: four-eyes
    await client.post(
        f"/api/v1/applications/{application['id']}/assignments",
        headers=actors.officer(),
        json={"reviewer_subject": "officer-3", "reviewer_username": "officer3"},
    )
    application = await world.get(application)
    response = await client.post(
        f"/api/v1/applications/{application['id']}/decision",
        json={"outcome": "approve", "reason": "Đạt"},
        headers=if_match(actors.officer(3), application["version"]),
    )
    assert_problem(response, 403, "decider-is-reviewer")


async def test_too_few_reviews_is_409(world: World, actors: Actors) -> None:
    application = await world.reviewed(reviewers=(1,))
    for outcome in ("approve", "reject", "request_changes"):
        response = await world.client.post(
            f"/api/v1/applications/{application['id']}/decision",
            json={"outcome": outcome, "reason": "x"},
            headers=if_match(actors.officer(9), application["version"]),
        )
        assert_problem(response, 409, "not-enough-reviews")
    # a recused reviewer does not count
    await world.assign(application, 2)
    await world.declare(application, 2, conflict=True)
    application = await world.get(application)
    response = await world.client.post(
        f"/api/v1/applications/{application['id']}/decision",
        json={"outcome": "approve", "reason": "x"},
        headers=if_match(actors.officer(9), application["version"]),
    )
    assert_problem(response, 409, "not-enough-reviews")


async def test_below_pass_score_cannot_be_approved_but_can_be_rejected(world: World, actors: Actors) -> None:
    application = await world.submitted()
    for n in (1, 2):
        await world.assign(application, n)
        await world.declare(application, n)
        await world.score(application, n, [{"criterion": "tech", "score": 5}, {"criterion": "saving", "score": 2}])
    application = await world.get(application)  # (15 + 4) / 40 = 47.5 % < 60 %
    refused = await world.client.post(
        f"/api/v1/applications/{application['id']}/decision",
        json={"outcome": "approve", "reason": "x"},
        headers=if_match(actors.officer(9), application["version"]),
    )
    assert_problem(refused, 409, "below-pass-score")
    rejected = await world.act(
        application, "decision", actors.officer(9), json={"outcome": "reject", "reason": "Điểm thấp hơn ngưỡng."}
    )
    assert rejected["status"] == "rejected" and rejected["review_score_pct"] == 47.5
    assert rejected["approved_support_vnd"] is None and rejected["tranches"] == []


async def test_decision_needs_if_match_and_a_reason(world: World, actors: Actors) -> None:
    application = await world.reviewed()
    url = f"/api/v1/applications/{application['id']}/decision"
    assert_problem(
        await world.client.post(url, json={"outcome": "approve", "reason": "x"}, headers=actors.officer(9)), 428
    )
    assert_problem(
        await world.client.post(
            url, json={"outcome": "approve"}, headers=if_match(actors.officer(9), application["version"])
        ),
        422,
    )
    assert_problem(
        await world.client.post(
            url, json={"outcome": "approve", "reason": "x"}, headers=if_match(actors.officer(9), 1)
        ),
        412,
    )
    assert_problem(
        await world.client.post(
            url, json={"outcome": "approve", "reason": "x"}, headers=if_match(actors.auditor, application["version"])
        ),
        403,
    )


async def _approve(world: World, actors: Actors, call: dict, **draft: object) -> dict:
    application = await world.reviewed(call=call, **draft)
    return await world.act(application, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt"})


async def test_amount_limited_by_rate(world: World, actors: Actors) -> None:
    # Screening refuses a request above rate × eligible, so the rate binds only when the officer lowers the rate
    # after screening: 30 % × 2 000M = 600M < 800M requested.
    call = await world.call(support_rate_bp=5_000)
    application = await world.reviewed(call=call)
    changed = await world.client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"support_rate_bp": 3_000},
        headers=if_match(actors.officer(), call["version"]),
    )
    assert changed.status_code == 200
    approved = await world.act(application, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt"})
    assert approved["approved_support_vnd"] == 600_000_000 and approved["award_limit"] == "rate"


async def test_amount_limited_by_cap(world: World, actors: Actors) -> None:
    application = await world.reviewed_then_cap_lowered()
    approved = await world.act(application, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt"})
    assert approved["approved_support_vnd"] == 500_000_000 and approved["award_limit"] == "cap"


async def test_amount_limited_by_remaining_budget_then_exhausted(world: World, actors: Actors) -> None:
    call = await world.call(budget_vnd=1_000_000_000)
    first = await _approve(world, actors, call)
    assert first["approved_support_vnd"] == 800_000_000 and first["award_limit"] == "requested"
    second = await _approve(world, actors, call)
    assert second["approved_support_vnd"] == 200_000_000 and second["award_limit"] == "budget"
    third = await world.reviewed(call=call)
    refused = await world.client.post(
        f"/api/v1/applications/{third['id']}/decision",
        json={"outcome": "approve", "reason": "Đạt"},
        headers=if_match(actors.officer(9), third["version"]),
    )
    problem = assert_problem(refused, 409, "zero-support")
    assert problem["remaining_budget_vnd"] == 0
    call_now = (await world.client.get(f"/api/v1/calls/{call['id']}", headers=actors.officer())).json()
    assert call_now["committed_vnd"] == call_now["budget_vnd"] == 1_000_000_000


async def test_reviews_only_while_under_review(world: World, actors: Actors) -> None:
    draft = await world.draft()
    response = await world.client.post(
        f"/api/v1/applications/{draft['id']}/assignments",
        headers=actors.officer(),
        json={"reviewer_subject": "reviewer-1", "reviewer_username": "reviewer1"},
    )
    assert_problem(response, 409, "not-under-review")
    approved = await world.approved()
    assert_problem(await world.declare(approved, 1), 409, "not-under-review")
