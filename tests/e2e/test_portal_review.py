"""Reviewers and the officer's decision in the portal (issue 14), through the real stack: PostgreSQL, Keycloak's
real login page, the services, the gateway and the portal. People are httpx clients reading the rendered HTML
(tests/e2e/portal_helpers.py); applications are driven to `under_review` and reviewed through the API."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, Api, if_match
from portal_helpers import PortalUser, field_error, text_of

from infra.devstack import Stack

VERSION = re.compile(r'name="version" value="([^"]*)"')


@pytest.fixture(scope="module")
def call(api: Api) -> dict[str, Any]:
    return api.call(title="Đợt hỗ trợ sản xuất sạch hơn – thẩm định trên cổng (kiểm thử)")


def _login(stack: Stack, username: str, home: str, language: str = "vi") -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), username, language=language, home=home)
    yield user
    user.close()


@pytest.fixture(scope="module")
def reviewer1(stack: Stack) -> Iterator[PortalUser]:
    yield from _login(stack, "reviewer1", "/review")


@pytest.fixture(scope="module")
def reviewer3(stack: Stack) -> Iterator[PortalUser]:
    yield from _login(stack, "reviewer3", "/review")


@pytest.fixture(scope="module")
def officer1(stack: Stack) -> Iterator[PortalUser]:
    yield from _login(stack, "officer1", "/staff")


@pytest.fixture(scope="module")
def officer2(stack: Stack) -> Iterator[PortalUser]:
    yield from _login(stack, "officer2", "/staff")


def version_of(page: str) -> str:
    return VERSION.search(page)[1]


def reviews(api: Api, application: dict[str, Any]) -> dict[str, dict[str, Any]]:
    response = api.client.get(f"/api/v1/applications/{application['id']}/reviews", headers=api.h("officer1"))
    assert response.status_code == 200, response.text
    return {r["reviewer_username"]: r for r in response.json()}


# ---- reviewer ------------------------------------------------------------------------------------------------------
def test_reviewer_declares_saves_a_draft_comes_back_and_submits(
    api: Api, call: dict[str, Any], stack: Stack, reviewer1: PortalUser
) -> None:
    application = api.submitted(call)
    assert api.assign(application, "reviewer1").status_code == 201
    url = f"/review/{application['id']}"

    queue = reviewer1.get("/review")
    assert queue.status_code == 200 and f'href="{url}"' in queue.text
    assert "Cần khai báo xung đột lợi ích" in text_of(queue.text)

    # the declaration comes first: no score sheet before it
    page = reviewer1.get(url)
    assert 'id="declaration"' in page.text and 'id="score-form"' not in page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)[1]
    missing = reviewer1.post(f"{url}/declaration", {"idempotency_key": key, "statement": "Không có quan hệ."})
    assert missing.status_code == 422
    assert field_error(missing.text, "f-conflict") == "Hãy chọn bạn có hay không có xung đột lợi ích với hồ sơ này."
    assert 'href="#f-conflict"' in missing.text
    declared = reviewer1.post(
        f"{url}/declaration",
        {
            "idempotency_key": key,
            "conflict": "no",
            "statement": "Tôi không có quan hệ với doanh nghiệp, cơ sở hay nhà cung cấp công nghệ.",
        },
    )
    assert declared.status_code == 303, text_of(declared.text)

    # the dossier beside the rubric: one input per criterion with its weight and maximum
    page = reviewer1.get(url)
    assert 'id="dossier"' in page.text and 'id="score-form"' in page.text and 'class="review-layout"' in page.text
    for code, weight, top in (("tech", 3, 10), ("saving", 2, 5)):
        assert re.search(
            rf'id="f-scores-{code}"[^>]*data-weight="{weight}(\.0)?"[^>]*data-max="{top}(\.0)?"', page.text
        ), code
    assert "Trọng số 3 · từ 0 đến 10" in text_of(page.text)
    assert "/static/js/weighted-score.js" in page.text
    assert version_of(page.text) == ""

    # a half-finished sheet is saved as a draft (first save: no If-Match)
    saved = reviewer1.post(f"{url}/score", {"version": "", "scores.tech": "7,5", "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?saved=1#score-sheet")
    page = reviewer1.get(url)
    assert re.search(r'id="f-scores-tech"[^>]*value="7.5"', page.text) and 'id="draft-info"' in page.text
    version = version_of(page.text)
    assert version

    # what cannot be read, and what the API refuses, stand next to the field
    unreadable = reviewer1.post(
        f"{url}/score", {"version": version, "scores.tech": "7,5", "scores.saving": "bốn", "action": "save"}
    )
    assert unreadable.status_code == 422 and field_error(unreadable.text, "f-scores-saving")
    too_high = reviewer1.post(
        f"{url}/score", {"version": version, "scores.tech": "7,5", "scores.saving": "9", "action": "save"}
    )
    assert too_high.status_code == 422 and field_error(too_high.text, "f-scores-saving")
    assert 'href="#f-scores-saving"' in too_high.text  # in the error summary too

    # a stale version: the banner, the typed values kept, the current version to save again
    resaved = reviewer1.post(
        f"{url}/score", {"version": version, "scores.tech": "8", "scores.saving": "4", "action": "save"}
    )
    assert resaved.status_code == 303
    stale = reviewer1.post(f"{url}/score", {"version": version, "scores.tech": "6", "action": "save"})
    assert stale.status_code == 409 and "Hồ sơ vừa được thay đổi" in text_of(stale.text)
    assert re.search(r'id="f-scores-tech"[^>]*value="6"', stale.text)
    assert version_of(stale.text) not in ("", version)

    # come back later (a new login): the draft is there, with the API's weighted score (3·8 + 2·4)/40 = 80 %
    again = PortalUser(stack.url("portal"), "reviewer1", home="/review")
    try:
        page = again.get(url)
        assert re.search(r'id="f-scores-tech"[^>]*value="8"', page.text)
        assert re.search(r'id="f-scores-saving"[^>]*value="4"', page.text)
        assert re.search(r'id="weighted-score-value">80\u00a0%<', page.text)
        incomplete = again.post(
            f"{url}/score",
            {"version": version_of(page.text), "scores.tech": "8", "scores.saving": "4", "action": "submit"},
        )
        assert incomplete.status_code == 422, text_of(incomplete.text)  # no recommendation, no comment
        assert field_error(incomplete.text, "f-recommendation") == "Hãy chọn đề xuất của bạn."
        assert field_error(incomplete.text, "f-comment") == "Hãy nêu lý do đề xuất."
        submitted = again.post(
            f"{url}/score",
            {
                "version": version_of(incomplete.text),
                "scores.tech": "7,5",
                "scores.saving": "4",
                "recommendation": "approve",
                "comment": "Công nghệ phù hợp; mức tiết kiệm 8 % là khả thi.",
                "action": "submit",
            },
        )
        assert submitted.status_code == 303 and submitted.headers["location"].endswith("?submitted=1")
        done = again.get(submitted.headers["location"])
        assert 'id="submitted-review"' in done.text and 'id="score-form"' not in done.text
        assert "76,25\u00a0%" in done.text  # (22.5 + 8) / 40
    finally:
        again.close()
    mine = reviews(api, application)["reviewer1"]
    assert mine["reviewed_at"] and mine["score_pct"] == 76.25 and mine["recommendation"] == "approve"
    assert "Đã gửi ý kiến" in text_of(reviewer1.get("/review").text)


def test_reviewer_with_a_declared_conflict_cannot_score(api: Api, call: dict[str, Any], reviewer3: PortalUser) -> None:
    application = api.submitted(call)
    assert api.assign(application, "reviewer3").status_code == 201
    url = f"/review/{application['id']}"
    page = reviewer3.get(url)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)[1]
    declared = reviewer3.post(
        f"{url}/declaration",
        {"idempotency_key": key, "conflict": "yes", "statement": "Tôi từng làm tư vấn cho doanh nghiệp này năm 2025."},
    )
    assert declared.status_code == 303
    page = reviewer3.get(url)
    assert 'id="recused"' in page.text
    assert 'id="score-form"' not in page.text and 'name="scores.' not in page.text
    # a forged score sheet: the API refuses, the page says why and still has no form
    forged = reviewer3.post(
        f"{url}/score",
        {
            "version": "",
            "scores.tech": "10",
            "scores.saving": "5",
            "recommendation": "approve",
            "comment": "x",
            "action": "submit",
        },
    )
    assert forged.status_code == 403 and 'id="review-refused"' in forged.text
    assert 'id="score-form"' not in forged.text
    entry = reviews(api, application)["reviewer3"]
    assert entry["recused"] is True and entry["scores"] is None and entry["reviewed_at"] is None


def test_a_reviewer_sees_only_assigned_applications(api: Api, call: dict[str, Any], reviewer3: PortalUser) -> None:
    other = api.submitted(call)
    assert reviewer3.get(f"/review/{other['id']}").status_code == 404
    assert f"/review/{other['id']}" not in reviewer3.get("/review").text


# ---- decision ------------------------------------------------------------------------------------------------------
def _binding(page: str) -> set[str]:
    return set(re.findall(r'id="binding-(\w+)"', page))


def test_decision_screen_shows_the_requested_limit_binding_and_officer2_decides(
    api: Api, call: dict[str, Any], officer2: PortalUser
) -> None:
    application = api.reviewed(api.submitted(call))
    url = f"/decide/{application['id']}"
    page = officer2.get(url)
    assert page.status_code == 200, text_of(page.text)
    assert _binding(page.text) == {"requested"}
    assert re.search(r'id="limit-requested" class="limit--binding"', page.text)
    text = text_of(page.text)
    assert "800.000.000\u00a0₫" in text and "1.000.000.000\u00a0₫" in text  # requested; 50 % × 2 000M
    assert "xác định bởi số tiền đề nghị" in text  # the explanation of the binding limit
    assert "2 trên tối thiểu 2 cần có" in text and 'id="take-decision"' in page.text

    no_reason = officer2.post(url, {"version": version_of(page.text), "outcome": "approve"})
    assert no_reason.status_code == 422
    assert field_error(no_reason.text, "f-reason") == (
        "Hãy nêu lý do của quyết định: doanh nghiệp sẽ nhận được nội dung này."
    )
    stale = officer2.post(url, {"version": "1", "outcome": "approve", "reason": "Đạt"})
    assert stale.status_code == 409 and "Hồ sơ vừa được thay đổi" in text_of(stale.text)
    decided = officer2.post(
        url,
        {"version": version_of(page.text), "outcome": "approve", "reason": "Đạt điểm, phù hợp mục tiêu chương trình."},
    )
    assert decided.status_code == 303, text_of(decided.text)
    now = api.get(application)
    assert now["status"] == "approved" and now["approved_support_vnd"] == 800_000_000
    assert now["award_limit"] == "requested"
    after = officer2.get(decided.headers["location"])
    assert 'id="decision-taken"' in after.text and 'id="take-decision"' not in after.text


def test_decision_screen_shows_the_cap_binding(api: Api, officer2: PortalUser) -> None:
    capped = api.call(cap_per_project_vnd=1_000_000_000)
    application = api.reviewed(api.submitted(capped))
    changed = api.client.patch(
        f"/api/v1/calls/{capped['id']}",
        json={"cap_per_project_vnd": 500_000_000},
        headers=if_match(api.h("officer1"), capped["version"]),
    )
    assert changed.status_code == 200, changed.text
    page = officer2.get(f"/decide/{application['id']}")
    assert _binding(page.text) == {"cap"}
    assert re.search(r'id="award-amount"><span class="panel__big">500.000.000\u00a0₫', page.text)


def test_officer_who_reviewed_cannot_decide(api: Api, call: dict[str, Any], officer1: PortalUser) -> None:
    application = api.reviewed(api.submitted(call))
    assert api.assign(application, "officer1").status_code == 201  # officer1 is one of its reviewers too
    url = f"/decide/{application['id']}"
    page = officer1.get(url)
    assert 'id="four-eyes"' in page.text
    assert 'id="take-decision"' not in page.text and 'id="send-request-changes"' not in page.text
    assert "nguyên tắc bốn mắt" in text_of(page.text).lower()
    forged = officer1.post(
        url, {"version": str(api.get(application)["version"]), "outcome": "approve", "reason": "Tự duyệt"}
    )
    assert forged.status_code == 403 and 'id="decision-refused"' in forged.text
    assert "cần một cán bộ khác" in text_of(forged.text)
    assert api.get(application)["status"] == "under_review"


def test_request_changes_with_a_list_reaches_the_enterprise(
    api: Api, call: dict[str, Any], stack: Stack, officer2: PortalUser
) -> None:
    application = api.reviewed(api.submitted(call))
    url = f"/decide/{application['id']}"
    page = officer2.get(url)
    version = version_of(page.text)
    empty = officer2.post(f"{url}/request-changes", {"version": version, "rows": "3", "action": "send"})
    assert empty.status_code == 422 and field_error(empty.text, "f-changes-0")
    more = officer2.post(
        f"{url}/request-changes", {"version": version, "rows": "3", "action": "add", "changes.0": "Bổ sung báo giá"}
    )
    assert more.status_code == 200 and 'id="f-changes-3"' in more.text
    items = [
        "Bổ sung báo giá của ít nhất hai nhà cung cấp",
        "Tách chi phí lắp đặt khỏi chi phí thiết bị",
        "Nêu rõ phương pháp đo điện năng trước và sau dự án",
    ]
    sent = officer2.post(
        f"{url}/request-changes",
        {
            "version": version,
            "rows": "4",
            "action": "send",
            "note": "Sở đề nghị doanh nghiệp hoàn thiện hồ sơ:",
            "changes.0": items[0],
            "changes.1": items[1],
            "changes.2": "",
            "changes.3": items[2],
        },
    )
    assert sent.status_code == 303, text_of(sent.text)
    assert api.get(application)["status"] == "changes_requested"
    enterprise = PortalUser(stack.url("portal"), HANOISTEEL)
    try:
        seen = enterprise.get(f"/enterprise/applications/{application['id']}")
        listed = re.search(r'<ul class="list list--bullet" id="requested-changes-list">(.*?)</ul>', seen.text, re.S)
        assert listed, text_of(seen.text)
        assert re.findall(r"<li>(.*?)</li>", listed[1]) == items
        assert "Sở đề nghị doanh nghiệp hoàn thiện hồ sơ:" in text_of(seen.text)
    finally:
        enterprise.close()


def test_screens_render_in_english(api: Api, call: dict[str, Any], stack: Stack) -> None:
    application = api.submitted(call)
    assert api.assign(application, "reviewer2").status_code == 201
    reviewer = PortalUser(stack.url("portal"), "reviewer2", language="en", home="/review")
    officer = PortalUser(stack.url("portal"), "officer2", language="en", home="/staff")
    try:
        queue = text_of(reviewer.get("/review").text)
        assert "Applications to review" in queue and "Declare conflicts first" in queue
        page = text_of(reviewer.get(f"/review/{application['id']}").text)
        assert "Do you have a conflict of interest with this application?" in page
        decision = officer.get(f"/decide/{application['id']}")
        text = text_of(decision.text)
        assert "Support if approved" in text and "800,000,000\u00a0₫" in text
        assert "Not enough counted reviews" in text  # the API's refusal, in English
    finally:
        reviewer.close()
        officer.close()


# ---- what people see: Chromium screenshots and axe-core ---------------------------------------------------------
def test_pages_in_chromium_without_serious_accessibility_violations(
    api: Api,
    call: dict[str, Any],
    stack: Stack,
    reviewer1: PortalUser,
    reviewer3: PortalUser,
    officer1: PortalUser,
    officer2: PortalUser,
    tmp_path: Path,
) -> None:
    """Every screen of this module in real Chromium (the httpx users' portal sessions carried into the browser),
    vi and en, with errors shown; a screenshot of each (`CLEANPROD_SCREENSHOTS` keeps them) and axe-core: no
    serious or critical violation."""
    sync_api = pytest.importorskip("playwright.sync_api")
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    shots = Path(os.environ.get("CLEANPROD_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)

    long_title = (
        "Cải tạo toàn bộ dây chuyền cán nóng, thay lò nung bằng lò cảm ứng trung tần, biến tần cho quạt và "
        "bơm, thu hồi nhiệt khí thải để sấy phôi và sấy liệu – Nhà máy luyện cán thép Sóc Sơn"
    )
    declare_first = api.submitted(call, title=long_title)
    api.assign(declare_first, "reviewer1")
    scoring = api.submitted(call)
    api.assign(scoring, "reviewer1")
    api.declare(scoring, "reviewer1")
    saved = api.client.put(
        f"/api/v1/applications/{scoring['id']}/reviews/draft",
        headers=api.h("reviewer1"),
        json={"scores": [{"criterion": "tech", "score": 7}], "recommendation": "approve"},
    )
    assert saved.status_code == 201, saved.text
    recused = api.submitted(call)
    api.assign(recused, "reviewer3")
    api.declare(recused, "reviewer3", conflict=True)
    deciding = api.reviewed(api.submitted(call))
    api.assign(deciding, "officer1")

    pages = [
        ("review-queue", reviewer1, "/review", None),
        ("review-declaration", reviewer1, f"/review/{declare_first['id']}", None),
        ("review-declaration-error", reviewer1, f"/review/{declare_first['id']}", "#declare"),
        ("review-score-sheet", reviewer1, f"/review/{scoring['id']}", None),
        ("review-recused", reviewer3, f"/review/{recused['id']}", None),
        ("decision", officer2, f"/decide/{deciding['id']}", None),
        ("decision-error", officer2, f"/decide/{deciding['id']}", "#send-request-changes"),
        ("decision-four-eyes", officer1, f"/decide/{deciding['id']}", None),
    ]
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        try:
            for language in ("vi", "en"):
                for name, user, path, click in pages:
                    base = str(user.client.base_url).rstrip("/")
                    for width in (1280,) if language == "en" else (1280, 420):
                        context = browser.new_context(viewport={"width": width, "height": 900})
                        context.add_cookies(
                            [
                                {"name": "cp_session", "value": user.client.cookies["cp_session"], "url": base},
                                {"name": "cp_lang", "value": language, "url": base},
                            ]
                        )
                        page = context.new_page()
                        answer = page.goto(base + path)
                        assert answer is not None and answer.status == 200, (name, answer and answer.status)
                        if click:
                            page.click(click)
                            page.wait_for_load_state()
                            assert page.locator(".error-summary").count() == 1, name
                        if name == "review-score-sheet":  # the weighted score follows the typing
                            page.fill("#f-scores-saving", "4")
                            assert page.locator("#weighted-score-value").inner_text() == (
                                "72,5\u00a0%" if language == "vi" else "72.5\u00a0%"
                            )  # (21 + 8) / 40
                        page.screenshot(path=str(shots / f"{name}-{language}-{width}.png"), full_page=True)
                        for violation in axe.run(page).response["violations"]:
                            if violation.get("impact") in ("serious", "critical"):
                                problems.append(
                                    f"{name} {language} {width}: {violation['id']} "
                                    f"{[n['target'] for n in violation['nodes']][:3]}"
                                )
                        context.close()
        finally:
            browser.close()
    assert problems == []
