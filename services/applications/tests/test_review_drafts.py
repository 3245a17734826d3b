"""Draft reviews (issue #14): a reviewer saves a half-finished score sheet and comes back; only the submitted
review counts (min_reviews, mean score, four-eyes); scores are checked on save and on submit; only the reviewer
ever sees the draft; a submitted review never goes back to draft; a recused reviewer cannot save one."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from applications_helpers import Actors, World, assert_problem, if_match


def _url(application: dict[str, Any], rest: str = "") -> str:
    return f"/api/v1/applications/{application['id']}/reviews/draft{rest}"


async def _declared(world: World, reviewers: tuple[int, ...] = (1,)) -> dict[str, Any]:
    application = await world.submitted()
    for n in reviewers:
        await world.assign(application, n)
        assert (await world.declare(application, n)).status_code == 201
    return application


async def test_save_come_back_and_submit(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await _declared(world, (1, 2))
    reviewer = actors.reviewer(1)
    first = await client.put(
        _url(application), headers=reviewer, json={"scores": [{"criterion": "tech", "score": 7.5}]}
    )
    assert first.status_code == 201, first.text
    assert first.headers["etag"] == '"1"'
    assert first.json()["missing"] == ["scores.saving", "recommendation", "comment"]
    assert first.json()["score_pct"] is None

    # Coming back: the sheet reads back as saved.
    again = await client.get(_url(application), headers=reviewer)
    assert again.status_code == 200 and again.json()["scores"] == [{"criterion": "tech", "score": 7.5}]
    assert again.headers["etag"] == '"1"'

    # A later save needs the draft's ETag.
    full = {
        "scores": [{"criterion": "tech", "score": 8}, {"criterion": "saving", "score": 4}],
        "recommendation": "approve",
        "comment": "Công nghệ phù hợp; cần bổ sung hóa đơn điện 12 tháng.",
    }
    assert_problem(await client.put(_url(application), headers=reviewer, json=full), 428)
    assert_problem(await client.put(_url(application), headers=if_match(reviewer, 7), json=full), 412)
    second = await client.put(_url(application), headers=if_match(reviewer, 1), json=full)
    assert second.status_code == 200, second.text
    assert second.json()["missing"] == [] and second.json()["score_pct"] == 80.0 and second.json()["version"] == 2

    # A draft does not count: the officer's view has no review yet, and a decision finds too few reviews.
    officer_view = (
        await client.get(f"/api/v1/applications/{application['id']}/reviews", headers=actors.officer())
    ).json()
    assert all(a["scores"] is None for a in officer_view)
    assert all("draft" not in key for a in officer_view for key in a)
    current = await world.get(application)
    assert current["review_summary"]["counted"] == 0
    decision = await client.post(
        f"/api/v1/applications/{application['id']}/decision",
        headers=if_match(actors.officer(9), current["version"]),
        json={"outcome": "approve", "reason": "Đạt điểm."},
    )
    assert_problem(decision, 409)
    assert decision.json()["code"] == "not_enough_reviews"

    # Submitting a stale draft version is refused; the current one becomes the review.
    assert_problem(await client.post(_url(application, "/submit"), headers=if_match(reviewer, 1)), 412)
    submitted = await client.post(_url(application, "/submit"), headers=if_match(reviewer, 2))
    assert submitted.status_code == 201, submitted.text
    review = submitted.json()
    assert review["score_pct"] == 80.0 and review["recommendation"] == "approve"
    assert review["comment"] == full["comment"]

    # It cannot go back to draft, and the draft is gone.
    assert_problem(await client.put(_url(application), headers=if_match(reviewer, 2), json=full), 409)
    assert (await client.put(_url(application), headers=reviewer, json=full)).json()["code"] == "already_reviewed"
    assert_problem(await client.get(_url(application), headers=reviewer), 404)

    # The second reviewer scores directly; now the decision counts both.
    assert (await world.score(application, 2)).status_code == 201
    current = await world.get(application)
    assert current["review_summary"]["counted"] == 2
    decided = await world.act(
        current, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt điểm, phù hợp mục tiêu."}
    )
    assert decided["status"] == "approved"


async def test_scores_are_checked_on_save_and_on_submit(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await _declared(world)
    reviewer = actors.reviewer(1)
    bad = await client.put(
        _url(application),
        headers=reviewer,
        json={"scores": [{"criterion": "tech", "score": 11}, {"criterion": "beauty", "score": 1}]},
    )
    problem = assert_problem(bad, 422)
    assert problem["code"] == "scores_invalid"
    assert {(e["field"], e["code"]) for e in problem["errors"]} == {
        ("scores.tech", "out_of_range"),
        ("scores.beauty", "unknown_criterion"),
    }
    assert_problem(await client.get(_url(application), headers=reviewer), 404)  # nothing was saved

    saved = await client.put(
        _url(application),
        headers=reviewer,
        json={"scores": [{"criterion": "saving", "score": 5}], "comment": "Đang xem hồ sơ kỹ thuật."},
    )
    assert saved.status_code == 201, saved.text
    incomplete = await client.post(
        _url(application, "/submit"), headers={**if_match(reviewer, 1), "Accept-Language": "vi"}
    )
    problem = assert_problem(incomplete, 422)
    assert problem["code"] == "review_incomplete"
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("scores.tech", "missing"),
        ("recommendation", "required"),
    ]
    assert "Chưa thể gửi phiếu chấm" in problem["detail"]
    # Nothing was counted.
    listed = (await client.get(f"/api/v1/applications/{application['id']}/reviews", headers=reviewer)).json()
    assert listed[0]["scores"] is None and listed[0]["reviewed_at"] is None


async def test_only_the_reviewer_sees_the_draft(client: httpx.AsyncClient, world: World, actors: Actors) -> None:
    application = await _declared(world, (1, 2))
    saved = await client.put(
        _url(application),
        headers=actors.reviewer(1),
        json={"scores": [{"criterion": "tech", "score": 3}], "comment": "Ghi chú nội bộ."},
    )
    assert saved.status_code == 201
    # The other reviewer has no draft of their own and never reads this one.
    assert_problem(await client.get(_url(application), headers=actors.reviewer(2)), 404)
    # Officers, auditors and the enterprise have no draft route at all.
    for headers in (actors.officer(), actors.auditor, world.owner(application)):
        assert_problem(await client.get(_url(application), headers=headers), 403)
    # Nor does the draft show in any of their views.
    for headers in (actors.officer(), actors.auditor, actors.reviewer(2)):
        text = (await client.get(f"/api/v1/applications/{application['id']}/reviews", headers=headers)).text
        assert "Ghi chú nội bộ" not in text
    history = (await client.get(f"/api/v1/applications/{application['id']}/history", headers=actors.officer())).text
    assert "Ghi chú nội bộ" not in history
    # A reviewer not assigned to the application does not learn it exists.
    assert_problem(await client.get(_url(application), headers=actors.reviewer(5)), 404)


async def test_a_recused_or_undeclared_reviewer_cannot_save_a_draft(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await world.submitted()
    await world.assign(application, 1)
    await world.assign(application, 2)
    undeclared = await client.put(_url(application), headers=actors.reviewer(2), json={"scores": []})
    assert assert_problem(undeclared, 409)["code"] == "declaration_required"
    assert (await world.declare(application, 1, conflict=True)).status_code == 201
    recused = await client.put(
        _url(application), headers=actors.reviewer(1), json={"scores": [{"criterion": "tech", "score": 5}]}
    )
    assert assert_problem(recused, 403)["code"] == "recused"


async def test_two_saves_with_one_version_have_one_winner(
    client: httpx.AsyncClient, world: World, actors: Actors
) -> None:
    application = await _declared(world)
    reviewer = actors.reviewer(1)
    assert (await client.put(_url(application), headers=reviewer, json={"scores": []})).status_code == 201
    answers = await asyncio.gather(
        *(
            client.put(
                _url(application), headers=if_match(reviewer, 1), json={"scores": [{"criterion": "tech", "score": n}]}
            )
            for n in (2, 3, 4)
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 412, 412]
    [winner] = [a for a in answers if a.status_code == 200]
    current = (await client.get(_url(application), headers=reviewer)).json()
    assert current["version"] == 2 and current["scores"] == winner.json()["scores"]
