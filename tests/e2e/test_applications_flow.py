"""Support applications end to end through the gateway with real Keycloak tokens (issue #4): the whole lifecycle
with each role doing its part, refused transitions, object-level access, closed calls, reviews and the four-eyes
rule, the approved amount's limits, and attachments."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import uuid
from typing import Any

import httpx
from e2e_helpers import (
    DOSSIER,
    HANOISTEEL,
    THANGLONG,
    Api,
    application_body,
    assert_problem,
    days,
    if_match,
    minimal_pdf,
    today,
    tranches,
)

TRANSITIONS = {
    "submit",
    "withdraw",
    "screen_pass",
    "screen_fail",
    "decide_approve",
    "decide_reject",
    "request_changes",
    "resubmit",
    "start",
    "complete",
    "record_verified",
    "record_not_achieved",
}
REVIEW_ENTRIES = {"assign_reviewer", "declare_conflict", "submit_review"}


# ---- the whole path -------------------------------------------------------------------------------------------


def test_whole_path_from_draft_to_completed_with_each_role(api: Api) -> None:
    facility = api.facility(HANOISTEEL)
    assert facility["sector_code"] == "steel" and facility["status"] == "active"

    # officer1 opens a call today (Hanoi calendar) with the facility's sector eligible
    call = api.call(officer="officer1", opens_on=today().isoformat(), eligible_sectors=[facility["sector_code"]])
    seen = api.get_call(call["id"], user=HANOISTEEL)
    assert seen["is_open"] is True and seen["committed_vnd"] == 0 and seen["remaining_vnd"] == 10_000_000_000

    # the enterprise prepares a draft for its own facility and submits it
    draft = api.draft(call, HANOISTEEL)
    assert draft["status"] == "draft" and draft["dossier_code"] is None and draft["egov_status"] is None
    assert draft["facility_id"] == facility["id"] and draft["enterprise_tax_code"] == "0100109106"
    assert {"submit", "withdraw"} <= set(draft["allowed_actions"])
    request_id = f"e2e-submit-{uuid.uuid4().hex}"
    response = api.client.post(
        f"/api/v1/applications/{draft['id']}/submit",
        json={"reason": "Nộp hồ sơ trực tuyến"},
        headers=if_match(api.h(HANOISTEEL, **{"X-Request-ID": request_id}), draft["version"]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request_id
    assert response.headers["etag"] == f'"{response.json()["version"]}"'
    submitted = response.json()
    assert submitted["status"] == "under_review" and submitted["egov_status"] == 4
    assert submitted["screening_reasons"] == []
    match = DOSSIER.match(submitted["dossier_code"])
    assert match, submitted["dossier_code"]
    # YYMMDD is the Hanoi date of the submission (a run across midnight may see yesterday's)
    assert match.group(1) in {today().strftime("%y%m%d"), (today() - dt.timedelta(days=1)).strftime("%y%m%d")}

    # officer1 assigns two reviewers; each declares no conflict and scores
    for reviewer in ("reviewer1", "reviewer2"):
        assigned = api.assign(submitted, reviewer, officer="officer1")
        assert assigned.status_code == 201, assigned.text
        assert assigned.json()["reviewer_username"] == reviewer
        declared = api.declare(submitted, reviewer)
        assert declared.status_code == 201 and declared.json()["recused"] is False, declared.text
        scored = api.score(submitted, reviewer)
        assert scored.status_code == 201, scored.text
        assert scored.json()["score_pct"] == 80.0
    reviewed = api.get(submitted, user="officer2")
    summary = reviewed["review_summary"]
    assert summary["counted"] == 2 and summary["mean_score_pct"] == 80.0 and summary["passed"] is True
    assert api.get(submitted, user=HANOISTEEL).get("review_summary") is None  # not for the enterprise

    # officer2 (not a reviewer) decides
    approved = api.act(
        reviewed,
        "decision",
        "officer2",
        json={"outcome": "approve", "reason": "Đạt 80 điểm, phù hợp mục tiêu chương trình."},
    )
    # min(requested 800M, 50 % × 2 000M, cap 2 000M, budget 10 000M) = the request itself
    assert approved["status"] == "approved" and approved["approved_support_vnd"] == 800_000_000
    assert approved["award_limit"] == "requested" and approved["decided_by"] == "officer2"
    money = tranches(approved)
    assert money["advance"]["amount_vnd"] == 240_000_000 and money["advance"]["status"] == "payable"
    assert money["balance"]["planned_vnd"] == 560_000_000 and money["balance"]["status"] == "withheld"
    assert money["balance"]["amount_vnd"] is None
    after = api.get_call(call["id"])
    assert after["committed_vnd"] == 800_000_000 and after["remaining_vnd"] == 9_200_000_000

    # the enterprise starts and completes the project
    started = api.act(approved, "start", HANOISTEEL, json={"reason": "Đã ký hợp đồng với nhà cung cấp."})
    assert started["status"] == "in_progress" and started["started_on"] == today().isoformat()
    completed = api.act(started, "completion", HANOISTEEL, json={"reason": "Đã nghiệm thu lắp đặt, vận hành."})
    assert completed["status"] == "completed" and completed["completed_on"] == today().isoformat()
    assert completed["dossier_code"] == submitted["dossier_code"]
    assert completed["version"] > approved["version"] > submitted["version"] > draft["version"]

    # the history lists every transition with actor, role and reason (auditor's view: everything)
    history = api.history(completed, user="auditor1")
    moves = [
        (e["action"], e["from_status"], e["to_status"], e["actor_name"], e["actor_role"], e["reason"])
        for e in history
        if e["action"] in TRANSITIONS
    ]
    assert moves == [
        ("submit", "draft", "submitted", HANOISTEEL, "enterprise", "Nộp hồ sơ trực tuyến"),
        (
            "screen_pass",
            "submitted",
            "under_review",
            "automatic screening",
            "service",
            "Eligible: call open, sector eligible, amounts within the call's rules.",
        ),
        (
            "decide_approve",
            "under_review",
            "approved",
            "officer2",
            "officer",
            "Đạt 80 điểm, phù hợp mục tiêu chương trình.",
        ),
        ("start", "approved", "in_progress", HANOISTEEL, "enterprise", "Đã ký hợp đồng với nhà cung cấp."),
        ("complete", "in_progress", "completed", HANOISTEEL, "enterprise", "Đã nghiệm thu lắp đặt, vận hành."),
    ]
    # the gateway's request id reaches the audit trail (the submit request also ran the screening)
    assert [e["request_id"] for e in history if e["action"] in ("submit", "screen_pass")] == [request_id] * 2
    subjects = {e["action"]: e["actor_subject"] for e in history}
    assert subjects["submit"] == api.subject(HANOISTEEL) and subjects["decide_approve"] == api.subject("officer2")
    assert all(e["at"] and e["request_id"] for e in history)
    actions = [e["action"] for e in history]
    assert actions[0] == "create" and actions.count("assign_reviewer") == 2
    assert actions.count("declare_conflict") == 2 and actions.count("submit_review") == 2
    # the enterprise's own view leaves out who reviewed it
    own = {e["action"] for e in api.history(completed, user=HANOISTEEL)}
    assert not own & REVIEW_ENTRIES and {"submit", "decide_approve", "complete"} <= own

    # one outbox event per transition, nothing for reviews
    assert api.outbox_types(completed["id"]) == [
        "application.submitted",
        "application.screening_passed",
        "application.approved",
        "application.started",
        "application.completed",
    ]
    assert len(api.outbox_types(completed["id"])) == len(moves)


def test_officer_may_record_the_start_and_only_the_enterprise_completes(api: Api) -> None:
    call = api.call()
    approved = api.approved(call, THANGLONG)
    started = api.act(approved, "start", "officer1", json={"reason": "Doanh nghiệp báo đã ký hợp đồng."})
    assert started["status"] == "in_progress"
    assert api.history(started)[-1]["actor_role"] == "officer"
    # completion is the enterprise's report: an officer is refused, the other enterprise cannot even see it
    assert_problem(api.post_action(started, "completion", "officer1"), 403)
    assert_problem(api.post_action(started, "completion", HANOISTEEL), 404)
    completed = api.act(started, "completion", THANGLONG)
    assert completed["status"] == "completed"


# ---- transitions not in the diagram -------------------------------------------------------------------------


def _refused(api: Api, application: dict[str, Any], action: str, user: str, body: Any = None) -> None:
    problem = assert_problem(api.post_action(application, action, user, body), 409, "illegal-transition")
    assert problem["status_now"] == application["status"], problem
    assert isinstance(problem["allowed_actions"], list)
    assert api.get(application)["version"] == application["version"]  # nothing moved


def test_every_transition_not_in_the_diagram_is_409(api: Api) -> None:
    call = api.call()
    decide = {"outcome": "approve", "reason": "Thử quyết định ngoài trình tự."}
    draft = api.draft(call)
    for action, user, body in (
        ("start", HANOISTEEL, None),
        ("completion", HANOISTEEL, None),
        ("resubmit", HANOISTEEL, None),
        ("decision", "officer2", decide),
    ):
        _refused(api, draft, action, user, body)

    under_review = api.act(draft, "submit", HANOISTEEL)
    assert under_review["status"] == "under_review"
    for action, user, body in (
        ("submit", HANOISTEEL, None),
        ("withdraw", HANOISTEEL, None),
        ("start", HANOISTEEL, None),
        ("completion", HANOISTEEL, None),
        ("resubmit", HANOISTEEL, None),
    ):
        _refused(api, under_review, action, user, body)

    reviewed = api.reviewed(under_review)
    approved = api.act(reviewed, "decision", "officer2", json=decide | {"reason": "Đạt."})
    for action, user, body in (
        ("submit", HANOISTEEL, None),
        ("withdraw", HANOISTEEL, None),
        ("completion", HANOISTEEL, None),
        ("decision", "officer1", decide),
    ):
        _refused(api, approved, action, user, body)

    completed = api.act(api.act(approved, "start", HANOISTEEL), "completion", HANOISTEEL)
    for action, user, body in (
        ("start", HANOISTEEL, None),
        ("completion", HANOISTEEL, None),
        ("submit", HANOISTEEL, None),
        ("decision", "officer1", decide),
    ):
        _refused(api, completed, action, user, body)

    withdrawn = api.act(api.draft(call), "withdraw", HANOISTEEL, json={"reason": "Nộp nhầm đợt."})
    assert withdrawn["status"] == "withdrawn"
    for action, user, body in (("submit", HANOISTEEL, None), ("withdraw", HANOISTEEL, None)):
        _refused(api, withdrawn, action, user, body)

    # and the refusals left no trace in the outbox
    assert api.outbox_types(completed["id"]) == [
        "application.submitted",
        "application.screening_passed",
        "application.approved",
        "application.started",
        "application.completed",
    ]
    assert api.outbox_types(withdrawn["id"]) == ["application.withdrawn"]


def test_changes_requested_then_resubmitted_keeps_the_dossier_code(api: Api) -> None:
    reviewed = api.reviewed(api.submitted(api.call(), THANGLONG))
    sent_back = api.act(
        reviewed,
        "decision",
        "officer2",
        json={"outcome": "request_changes", "reason": "Bổ sung báo giá của nhà cung cấp."},
    )
    assert sent_back["status"] == "changes_requested" and sent_back["egov_status"] == 5
    # the dossier is frozen while under review, open again for the supplement
    edited = api.client.patch(
        f"/api/v1/applications/{sent_back['id']}",
        json={"requested_support_vnd": 700_000_000},
        headers=if_match(api.h(THANGLONG), sent_back["version"]),
    )
    assert edited.status_code == 200, edited.text
    resubmitted = api.act(edited.json(), "resubmit", THANGLONG, json={"reason": "Đã bổ sung báo giá."})
    assert resubmitted["status"] == "under_review" and resubmitted["dossier_code"] == reviewed["dossier_code"]
    assert resubmitted["requested_support_vnd"] == 700_000_000
    assert api.outbox_types(reviewed["id"]) == [
        "application.submitted",
        "application.screening_passed",
        "application.changes_requested",
        "application.resubmitted",
        "application.screening_passed",
    ]


def test_transitions_need_if_match_and_refuse_a_stale_one(api: Api) -> None:
    draft = api.draft(api.call())
    url = f"/api/v1/applications/{draft['id']}/submit"
    assert_problem(api.client.post(url, headers=api.h(HANOISTEEL)), 428)
    assert_problem(api.client.post(url, headers=if_match(api.h(HANOISTEEL), draft["version"] + 5)), 412)
    assert api.get(draft)["status"] == "draft"


# ---- who may apply for what ---------------------------------------------------------------------------------


def test_enterprise_cannot_apply_for_or_see_another_enterprises_facility(api: Api) -> None:
    call = api.call()
    foreign = api.facility(HANOISTEEL)
    body = {**api_body(api, call, THANGLONG), "facility_id": foreign["id"]}
    refused = api.client.post("/api/v1/applications", json=body, headers=api.h(THANGLONG))
    problem = assert_problem(refused, (403, 404))
    assert problem["errors"][0]["field"] == "facility_id"
    mine = api.client.get("/api/v1/applications", params={"call_id": call["id"]}, headers=api.h(THANGLONG))
    assert mine.status_code == 200 and mine.json()["items"] == []

    # hanoisteel's own draft stays invisible and untouchable for thanglong
    draft = api.draft(call, HANOISTEEL)
    assert_problem(api.client.get(f"/api/v1/applications/{draft['id']}", headers=api.h(THANGLONG)), 404)
    assert_problem(api.post_action(draft, "submit", THANGLONG), 404)
    assert_problem(
        api.client.patch(
            f"/api/v1/applications/{draft['id']}",
            json={"title": "Chiếm hồ sơ"},
            headers=if_match(api.h(THANGLONG), draft["version"]),
        ),
        404,
    )
    assert_problem(api.client.get(f"/api/v1/applications/{draft['id']}/history", headers=api.h(THANGLONG)), 404)
    listed = api.client.get("/api/v1/applications", params={"call_id": call["id"]}, headers=api.h(THANGLONG))
    assert listed.json()["items"] == []
    # reviewers see only what they are assigned to
    assert_problem(api.client.get(f"/api/v1/applications/{draft['id']}", headers=api.h("reviewer3")), (403, 404))


def api_body(api: Api, call: dict[str, Any], enterprise: str) -> dict[str, Any]:
    return application_body(call["id"], api.facility(enterprise)["id"], enterprise)


def test_closed_call_refuses_new_drafts_and_screens_late_submissions_ineligible(api: Api) -> None:
    closed = api.call(opens_on=days(-40), closes_on=days(-1))
    assert api.get_call(closed["id"])["is_open"] is False
    refused = api.client.post("/api/v1/applications", json=api_body(api, closed, HANOISTEEL), headers=api.h(HANOISTEEL))
    problem = assert_problem(refused, 422)
    assert problem["errors"][0]["code"] == "call_closed" and problem["errors"][0]["field"] == "call_id"
    assert closed["code"] in problem["detail"]

    # a draft prepared while the call was open and submitted after it closed: filed, coded, refused with a reason
    call = api.call(opens_on=days(-20), closes_on=days(10))
    draft = api.draft(call, THANGLONG)
    patched = api.client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"closes_on": days(-1)},
        headers=if_match(api.h("officer1"), call["version"]),
    )
    assert patched.status_code == 200, patched.text
    screened = api.act(draft, "submit", THANGLONG)
    assert screened["status"] == "ineligible" and screened["egov_status"] == 3
    assert DOSSIER.match(screened["dossier_code"])
    assert [r["code"] for r in screened["screening_reasons"]] == ["call_closed"]
    assert api.outbox_types(draft["id"]) == ["application.submitted", "application.screening_failed"]


def test_screening_refuses_a_sector_the_call_does_not_cover(api: Api) -> None:
    call = api.call(eligible_sectors=["paper"])
    screened = api.act(api.draft(call, HANOISTEEL), "submit", HANOISTEEL)
    assert screened["status"] == "ineligible"
    assert [r["code"] for r in screened["screening_reasons"]] == ["sector_not_eligible"]
    assert screened["egov_status"] == 3 and DOSSIER.match(screened["dossier_code"])


# ---- reviews and decisions ----------------------------------------------------------------------------------


def test_reviewer_rules_recusal_four_eyes_and_too_few_reviews(api: Api) -> None:
    call = api.call()
    application = api.submitted(call, HANOISTEEL)
    app_url = f"/api/v1/applications/{application['id']}"

    # not assigned: cannot declare or score (and cannot even read the dossier)
    assert_problem(api.declare(application, "reviewer1"), (403, 404))
    assert_problem(api.score(application, "reviewer1"), (403, 404))

    for reviewer in ("reviewer1", "reviewer3"):
        assert api.assign(application, reviewer).status_code == 201
    # officer2 is assigned as a reviewer too (as a technical expert): that bars them from deciding
    officer_as_reviewer = api.client.post(
        f"{app_url}/assignments",
        headers=api.h("officer1"),
        json={"reviewer_subject": api.subject("officer2"), "reviewer_username": "officer2"},
    )
    assert officer_as_reviewer.status_code == 201, officer_as_reviewer.text

    # scoring before declaring is refused
    assert_problem(api.score(application, "reviewer1"), 409, "declaration-required")
    assert api.declare(application, "reviewer1").status_code == 201
    assert api.score(application, "reviewer1").status_code == 201
    assert_problem(api.score(application, "reviewer1"), 409, "already-reviewed")

    # reviewer3 declares a conflict: recused, cannot score, does not count
    recused = api.declare(application, "reviewer3", conflict=True)
    assert recused.status_code == 201 and recused.json()["recused"] is True
    assert_problem(api.score(application, "reviewer3"), (403, 409), "recused")
    assert_problem(api.declare(application, "reviewer3"), 409, "already-declared")

    current = api.get(application, user="officer1")
    assert current["review_summary"]["counted"] == 1 and current["review_summary"]["recused"] == 1
    # the decider who is a reviewer → 403, whatever the outcome
    for outcome in ("approve", "reject"):
        four_eyes = api.post_action(current, "decision", "officer2", {"outcome": outcome, "reason": "Tự quyết."})
        assert_problem(four_eyes, 403, "decider-is-reviewer")
    # another officer: one counted review where the call needs two → 409
    too_few = api.post_action(current, "decision", "officer1", {"outcome": "approve", "reason": "Đạt."})
    assert "2" in assert_problem(too_few, 409, "not-enough-reviews")["detail"]

    api.review(application, "reviewer2")
    ready = api.get(application, user="officer1")
    assert ready["review_summary"]["counted"] == 2
    # officer2 is still barred; officer1 (who only assigned the reviewers) may decide
    assert_problem(
        api.post_action(ready, "decision", "officer2", {"outcome": "approve", "reason": "Đạt."}),
        403,
        "decider-is-reviewer",
    )
    approved = api.act(ready, "decision", "officer1", json={"outcome": "approve", "reason": "Đủ hai ý kiến đạt."})
    assert approved["status"] == "approved"
    reviews = api.client.get(f"{app_url}/reviews", headers=api.h("auditor1")).json()
    assert {r["reviewer_username"]: r["recused"] for r in reviews} == {
        "reviewer1": False,
        "reviewer3": True,
        "officer2": False,
        "reviewer2": False,
    }


def test_a_mean_score_below_the_pass_score_cannot_be_approved(api: Api) -> None:
    application = api.submitted(api.call(pass_score_pct=90))
    application = api.reviewed(application)  # 80 % each
    assert_problem(
        api.post_action(application, "decision", "officer2", {"outcome": "approve", "reason": "x"}),
        409,
        "below-pass-score",
    )
    rejected = api.act(application, "decision", "officer2", json={"outcome": "reject", "reason": "Dưới 90 điểm."})
    assert rejected["status"] == "rejected" and rejected["tranches"] == []


# ---- the approved amount ------------------------------------------------------------------------------------


def _patch_call(api: Api, call: dict[str, Any], **changes: Any) -> dict[str, Any]:
    current = api.get_call(call["id"])
    response = api.client.patch(
        f"/api/v1/calls/{call['id']}", json=changes, headers=if_match(api.h("officer1"), current["version"])
    )
    assert response.status_code == 200, response.text
    return response.json()


def _approve(api: Api, application: dict[str, Any]) -> httpx.Response:
    return api.post_action(
        api.get(application), "decision", "officer2", {"outcome": "approve", "reason": "Đạt yêu cầu của đợt hỗ trợ."}
    )


def test_amount_limited_by_the_support_rate(api: Api) -> None:
    # Screening refuses a request above rate × eligible, so the rate binds when the officer lowers it afterwards.
    call = api.call(support_rate_bp=5_000)
    application = api.reviewed(api.submitted(call, eligible_cost_vnd=2_000_000_003))
    _patch_call(api, call, support_rate_bp=3_000)
    approved = _approve(api, application)
    assert approved.status_code == 200, approved.text
    # floor(30 % × 2 000 000 003) = 600 000 000 (rounded down, never above the published rate)
    assert approved.json()["approved_support_vnd"] == 600_000_000 and approved.json()["award_limit"] == "rate"
    assert tranches(approved.json())["advance"]["amount_vnd"] == 180_000_000


def test_amount_limited_by_the_cap_per_project(api: Api) -> None:
    call = api.call(cap_per_project_vnd=1_000_000_000)
    application = api.reviewed(api.submitted(call, THANGLONG))
    _patch_call(api, call, cap_per_project_vnd=500_000_000)
    approved = _approve(api, application)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_support_vnd"] == 500_000_000 and approved.json()["award_limit"] == "cap"
    assert api.get_call(call["id"])["committed_vnd"] == 500_000_000


def test_amount_limited_by_the_remaining_budget_then_exhausted(api: Api) -> None:
    call = api.call(budget_vnd=1_000_000_000)
    applications = [api.reviewed(api.submitted(call, enterprise)) for enterprise in (HANOISTEEL, THANGLONG, HANOISTEEL)]
    first = _approve(api, applications[0]).json()
    assert first["approved_support_vnd"] == 800_000_000 and first["award_limit"] == "requested"
    second = _approve(api, applications[1]).json()
    assert second["approved_support_vnd"] == 200_000_000 and second["award_limit"] == "budget"
    problem = assert_problem(_approve(api, applications[2]), 409, "zero-support")
    assert problem["remaining_budget_vnd"] == 0
    assert api.get(applications[2])["status"] == "under_review"
    final = api.get_call(call["id"])
    assert final["committed_vnd"] == final["budget_vnd"] == 1_000_000_000 and final["remaining_vnd"] == 0
    # the budget can no longer be cut below what is committed
    refused = api.client.patch(
        f"/api/v1/calls/{call['id']}",
        json={"budget_vnd": 900_000_000},
        headers=if_match(api.h("officer1"), final["version"]),
    )
    assert_problem(refused, 409)


# ---- attachments --------------------------------------------------------------------------------------------


def _multipart_stream(boundary: str, filename: str, size: int, head: bytes = b"%PDF-1.4\n"):
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nenergy_audit\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode()
    block = 1024 * 1024
    yield head + b"0" * (block - len(head))
    for _ in range(size // block - 1):
        yield b"0" * block
    yield f"\r\n--{boundary}--\r\n".encode()


def test_upload_above_the_limit_is_413_streamed_or_declared(api: Api) -> None:
    draft = api.draft(api.call())
    url = f"/api/v1/applications/{draft['id']}/documents"
    boundary = f"e2e-{uuid.uuid4().hex}"
    # 21 MiB as a chunked stream (no Content-Length): the limit is enforced on the bytes received
    content_type = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    streamed = api.client.post(
        url,
        content=_multipart_stream(boundary, "bao-cao.pdf", 21 * 1024 * 1024),
        headers=api.h(HANOISTEEL, **content_type),
    )
    problem = assert_problem(streamed, 413)
    assert problem["max_bytes"] == 20 * 1024 * 1024
    # with a declared Content-Length above the limit: refused at once
    declared = api.client.post(
        url,
        files={"file": ("bao-cao.pdf", b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024), "application/pdf")},
        headers=api.h(HANOISTEEL),
    )
    assert_problem(declared, 413)
    listed = api.client.get(url, headers=api.h(HANOISTEEL))
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_disguised_executable_is_415(api: Api) -> None:
    draft = api.draft(api.call())
    url = f"/api/v1/applications/{draft['id']}/documents"
    # A DOS/PE header: "MZ", the DOS stub, and at 0x80 the "PE\0\0" signature of a Windows executable.
    executable = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 44)
    executable += (0x80).to_bytes(4, "little")
    executable += b"This program cannot be run in DOS mode.\r\r\n$".ljust(0x80 - len(executable), b"\x00")
    executable += b"PE\x00\x00\x4c\x01\x03\x00" + b"\x00" * 4096
    for name in ("hoa-don.pdf", "hoa-don.exe"):
        refused = api.client.post(
            url, files={"file": (name, bytes(executable), "application/pdf")}, headers=api.h(HANOISTEEL)
        )
        assert_problem(refused, 415)
    # a PNG named .pdf is refused too: the name must say what the content is
    png = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
    assert_problem(
        api.client.post(url, files={"file": ("so-do.pdf", png, "application/pdf")}, headers=api.h(HANOISTEEL)), 415
    )
    assert api.client.get(url, headers=api.h(HANOISTEEL)).json()["items"] == []


def test_pdf_round_trip_is_byte_identical_and_private_to_its_enterprise(api: Api) -> None:
    draft = api.draft(api.call())
    url = f"/api/v1/applications/{draft['id']}/documents"
    pdf = minimal_pdf("Bao cao kiem toan nang luong nam 2025 - Thep Ha Noi")
    digest = hashlib.sha256(pdf).hexdigest()
    name = "Báo cáo kiểm toán năng lượng 2025.pdf"
    created = api.client.post(
        url,
        data={"kind": "energy_audit"},
        files={"file": (name, pdf, "application/pdf")},
        headers=api.h(HANOISTEEL, **{"Idempotency-Key": str(uuid.uuid4())}),
    )
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["sha256"] == digest and document["size_bytes"] == len(pdf) and document["filename"] == name
    assert document["media_type"] == "application/pdf" and document["kind"] == "energy_audit"

    for reader in (HANOISTEEL, "officer1", "auditor1"):
        download = api.client.get(f"{url}/{document['id']}", headers=api.h(reader))
        assert download.status_code == 200, download.text
        assert download.content == pdf and hashlib.sha256(download.content).hexdigest() == digest
        assert download.headers["etag"] == f'"{digest}"'
        assert download.headers["repr-digest"] == f"sha-256=:{base64.b64encode(bytes.fromhex(digest)).decode()}:"
        assert download.headers["content-type"].startswith("application/pdf")
        assert download.headers["x-content-type-options"] == "nosniff"
        disposition = download.headers["content-disposition"]
        assert disposition.startswith("attachment") and "filename*=utf-8''" in disposition.lower()

    # another enterprise: neither the file nor the list
    assert_problem(api.client.get(f"{url}/{document['id']}", headers=api.h(THANGLONG)), (403, 404))
    assert_problem(api.client.get(url, headers=api.h(THANGLONG)), (403, 404))
    # nor may it attach anything to the dossier
    assert_problem(
        api.client.post(url, files={"file": ("x.pdf", pdf, "application/pdf")}, headers=api.h(THANGLONG)), (403, 404)
    )
    history = api.history(draft, user=HANOISTEEL)
    assert [e["action"] for e in history].count("attach_document") == 1
    # while under review the dossier is frozen for the reviewers
    submitted = api.act(api.get(draft), "submit", HANOISTEEL)
    frozen = api.client.post(
        url, files={"file": ("phu-luc.pdf", minimal_pdf("Phu luc"), "application/pdf")}, headers=api.h(HANOISTEEL)
    )
    assert assert_problem(frozen, 409, "not-accepting-documents")["status_now"] == submitted["status"]
