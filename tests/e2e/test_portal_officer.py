"""The programme officer's screens in the portal (issue 14), through the real stack: Keycloak's login page, the
gateway, the services and the portal process. Officers are httpx clients reading the rendered HTML
(tests/e2e/portal_helpers.py); enterprises and reviewers act through the API with their own tokens."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, Api, if_match, minimal_pdf, poll, unique_code
from portal_helpers import PortalUser, field_error, text_of

from infra.devstack import Stack

VERSION = re.compile(r'name="version" value="(\d+)"')
IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]+)"')
CHANGED_MEANWHILE = "Hồ sơ vừa được thay đổi"  # the 412 banner's title (vi)


@pytest.fixture(scope="module")
def officer(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), "officer1", home="/staff")
    yield user
    user.close()


@pytest.fixture(scope="module")
def auditor(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), "auditor1", home="/staff")
    yield user
    user.close()


@pytest.fixture(scope="module")
def call(api: Api) -> dict[str, Any]:
    return api.call(title="Đợt hỗ trợ – màn hình cán bộ (kiểm thử)")


def ids_in(page: str) -> list[str]:
    """The application ids of the list's rows, in order."""
    return re.findall(r'<tr id="row-([0-9a-f-]{36})"', page)


def test_staff_directory_lists_reviewers_for_officers_only(api: Api) -> None:
    answer = api.client.get("/api/v1/staff", params={"role": "reviewer"}, headers=api.h("officer1"))
    assert answer.status_code == 200, answer.text
    usernames = [m["username"] for m in answer.json()]
    assert {"reviewer1", "reviewer2", "reviewer3"} <= set(usernames) and "officer1" not in usernames
    reviewer1 = next(m for m in answer.json() if m["username"] == "reviewer1")
    assert reviewer1["user_id"] == api.subject("reviewer1") and reviewer1["full_name"]
    assert api.client.get("/api/v1/staff", params={"role": "reviewer"}, headers=api.h(HANOISTEEL)).status_code == 403
    assert api.client.get("/api/v1/staff", params={"role": "enterprise"}, headers=api.h("officer1")).status_code == 422


def test_staff_landing_sends_each_role_to_its_screens(officer: PortalUser, stack: Stack) -> None:
    page = officer.get("/staff")
    assert page.status_code == 200 and 'href="/officer"' in page.text and 'href="/review"' not in page.text
    reviewer = PortalUser(stack.url("portal"), "reviewer1", home="/staff")
    try:
        page = reviewer.get("/staff")
        assert 'href="/review"' in page.text and 'href="/officer"' not in page.text
        assert reviewer.get("/officer/applications").status_code == 403
    finally:
        reviewer.close()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_officer_screen_renders(stack: Stack, api: Api, call: dict[str, Any], language: str) -> None:
    application = api.submitted(call)
    user = PortalUser(stack.url("portal"), "officer1", language=language, home="/staff")
    try:
        paths = [
            "/officer",
            "/officer/calls",
            "/officer/calls/new",
            f"/officer/calls/{call['id']}/edit",
            "/officer/applications",
            "/officer/verifications",
        ]
        base = f"/officer/applications/{application['id']}"
        paths += [base] + [f"{base}/{tab}" for tab in ("documents", "reviews", "history", "tranches", "verification")]
        for path in paths:
            page = user.get(path)
            assert page.status_code == 200, (path, text_of(page.text)[:500])
        dashboard = text_of(user.get("/officer").text)
        words = (
            ("Tiến độ theo trạng thái", "Ngân sách theo đợt")
            if language == "vi"
            else ("Pipeline by status", "Budget per call")
        )
        assert all(w in dashboard for w in words), dashboard[:1000]
        page = user.get("/officer").text
        assert "<svg" in page and 'id="budget-chart"' in page and 'id="budget-table"' in page
        # the pipeline's count of a status is the API's list of that status, and links to it
        under_review, cursor = 0, None
        while True:
            listed = api.client.get(
                "/api/v1/applications",
                params={"status": "under_review", "limit": 200, **({"cursor": cursor} if cursor else {})},
                headers=api.h("officer1"),
            ).json()
            under_review += len(listed["items"])
            if not (cursor := listed.get("next_cursor")):
                break
        item = re.search(r'<li id="pipeline-under_review">(.*?)</li>', page, re.S)[1]
        assert 'href="/officer/applications?status=under_review"' in item
        assert re.search(r'class="pipeline__count">(\d+)<', item)[1] == str(under_review)
        assert call["code"] in text_of(re.search(r'<table class="table" id="budget-table".*?</table>', page, re.S)[0])
    finally:
        user.close()


def test_call_created_with_a_rubric_through_the_editor(officer: PortalUser, api: Api) -> None:
    page = officer.get("/officer/calls/new")
    key = IDEMPOTENCY.search(page.text)[1]
    code = unique_code("SXSH-PORTAL")
    fields = {
        "idempotency_key": key,
        "code": code,
        "title": "Đợt hỗ trợ đổi mới lò hơi – năm 2027",
        "description": "Ưu tiên ngành dệt nhuộm và bia.",
        "opens_on": "2027-01-05",
        "closes_on": "31/03/2027",
        "budget_vnd": "5.000.000.000",
        "support_rate_pct": "30",
        "cap_per_project_vnd": "500.000.000",
        "min_reviews": "2",
        "pass_score_pct": "60,5",
        "eligible_sectors": ["steel", "beer"],
        "criteria.0.code": "C1",
        "criteria.0.name": "Tính khả thi kỹ thuật",
        "criteria.0.weight": "0,6",
        "criteria.0.max_score": "10",
    }
    # a second row without saving; the first row's values are kept
    added = officer.post("/officer/calls/new", {**fields, "action": "add_criterion"})
    assert added.status_code == 200 and 'id="f-criteria-1-code"' in added.text
    assert 'value="Tính khả thi kỹ thuật"' in added.text
    fields.update(
        {
            "criteria.1.code": "C2",
            "criteria.1.name": "Mức tiết kiệm năng lượng",
            "criteria.1.weight": "0.4",
            "criteria.1.max_score": "abc",
        }
    )
    wrong = officer.post("/officer/calls/new", {**fields, "action": "save"})
    assert (
        wrong.status_code == 422 and field_error(wrong.text, "f-criteria-1-max_score") == "Hãy nhập một số, ví dụ 7,5"
    )
    fields["criteria.1.max_score"] = "10"
    saved = officer.post("/officer/calls/new", {**fields, "action": "save"})
    assert saved.status_code == 303, text_of(saved.text)[:1500]
    found = [
        c
        for c in api.client.get("/api/v1/calls", params={"limit": 200}, headers=api.h("officer1")).json()["items"]
        if c["code"] == code
    ]
    assert len(found) == 1
    created = found[0]
    assert created["support_rate_bp"] == 3000 and created["budget_vnd"] == 5_000_000_000
    assert created["closes_on"] == "2027-03-31" and float(created["pass_score_pct"]) == 60.5
    assert [(c["code"], float(c["weight"]), float(c["max_score"])) for c in created["criteria"]] == [
        ("C1", 0.6, 10.0),
        ("C2", 0.4, 10.0),
    ]
    assert sorted(created["eligible_sectors"]) == ["beer", "steel"]
    # the same form posted again (double click) creates nothing more
    assert officer.post("/officer/calls/new", {**fields, "action": "save"}).status_code == 303
    calls = api.client.get("/api/v1/calls", params={"limit": 200}, headers=api.h("officer1")).json()["items"]
    assert len([c for c in calls if c["code"] == code]) == 1

    # edit: remove the second criterion, change the title; then a stale version → the banner with the typed title
    edit = officer.get(f"/officer/calls/{created['id']}/edit")
    version = VERSION.search(edit.text)[1]
    form = {  # the created call's fields (the edit form has no key, code or description), with these changes
        **{k: v for k, v in fields.items() if k not in ("idempotency_key", "code", "description")},
        "version": version,
        "title": "Đợt hỗ trợ đổi mới lò hơi – năm 2027 (sửa)",
        "closes_on": "2027-03-31",
        "criteria.0.weight": "1",
        "criteria.1.name": "Mức tiết kiệm",
        "criteria.1.weight": "0,4",
    }
    removed = officer.post(f"/officer/calls/{created['id']}/edit", {**form, "action": "remove_criterion-1"})
    assert 'id="f-criteria-1-code"' not in removed.text and 'id="f-criteria-0-code"' in removed.text
    form = {k: v for k, v in form.items() if not k.startswith("criteria.1.")}
    assert officer.post(f"/officer/calls/{created['id']}/edit", {**form, "action": "save"}).status_code == 303
    changed = api.get_call(created["id"])
    assert changed["title"].endswith("(sửa)") and [c["code"] for c in changed["criteria"]] == ["C1"]
    stale = officer.post(f"/officer/calls/{created['id']}/edit", {**form, "title": "Tiêu đề khác", "action": "save"})
    assert stale.status_code == 409 and "Tiêu đề khác" in stale.text and CHANGED_MEANWHILE in text_of(stale.text)
    assert VERSION.search(stale.text)[1] == str(changed["version"])


def test_filters_in_the_url_give_the_api_list_and_the_exports_equal_it(
    officer: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    from openpyxl import load_workbook

    api.submitted(call)
    api.draft(call)
    url = f"/officer/applications?status=under_review&call_id={call['id']}&sector_code=steel"
    page = officer.get(url)
    assert page.status_code == 200
    expected = api.client.get(
        "/api/v1/applications",
        headers=api.h("officer1"),
        params={"status": "under_review", "call_id": call["id"], "sector_code": "steel", "limit": 50},
    ).json()["items"]
    assert ids_in(page.text) == [a["id"] for a in expected] and len(expected) >= 1
    assert "selected>" in page.text  # the filters are shown as chosen
    # export links carry the same filters
    csv_link = re.search(r'id="export-csv"', page.text) and re.search(r'href="([^"]+)" id="export-csv"', page.text)[1]
    xlsx_link = re.search(r'href="([^"]+)" id="export-xlsx"', page.text)[1]
    assert f"call_id={call['id']}" in csv_link.replace("&amp;", "&")
    exported_csv = officer.client.get(csv_link.replace("&amp;", "&"))
    assert exported_csv.status_code == 200, exported_csv.text
    rows = list(csv.reader(io.StringIO(exported_csv.content.decode("utf-8-sig")), delimiter=_delimiter(exported_csv)))
    codes = {a["dossier_code"] for a in expected}
    assert len(rows) - 1 == len(expected) and codes <= {cell for row in rows[1:] for cell in row}
    exported = officer.client.get(xlsx_link.replace("&amp;", "&"))
    assert exported.status_code == 200 and exported.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(exported.content), read_only=True).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) - 1 == len(expected)
    assert codes == {cell for row in values[1:] for cell in row if cell in codes}


def _delimiter(response: Any) -> str:
    first = response.content.decode("utf-8-sig").splitlines()[0]
    return ";" if first.count(";") > first.count(",") else ","


def test_bulk_assignment_of_two_reviewers_to_two_applications_with_per_item_results(
    officer: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    first, second = api.submitted(call), api.submitted(call)
    page = officer.get(f"/officer/applications?call_id={call['id']}&status=under_review")
    key = IDEMPOTENCY.search(page.text)[1]
    reviewers = [api.subject("reviewer1"), api.subject("reviewer2")]
    answer = officer.post(
        f"/officer/applications/assign?call_id={call['id']}",
        {"idempotency_key": key, "application_id": [first["id"], second["id"]], "reviewer": reviewers},
    )
    assert answer.status_code == 200, text_of(answer.text)[:1500]
    results = re.findall(r'class="bulk-result bulk-result--(ok|failed)" data-application="([^"]+)"', answer.text)
    assert sorted(results) == sorted([("ok", first["id"])] * 2 + [("ok", second["id"])] * 2)
    for application in (first, second):
        assigned = api.client.get(f"/api/v1/applications/{application['id']}/assignments", headers=api.h("officer1"))
        assert sorted(a["reviewer_username"] for a in assigned.json()) == ["reviewer1", "reviewer2"]
    # again with reviewer3 added: the four repeats fail with their reason, the two new ones succeed
    page = officer.get(f"/officer/applications?call_id={call['id']}")
    again = officer.post(
        "/officer/applications/assign",
        {
            "idempotency_key": IDEMPOTENCY.search(page.text)[1],
            "application_id": [first["id"], second["id"]],
            "reviewer": [*reviewers, api.subject("reviewer3")],
        },
    )
    outcomes = re.findall(r'bulk-result--(ok|failed)"', again.text)
    assert outcomes.count("ok") == 2 and outcomes.count("failed") == 4
    failed = re.search(r'bulk-result--failed".*?</tr>', again.text, re.S)[0]
    assert "Không được phân công" in text_of(failed) and len(text_of(failed)) > 40
    # nothing chosen → the messages next to the fields
    empty = officer.post("/officer/applications/assign", {"idempotency_key": IDEMPOTENCY.search(page.text)[1]})
    assert empty.status_code == 422 and "Chọn ít nhất một người thẩm định." in text_of(empty.text)


def test_history_shows_old_and_new_values(officer: PortalUser, api: Api, call: dict[str, Any]) -> None:
    draft = api.draft(call, title="Tiêu đề cũ của dự án")
    changed = api.client.patch(
        f"/api/v1/applications/{draft['id']}",
        json={"title": "Tiêu đề mới của dự án"},
        headers=if_match(api.h(HANOISTEEL), draft["version"]),
    )
    assert changed.status_code == 200, changed.text
    api.act(changed.json(), "submit", HANOISTEEL, json={"reason": "Nộp hồ sơ"})
    page = officer.get(f"/officer/applications/{draft['id']}/history")
    assert page.status_code == 200
    row = re.search(r'<tr class="change" data-field="title">.*?</tr>', page.text, re.S)[0]
    assert "Tiêu đề cũ của dự án" in row and "Tiêu đề mới của dự án" in row
    assert re.search(r'old-value">Tiêu đề cũ', row) and re.search(r'new-value">Tiêu đề mới', row)


def test_verifier_assigned_from_the_case_page_and_in_bulk(officer: PortalUser, api: Api, call: dict[str, Any]) -> None:
    application = api.completed(call)

    def ready_case() -> str | None:
        items = api.client.get(
            "/api/v1/verifications", params={"application_id": application["id"]}, headers=api.h("officer1")
        ).json()["items"]
        return items[0]["id"] if items and items[0]["ready_to_conclude"] else None

    case_id = poll(ready_case, what="the completion to reach verification")
    tab = officer.get(f"/officer/applications/{application['id']}/verification")
    assert 'id="assign-verifier-form"' in tab.text
    version = VERSION.search(tab.text)[1]
    none_chosen = officer.post(f"/officer/applications/{application['id']}/verification", {"version": version})
    assert (
        none_chosen.status_code == 422 and field_error(none_chosen.text, "f-verifier_subject") == "Chọn người thẩm tra."
    )
    assigned = officer.post(
        f"/officer/applications/{application['id']}/verification",
        {"version": version, "verifier_subject": api.subject("verifier1"), "note": "Ưu tiên xem số liệu điện."},
    )
    assert assigned.status_code == 303, text_of(assigned.text)[:1000]
    state = api.client.get(f"/api/v1/verifications/{case_id}/assignment", headers=api.h("officer1")).json()
    assert state["current"]["verifier_username"] == "verifier1"
    # the same (now stale) version again → the banner
    stale = officer.post(
        f"/officer/applications/{application['id']}/verification",
        {"version": version, "verifier_subject": api.subject("verifier2")},
    )
    assert stale.status_code == 409 and CHANGED_MEANWHILE in text_of(stale.text)
    # bulk: the case (with its listed version) to verifier2
    listing = officer.get("/officer/verifications")
    value = re.search(rf'value="({case_id}:\d+)"', listing.text)[1]
    answer = officer.post(
        "/officer/verifications",
        {
            "idempotency_key": IDEMPOTENCY.search(listing.text)[1],
            "case": [value],
            "verifier_subject": api.subject("verifier2"),
        },
    )
    assert answer.status_code == 200 and f'bulk-result--ok" data-case="{case_id}"' in answer.text
    state = api.client.get(f"/api/v1/verifications/{case_id}/assignment", headers=api.h("officer1")).json()
    assert state["current"]["verifier_username"] == "verifier2"


def test_auditor_sees_no_change_buttons_and_is_refused_changes(
    auditor: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    application = api.submitted(call)
    listing = auditor.get(f"/officer/applications?call_id={call['id']}")
    assert listing.status_code == 200 and application["id"] in listing.text
    assert 'id="assign-reviewers"' not in listing.text and 'name="application_id"' not in listing.text
    case = auditor.get(f"/officer/applications/{application['id']}")
    assert case.status_code == 200 and 'id="to-decision"' not in case.text
    calls = auditor.get("/officer/calls")
    assert 'id="new-call"' not in calls.text and "/edit" not in calls.text
    assert auditor.get("/officer/calls/new").status_code == 403
    forged = auditor.post(
        "/officer/applications/assign", {"application_id": application["id"], "reviewer": api.subject("reviewer1")}
    )
    assert forged.status_code == 403
    assert (
        api.client.get(f"/api/v1/applications/{application['id']}/assignments", headers=api.h("officer1")).json() == []
    )


def test_auditor_downloads_the_dossier_zip_from_the_case_page(
    auditor: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    """The issue's dossier ZIP, reached in the portal: every document in it with the SHA-256 the API stored."""
    draft = api.draft(call)
    stored = []
    for name in ("Báo cáo kiểm toán năng lượng 2025.pdf", "Báo giá thiết bị.pdf"):
        upload = api.client.post(
            f"/api/v1/applications/{draft['id']}/documents",
            files={"file": (name, minimal_pdf(name.encode("ascii", "ignore").decode()), "application/pdf")},
            headers=api.h(HANOISTEEL),
        )
        assert upload.status_code == 201, upload.text
        stored.append(upload.json())
    api.act(draft, "submit", HANOISTEEL, json={"reason": "Nộp hồ sơ trực tuyến"})
    case = auditor.get(f"/officer/applications/{draft['id']}")
    link = re.search(r'href="([^"]+)" id="download-dossier"', case.text)[1]
    assert link == f"/officer/applications/{draft['id']}/dossier.zip"
    response = auditor.get(link)
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = json.loads(archive.read("manifest.json"))
    files = {f["document_id"]: f for f in manifest["files"] if f.get("document_id")}
    assert set(files) == {d["id"] for d in stored}
    for document in stored:
        entry = files[document["id"]]
        assert entry["stored_sha256"] == document["sha256"]
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == document["sha256"]


def _all(api: Api, path: str, **params: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = api.client.get(
            path, params={**params, "limit": 200, **({"cursor": cursor} if cursor else {})}, headers=api.h("officer1")
        ).json()
        items += page["items"]
        if not (cursor := page.get("next_cursor")):
            return items


def test_auditor_exports_tranches_verification_results_and_facilities(
    auditor: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    """The API's other exports, reached from the officer's pages (read only, so the auditor's too): the tranches of
    the filtered applications, the verification results of the listed cases, every facility; Vietnamese headers."""
    from openpyxl import load_workbook

    approved = api.approved(call)
    listing = auditor.get(f"/officer/applications?call_id={call['id']}").text
    link = re.search(r'href="([^"]+)" id="export-tranches-xlsx"', listing)[1].replace("&amp;", "&")
    assert f"call_id={call['id']}" in link
    tranches = auditor.get(link)
    assert tranches.status_code == 200 and tranches.content[:2] == b"PK"
    rows = list(load_workbook(io.BytesIO(tranches.content), read_only=True).active.iter_rows(values_only=True))
    expected = sum(len(a["tranches"]) for a in _all(api, "/api/v1/applications", call_id=call["id"]))
    assert len(rows) - 1 == expected and expected >= 1
    assert any(isinstance(cell, int) for cell in rows[1])  # money as numbers

    # Cases open asynchronously from the applications' events (this test's approval, and earlier tests'): wait for
    # this test's own, then bracket the export by two reads of the API: it holds every case open before it and none
    # that is not open after it.
    def awaiting() -> set[str]:
        return {c["dossier_code"] for c in _all(api, "/api/v1/verifications", status="awaiting_assignment")}

    poll(lambda: approved["dossier_code"] in awaiting() or None, what="the approved application's verification case")

    cases = auditor.get("/officer/verifications?status=awaiting_assignment").text
    link = re.search(r'href="([^"]+)" id="export-results-csv"', cases)[1].replace("&amp;", "&")
    before = awaiting()
    results = auditor.get(link)
    after = awaiting()
    assert results.status_code == 200, results.text
    lines = list(csv.reader(io.StringIO(results.content.decode("utf-8-sig")), delimiter=_delimiter(results)))
    exported = [line[0] for line in lines[1:]]
    assert lines[0][0] == "Mã hồ sơ" and len(exported) == len(set(exported))
    assert approved["dossier_code"] in before and before <= set(exported) <= after

    enterprises = auditor.get("/officer/enterprises").text
    link = re.search(r'href="([^"]+)" id="export-facilities-xlsx"', enterprises)[1]
    facilities = auditor.get(link)
    assert facilities.status_code == 200 and facilities.content[:2] == b"PK"
    rows = list(load_workbook(io.BytesIO(facilities.content), read_only=True).active.iter_rows(values_only=True))
    assert "Trạng thái" in rows[0] and len(rows) - 1 == len(_all(api, "/api/v1/facilities"))


def test_enterprise_login_account_created_with_a_one_time_password(officer: PortalUser, api: Api) -> None:
    from cleanprod_kit.testing.data import random_tax_code

    registered = api.client.post(
        "/api/v1/enterprises",
        headers=api.h("officer1"),
        json={
            "tax_code": random_tax_code(),
            "name": "Công ty TNHH Dệt may Long Biên",
            "legal_form": "llc_multi_member",
            "size_class": "small",
            "address": "Số 12 phố Ngọc Lâm, Hà Nội",
            "ward": "Phường Bồ Đề",
        },
    )
    assert registered.status_code == 201, registered.text
    enterprise = registered.json()
    page = officer.get(f"/officer/enterprises/{enterprise['id']}/accounts")
    assert page.status_code == 200 and 'id="account-form"' in page.text
    username = f"ent-{unique_code('p').lower()}"[:40]
    bad = officer.post(
        f"/officer/enterprises/{enterprise['id']}/accounts",
        {"username": "Tên Có Dấu", "email": "khong-phai-email", "first_name": "Thị Mai", "last_name": "Phan"},
    )
    assert bad.status_code == 422 and field_error(bad.text, "f-username") and field_error(bad.text, "f-email")
    created = officer.post(
        f"/officer/enterprises/{enterprise['id']}/accounts",
        {"username": username, "email": f"{username}@example.vn", "first_name": "Thị Mai", "last_name": "Phan"},
    )
    assert created.status_code == 200, text_of(created.text)[:1000]
    password = re.search(r'id="one-time-password">([^<]+)<', created.text)[1]
    assert len(password) >= 12 and f'id="account-{username}"' in created.text
    again = officer.get(f"/officer/enterprises/{enterprise['id']}/accounts")
    assert password not in again.text and f'id="account-{username}"' in again.text


def test_sectors_and_norms_added_and_edited(officer: PortalUser, api: Api) -> None:
    page = officer.get("/officer/sectors")
    code = f"nganh_{unique_code('x').lower().replace('-', '_')}"[:30]
    added = officer.post(
        "/officer/sectors",
        {
            "idempotency_key": IDEMPOTENCY.search(page.text)[1],
            "code": code,
            "name_vi": "Dệt nhuộm – kiểm thử",
            "name_en": "Textile dyeing (test)",
            "priority": "1",
        },
    )
    assert added.status_code == 303, text_of(added.text)[:1000]
    sector = api.client.get(f"/api/v1/sectors/{code}", headers=api.h("officer1")).json()
    assert sector["name_vi"] == "Dệt nhuộm – kiểm thử" and sector["priority"] is True
    edit = officer.get(f"/officer/sectors/{code}/edit")
    version = VERSION.search(edit.text)[1]
    saved = officer.post(
        f"/officer/sectors/{code}/edit", {"version": version, "name_vi": "Dệt nhuộm", "name_en": "Textile dyeing"}
    )
    assert saved.status_code == 303
    sector = api.client.get(f"/api/v1/sectors/{code}", headers=api.h("officer1")).json()
    assert sector["name_vi"] == "Dệt nhuộm" and sector["priority"] is False
    stale = officer.post(f"/officer/sectors/{code}/edit", {"version": version, "name_vi": "Khác", "name_en": "X"})
    assert stale.status_code == 409 and CHANGED_MEANWHILE in text_of(stale.text)
    page = officer.get("/officer/sectors")
    norm = {
        "idempotency_key": IDEMPOTENCY.findall(page.text)[-1],
        "circular": "38/2016/TT-BCT",
        "sector_code": code,
        "product": "Vải nhuộm",
        "unit": "kgOE/t",
        "value": "abc",
        "valid_from": "2026-01-01",
        "valid_to": "2030-12-31",
    }
    wrong = officer.post("/officer/norms", norm)
    assert wrong.status_code == 422 and field_error(wrong.text, "f-value") == "Hãy nhập một số, ví dụ 7,5"
    assert officer.post("/officer/norms", {**norm, "value": "1250,5"}).status_code == 303
    norms = api.client.get("/api/v1/norms", params={"sector_code": code}, headers=api.h("officer1")).json()["items"]
    assert [(n["product"], n["value"]) for n in norms if n["sector_code"] == code] == [("Vải nhuộm", 1250.5)]
    assert "Vải nhuộm" in officer.get("/officer/sectors").text


def test_webhook_deliveries_listed_and_redelivered(
    officer: PortalUser, api: Api, tokens: Any, call: dict[str, Any]
) -> None:
    from test_egov import Receiver, egov

    receiver = Receiver()
    headers = egov(tokens)
    subscribed = api.client.post(
        "/api/v1/integrations/webhooks",
        headers=headers,
        json={
            "url": receiver.url,
            "event_types": ["application.*"],
            "description": "Cổng một cửa (kiểm thử cổng cán bộ)",
        },
    )
    assert subscribed.status_code == 201, subscribed.text
    subscription = subscribed.json()
    try:
        application = api.submitted(call)
        poll(lambda: len(receiver.events(application["id"])) >= 1 or None, what="a webhook")
        listing = officer.get("/officer/webhooks")
        assert f'id="subscription-{subscription["id"]}"' in listing.text

        def delivered() -> str | None:
            shown = officer.get(f"/officer/webhooks/{subscription['id']}?status=delivered").text
            return shown if "delivery--delivered" in shown else None

        page = poll(delivered, what="a delivered delivery")
        delivery_id = re.search(r'id="redeliver-([0-9a-f-]{36})"', page)[1]
        before = len(receiver.events(application["id"]))
        answer = officer.post(f"/officer/webhooks/{subscription['id']}/deliveries/{delivery_id}/redeliver")
        assert answer.status_code == 303
        shown = officer.get(answer.headers["location"])
        assert 'id="redelivered-banner"' in shown.text
        poll(lambda: len(receiver.events(application["id"])) > before or None, what="the redelivery")
    finally:
        api.client.delete(f"/api/v1/integrations/webhooks/{subscription['id']}", headers=headers)
        receiver.close()
