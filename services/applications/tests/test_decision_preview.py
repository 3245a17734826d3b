"""GET /applications/{id}/decision/preview: the decision screen's figures, the same computation as the decision."""

from __future__ import annotations

from applications_helpers import Actors, World, assert_problem


async def _preview(world: World, application: dict, headers: dict[str, str], language: str = "en") -> dict:
    response = await world.client.get(
        f"/api/v1/applications/{application['id']}/decision/preview", headers={**headers, "Accept-Language": language}
    )
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    return response.json()


def _limits(preview: dict) -> dict[str, tuple[int, bool]]:
    return {item["limit"]: (item["amount_vnd"], item["binding"]) for item in preview["limits"]}


async def test_requested_binds_and_the_decision_awards_what_the_preview_said(world: World, actors: Actors) -> None:
    application = await world.reviewed()
    preview = await _preview(world, application, actors.officer(9))
    assert [item["limit"] for item in preview["limits"]] == ["requested", "rate", "cap", "budget"]
    assert preview["limit"] == "requested" and _limits(preview)["requested"][1] is True
    assert preview["award_vnd"] == _limits(preview)["requested"][0] == application["requested_support_vnd"]
    assert _limits(preview)["rate"][0] == application["eligible_cost_vnd"] * preview["support_rate_bp"] // 10_000
    assert preview["refusals"] == {"approve": None, "reject": None, "request_changes": None}
    decided = await world.act(application, "decision", actors.officer(9), json={"outcome": "approve", "reason": "Đạt"})
    assert decided["approved_support_vnd"] == preview["award_vnd"] and decided["award_limit"] == preview["limit"]


async def test_cap_binds(world: World, actors: Actors) -> None:
    application = await world.reviewed_then_cap_lowered()
    preview = await _preview(world, application, actors.officer(9))
    assert preview["limit"] == "cap" and preview["award_vnd"] == 500_000_000
    assert {k for k, (_, binding) in _limits(preview).items() if binding} == {"cap"}


async def test_four_eyes_and_too_few_reviews_are_told_in_the_callers_language(world: World, actors: Actors) -> None:
    application = await world.reviewed(reviewers=(1,))
    few = await _preview(world, application, actors.officer(9), "vi")
    assert {o: r["code"] for o, r in few["refusals"].items()} == dict.fromkeys(
        ("approve", "reject", "request_changes"), "not_enough_reviews"
    )
    assert "thẩm định" in few["refusals"]["approve"]["message"]
    await world.client.post(
        f"/api/v1/applications/{application['id']}/assignments",
        headers=actors.officer(),
        json={"reviewer_subject": "officer-3", "reviewer_username": "officer3"},
    )
    mine = await _preview(world, application, actors.officer(3), "en")
    assert mine["refusals"]["approve"]["code"] == "decider_is_reviewer"
    assert "another officer" in mine["refusals"]["approve"]["message"]


async def test_only_officers_preview(world: World, actors: Actors) -> None:
    application = await world.reviewed()
    url = f"/api/v1/applications/{application['id']}/decision/preview"
    assert_problem(await world.client.get(url, headers=actors.reviewer(1)), 403)
    assert_problem(await world.client.get(url, headers=world.owner(application)), 403)
    assert_problem(
        await world.client.get(
            "/api/v1/applications/00000000-0000-0000-0000-000000000000/decision/preview", headers=actors.officer()
        ),
        404,
    )
