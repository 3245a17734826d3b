"""The enterprise's applications in the portal (issue 13), through the real stack: PostgreSQL, Keycloak (its real
login page), the services, the gateway and the portal process. The enterprise is an httpx client reading the
rendered HTML (tests/e2e/portal_helpers.py); officers and reviewers act through the API with their own tokens."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, THANGLONG, Api, minimal_pdf
from portal_helpers import PortalUser, field_error, text_of

from infra.devstack import Stack

VERSION = re.compile(r'name="version" value="(\d+)"')
DOSSIER = re.compile(r"000\.00\.01\.H26-\d{6}-\d{4}")


@pytest.fixture(scope="module")
def call(api: Api) -> dict[str, Any]:
    return api.call(min_reviews=1, title="Đợt hỗ trợ sản xuất sạch hơn – cổng thông tin (kiểm thử)")


@pytest.fixture(scope="module")
def hanoisteel(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), HANOISTEEL)
    yield user
    user.close()


@pytest.fixture(scope="module")
def thanglong(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), THANGLONG)
    yield user
    user.close()


def start(user: PortalUser, api: Api, call: dict[str, Any]) -> str:
    """Start an application through the portal's form; the id of the draft."""
    page = user.get("/enterprise/applications/new")
    assert page.status_code == 200, page.text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)[1]
    created = user.post(
        "/enterprise/applications/new",
        {"idempotency_key": key, "call_id": call["id"], "facility_id": api.facility(user.username)["id"]},
    )
    assert created.status_code == 303, text_of(created.text)
    match = re.fullmatch(r"/enterprise/applications/([0-9a-f-]{36})/tasks", created.headers["location"])
    assert match, created.headers["location"]
    return match[1]


def save_step(user: PortalUser, app_id: str, slug: str, fields: dict[str, str], action: str = "continue") -> Any:
    form = user.get(f"/enterprise/applications/{app_id}/steps/{slug}")
    assert form.status_code == 200, text_of(form.text)
    return user.post(
        f"/enterprise/applications/{app_id}/steps/{slug}",
        {"version": VERSION.search(form.text)[1], **fields, "action": action},
    )


TECHNOLOGY = {
    "title": "Thay lò nung bằng lò cảm ứng trung tần – Nhà máy Nội Bài",
    "technology": "Lò cảm ứng trung tần, biến tần IGBT cho quạt và bơm; thu hồi nhiệt khí thải để sấy liệu.",
    "supplier.name": "Công ty TNHH Thiết bị Nhiệt Hà Nội",
    "supplier.tax_code": "",
}
COSTS = {"total_cost_vnd": "3.000.000.000", "eligible_cost_vnd": "2000000000", "requested_support_vnd": "800.000.000"}
SAVINGS = {
    "claimed_savings.0.carrier": "electricity",
    "claimed_savings.0.saving_pct": "8",
    "claimed_savings.0.annual_saving.quantity": "1250,5",
    "claimed_savings.0.annual_saving.unit": "MWh",
    "claimed_savings.1.carrier": "natural_gas",
    "claimed_savings.1.saving_pct": "7,5",
    "claimed_overall_saving_pct": "8",
}
DATES = {"implementation_start": "2027-01-15", "implementation_end": "15/07/2027"}


def fill_everything(user: PortalUser, app_id: str) -> None:
    for slug, fields in (("technology", TECHNOLOGY), ("costs", COSTS), ("savings", SAVINGS), ("dates", DATES)):
        saved = save_step(user, app_id, slug, fields)
        assert saved.status_code == 303, (slug, text_of(saved.text))


def submit(user: PortalUser, app_id: str) -> Any:
    check = user.get(f"/enterprise/applications/{app_id}/check")
    assert check.status_code == 200, text_of(check.text)
    return user.post(f"/enterprise/applications/{app_id}/submit", {"version": VERSION.search(check.text)[1]})


def task_tags(page: str) -> dict[str, str]:
    """Task id → its status tag text, from the task list."""
    tags = {}
    for item in re.findall(r'<li class="task-list__item">(.*?)</li>', page, re.S):
        name = text_of(
            re.search(r'class="task-list__name">\s*(?:<a [^>]*>)?(.*?)(?:</a>|<span|</span>)', item, re.S)[1]
        )
        tag = text_of(re.search(r'class="task-list__status[^"]*"[^>]*>(.*?)</span>', item, re.S)[1])
        tags[name] = tag
    return tags


# ---- start, task list, steps ----------------------------------------------------------------------------------
def test_start_creates_a_draft_with_only_call_and_facility_and_shows_the_task_list(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    draft = api.get(app_id, HANOISTEEL)
    assert draft["status"] == "draft" and draft["call_id"] == call["id"] and draft["title"] is None
    page = hanoisteel.get(f"/enterprise/applications/{app_id}/tasks")
    assert page.status_code == 200
    tags = task_tags(page.text)
    assert tags["Đợt hỗ trợ và cơ sở sản xuất"] == "Hoàn thành"
    assert tags["Công nghệ và nhà cung cấp"] == "Chưa bắt đầu"
    assert tags["Chi phí và kinh phí đề nghị hỗ trợ"] == "Chưa bắt đầu"
    assert tags["Kiểm tra thông tin và nộp hồ sơ"] == "Chưa thể bắt đầu"
    assert call["code"] in text_of(page.text)


def test_step_saves_vietnamese_text_and_comes_back_with_it(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    saved = save_step(hanoisteel, app_id, "technology", TECHNOLOGY)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/steps/costs")
    stored = api.get(app_id, HANOISTEEL)
    assert stored["title"] == TECHNOLOGY["title"] and stored["technology"] == TECHNOLOGY["technology"]
    assert stored["supplier"] == {"name": "Công ty TNHH Thiết bị Nhiệt Hà Nội", "tax_code": None}
    # Leaving and coming back (a new login) shows the saved values again.
    again = PortalUser(str(hanoisteel.client.base_url).rstrip("/"), HANOISTEEL)
    try:
        form = again.get(f"/enterprise/applications/{app_id}/steps/technology")
        assert f'value="{TECHNOLOGY["title"]}"' in form.text
        assert TECHNOLOGY["technology"] in form.text
        tags = task_tags(again.get(f"/enterprise/applications/{app_id}/tasks").text)
    finally:
        again.close()
    assert tags["Công nghệ và nhà cung cấp"] == "Hoàn thành"
    # "Save and come back later" → the task list; a partly filled step is "in progress".
    later = save_step(
        hanoisteel,
        app_id,
        "costs",
        {"total_cost_vnd": "1.234.567", "eligible_cost_vnd": "", "requested_support_vnd": ""},
        action="later",
    )
    assert later.status_code == 303 and later.headers["location"].endswith("/tasks")
    assert api.get(app_id, HANOISTEEL)["total_cost_vnd"] == 1_234_567
    tags = task_tags(hanoisteel.get(later.headers["location"]).text)
    assert tags["Chi phí và kinh phí đề nghị hỗ trợ"] == "Đang làm"
    costs = hanoisteel.get(f"/enterprise/applications/{app_id}/steps/costs")
    assert 'value="1.234.567"' in costs.text
    assert "tối đa 50\u00a0% chi phí hợp lệ, không quá 2.000.000.000\u00a0₫" in text_of(costs.text)


def test_field_errors_in_vietnamese_next_to_the_field(hanoisteel: PortalUser, api: Api, call: dict[str, Any]) -> None:
    app_id = start(hanoisteel, api, call)
    unreadable = save_step(
        hanoisteel, app_id, "costs", {"total_cost_vnd": "ba tỷ", "eligible_cost_vnd": "", "requested_support_vnd": ""}
    )
    assert unreadable.status_code == 422
    assert (
        field_error(unreadable.text, "f-total_cost_vnd") == "Hãy nhập số tiền bằng đồng, là số nguyên, ví dụ 1.234.567"
    )
    assert 'value="ba tỷ"' in unreadable.text  # what was typed stays
    refused = save_step(
        hanoisteel,
        app_id,
        "costs",
        {"total_cost_vnd": "1.000.000", "eligible_cost_vnd": "2.000.000", "requested_support_vnd": ""},
    )
    assert refused.status_code == 422
    message = field_error(refused.text, "f-eligible_cost_vnd")
    assert message and message.startswith("Chi phí hợp lệ không được lớn hơn tổng chi phí"), message
    assert 'aria-describedby="f-eligible_cost_vnd-hint f-eligible_cost_vnd-error"' in refused.text
    assert '<a href="#f-eligible_cost_vnd">' in refused.text  # the error summary links to the field
    assert api.get(app_id, HANOISTEEL)["total_cost_vnd"] is None  # nothing saved


def test_savings_rows_can_be_added_removed_and_saved(hanoisteel: PortalUser, api: Api, call: dict[str, Any]) -> None:
    app_id = start(hanoisteel, api, call)
    path = f"/enterprise/applications/{app_id}/steps/savings"
    form = hanoisteel.get(path)
    version = VERSION.search(form.text)[1]
    added = hanoisteel.post(
        path,
        {
            "version": version,
            "claimed_savings.0.carrier": "electricity",
            "claimed_savings.0.saving_pct": "8",
            "action": "add",
        },
    )
    assert added.status_code == 200 and 'id="f-claimed_savings-1-carrier"' in added.text
    assert '<option value="electricity" selected>' in added.text  # row 0 kept what was typed
    removed = hanoisteel.post(
        path,
        {
            "version": version,
            "claimed_savings.0.carrier": "electricity",
            "claimed_savings.0.saving_pct": "8",
            "claimed_savings.1.carrier": "water",
            "action": "remove-0",
        },
    )
    assert 'id="f-claimed_savings-1-carrier"' not in removed.text
    assert '<option value="water" selected>' in removed.text
    wrong_unit = hanoisteel.post(
        path,
        {
            "version": version,
            **SAVINGS,
            "claimed_savings.1.annual_saving.quantity": "5",
            "claimed_savings.1.annual_saving.unit": "kWh",
            "action": "continue",
        },
    )
    assert wrong_unit.status_code == 422
    assert (
        field_error(wrong_unit.text, "f-claimed_savings-1-annual_saving-unit")
        == "Hãy chọn một đơn vị của loại năng lượng này: 1000 m3, m3"
    )
    saved = hanoisteel.post(path, {"version": version, **SAVINGS, "action": "continue"})
    assert saved.status_code == 303, text_of(saved.text)
    stored = api.get(app_id, HANOISTEEL)
    assert stored["claimed_savings"] == [
        {"carrier": "electricity", "saving_pct": 8.0, "annual_saving": {"quantity": 1250.5, "unit": "MWh"}},
        {"carrier": "natural_gas", "saving_pct": 7.5, "annual_saving": None},
    ]
    assert stored["claimed_overall_saving_pct"] == 8.0


def test_changed_meanwhile_banner_keeps_what_was_typed(
    hanoisteel: PortalUser, api: Api, gateway: Any, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    path = f"/enterprise/applications/{app_id}/steps/technology"
    stale_version = VERSION.search(hanoisteel.get(path).text)[1]
    # Meanwhile a colleague saves the same draft (the API directly, same enterprise).
    current = api.get(app_id, HANOISTEEL)
    changed = gateway.patch(
        f"/api/v1/applications/{app_id}",
        json={"technology": "Bản của đồng nghiệp"},
        headers={**api.h(HANOISTEEL), "If-Match": f'"{current["version"]}"'},
    )
    assert changed.status_code == 200, changed.text
    typed = {**TECHNOLOGY, "title": "Tên dự án tôi vừa gõ – lò hồ quang"}
    answer = hanoisteel.post(path, {"version": stale_version, **typed, "action": "continue"})
    assert answer.status_code == 409
    assert "Hồ sơ vừa được thay đổi" in text_of(answer.text)
    assert f'value="{typed["title"]}"' in answer.text
    assert f'name="version" value="{changed.json()["version"]}"' in answer.text
    assert api.get(app_id, HANOISTEEL)["title"] is None  # nothing of the stale form was saved
    again = hanoisteel.post(path, {"version": changed.json()["version"], **typed, "action": "continue"})
    assert again.status_code == 303
    assert api.get(app_id, HANOISTEEL)["title"] == typed["title"]


# ---- submit ---------------------------------------------------------------------------------------------------
def test_submit_incomplete_lists_every_missing_field_with_links_to_its_step(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    save_step(hanoisteel, app_id, "technology", TECHNOLOGY)
    answer = submit(hanoisteel, app_id)
    assert answer.status_code == 422
    summary = re.search(r'<div class="error-summary".*?</div>', answer.text, re.S)[0]
    base = f"/enterprise/applications/{app_id}/steps"
    for step, field, label in (
        ("costs", "total_cost_vnd", "Tổng vốn đầu tư"),
        ("costs", "requested_support_vnd", "Kinh phí đề nghị hỗ trợ"),
        ("savings", "claimed_savings-0-carrier", "Tiết kiệm theo loại năng lượng"),
        ("savings", "claimed_overall_saving_pct", "Mức tiết kiệm chung"),
        ("dates", "implementation_end", "Ngày kết thúc"),
    ):
        assert f'href="{base}/{step}#f-{field}"' in summary, field
        assert label in text_of(summary)
    assert "steps/technology" not in summary  # what is filled in is not listed
    assert api.get(app_id, HANOISTEEL)["status"] == "draft"


def test_submit_complete_shows_dossier_code_and_due_date(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    fill_everything(hanoisteel, app_id)
    check = hanoisteel.get(f"/enterprise/applications/{app_id}/check")
    text = text_of(check.text)
    assert "3.000.000.000\u00a0₫" in text and "Điện: 8\u00a0% – 1.250,5 MWh mỗi năm" in text
    assert "Khí thiên nhiên: 7,5\u00a0%" in text and "15/07/2027" in text
    answer = submit(hanoisteel, app_id)
    assert answer.status_code == 303 and answer.headers["location"].endswith("/confirmation")
    confirmation = hanoisteel.get(answer.headers["location"])
    stored = api.get(app_id, HANOISTEEL)
    assert stored["status"] == "under_review" and DOSSIER.fullmatch(stored["dossier_code"])
    assert f'id="dossier-code">{stored["dossier_code"]}<' in confirmation.text
    due = re.search(r'id="due-date">(.*?)</p>', confirmation.text, re.S)[1]
    assert re.search(r"Sở sẽ trả kết quả trước ngày \d{2}/\d{2}/\d{4}\.", due), due
    page = text_of(hanoisteel.get(f"/enterprise/applications/{app_id}").text)
    assert "Đang thẩm định" in page and stored["dossier_code"] in page


# ---- documents ------------------------------------------------------------------------------------------------
def test_upload_a_pdf_list_and_download_it_and_refuse_a_wrong_type(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    path = f"/enterprise/applications/{app_id}/documents"
    hanoisteel.get(path)
    pdf = minimal_pdf("Bao cao nghien cuu kha thi")
    uploaded = hanoisteel.upload(
        path, "Báo cáo nghiên cứu khả thi.pdf", pdf, "application/pdf", kind="feasibility_study"
    )
    assert uploaded.status_code == 303, text_of(uploaded.text)
    listing = hanoisteel.get(path)
    row = text_of(re.search(r'<div id="documents-list">.*?</div>', listing.text, re.S)[0])
    assert "Báo cáo nghiên cứu khả thi.pdf" in row and "Báo cáo nghiên cứu khả thi" in row
    assert "PDF" in row and f"{len(pdf)} B" in row and hashlib.sha256(pdf).hexdigest()[:12] in row
    link = re.search(rf'href="({path}/[0-9a-f-]{{36}})"', listing.text)[1]
    download = hanoisteel.client.get(link)
    assert download.status_code == 200 and download.content == pdf
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment")
    tags = task_tags(hanoisteel.get(f"/enterprise/applications/{app_id}/tasks").text)
    assert tags["Tài liệu đính kèm"] == "Hoàn thành"

    refused = hanoisteel.upload(path, "ghi-chu.txt", "Ghi chú nội bộ".encode(), "text/plain")
    assert refused.status_code == 415
    assert field_error(refused.text, "f-file") == "Tệp phải là PDF, PNG, JPEG, Word (DOCX) hoặc Excel (XLSX)."
    too_big = hanoisteel.upload(path, "ban-ve.pdf", pdf + b"%" + b"0" * (21 * 1024 * 1024), "application/pdf")
    assert too_big.status_code == 413
    assert field_error(too_big.text, "f-file") == "Tệp lớn hơn 20 MB."
    # Without the CSRF token nothing reaches the API.
    forged = hanoisteel.client.post(path, data={"kind": "other"}, files={"file": ("x.pdf", pdf, "application/pdf")})
    assert forged.status_code == 403
    documents = api.client.get(f"/api/v1/applications/{app_id}/documents", headers=api.h(HANOISTEEL)).json()
    assert [d["filename"] for d in documents["items"]] == ["Báo cáo nghiên cứu khả thi.pdf"]


# ---- after submission: changes requested, resubmit, start, completion --------------------------------------------
def test_changes_requested_appear_on_the_timeline_and_the_enterprise_resubmits(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    fill_everything(hanoisteel, app_id)
    assert submit(hanoisteel, app_id).status_code == 303
    application = api.reviewed(api.get(app_id, HANOISTEEL), reviewers=("reviewer1",))
    reason = "Đề nghị bổ sung báo giá của ít nhất hai nhà cung cấp và giảm kinh phí đề nghị."
    sent_back = api.act(application, "decision", "officer1", json={"outcome": "request_changes", "reason": reason})
    assert sent_back["status"] == "changes_requested"

    page = hanoisteel.get(f"/enterprise/applications/{app_id}")
    timeline = text_of(re.search(r'<section id="timeline".*?</section>', page.text, re.S)[0])
    assert "Yêu cầu bổ sung" in timeline and reason in timeline and "Cán bộ chương trình" in timeline
    changes = text_of(
        re.search(r'<section class="notification-banner" id="requested-changes".*?</section>', page.text, re.S)[0]
    )
    assert reason in changes and "Chỉnh sửa và nộp lại" in changes

    edited = save_step(hanoisteel, app_id, "costs", {**COSTS, "requested_support_vnd": "700.000.000"})
    assert edited.status_code == 303, text_of(edited.text)
    check = hanoisteel.get(f"/enterprise/applications/{app_id}/check")
    assert "Nộp lại hồ sơ" in text_of(check.text) and "700.000.000\u00a0₫" in text_of(check.text)
    answer = hanoisteel.post(f"/enterprise/applications/{app_id}/submit", {"version": VERSION.search(check.text)[1]})
    assert answer.status_code == 303
    stored = api.get(app_id, HANOISTEEL)
    assert stored["status"] == "under_review" and stored["dossier_code"] == sent_back["dossier_code"]
    assert stored["requested_support_vnd"] == 700_000_000
    timeline = text_of(hanoisteel.get(f"/enterprise/applications/{app_id}").text)
    assert "Đã nộp lại" in timeline


def test_report_start_and_completion_from_the_application_page(
    hanoisteel: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    application = api.reviewed(api.submitted(call), reviewers=("reviewer1",))
    application = api.act(
        application, "decision", "officer1", json={"outcome": "approve", "reason": "Đạt yêu cầu của chương trình."}
    )
    path = f"/enterprise/applications/{application['id']}"
    page = hanoisteel.get(path)
    text = text_of(page.text)
    assert "Kinh phí được hỗ trợ" in text and "Tạm ứng" in text and "Báo cáo bắt đầu thực hiện dự án" in text
    version = re.search(r'action="[^"]+/start".*?name="version" value="(\d+)"', page.text, re.S)[1]
    started = hanoisteel.post(
        f"{path}/start", {"version": version, "started_on": "2026-12-01", "reason": "Đã ký hợp đồng với nhà cung cấp."}
    )
    assert started.status_code == 303, text_of(started.text)
    page = hanoisteel.get(path)
    assert api.get(application["id"], HANOISTEEL)["status"] == "in_progress"
    assert "Đã ký hợp đồng với nhà cung cấp." in text_of(page.text)
    version = re.search(r'action="[^"]+/completion".*?name="version" value="(\d+)"', page.text, re.S)[1]
    done = hanoisteel.post(
        f"{path}/completion", {"version": version, "completed_on": "", "reason": "Đã nghiệm thu, vận hành ổn định."}
    )
    assert done.status_code == 303, text_of(done.text)
    assert api.get(application["id"], HANOISTEEL)["status"] == "completed"


# ---- another enterprise ---------------------------------------------------------------------------------------
def test_another_enterprise_gets_the_404_page_for_every_application_url(
    hanoisteel: PortalUser, thanglong: PortalUser, api: Api, call: dict[str, Any]
) -> None:
    app_id = start(hanoisteel, api, call)
    hanoisteel.get(f"/enterprise/applications/{app_id}/documents")
    upload = hanoisteel.upload(
        f"/enterprise/applications/{app_id}/documents", "bao-gia.pdf", minimal_pdf(), "application/pdf"
    )
    assert upload.status_code == 303
    doc_id = api.client.get(f"/api/v1/applications/{app_id}/documents", headers=api.h(HANOISTEEL)).json()["items"][0][
        "id"
    ]
    base = f"/enterprise/applications/{app_id}"
    for path in (
        "",
        "/tasks",
        "/call",
        "/steps/technology",
        "/check",
        "/documents",
        f"/documents/{doc_id}",
        "/confirmation",
    ):
        page = thanglong.get(base + path)
        assert page.status_code == 404, path
        assert "Không tìm thấy trang" in text_of(page.text), path
    thanglong.get("/enterprise/applications")  # a page of its own, for a CSRF token
    forged = thanglong.post(f"{base}/steps/technology", {"version": "1", **TECHNOLOGY})
    assert forged.status_code == 404
    assert api.get(app_id, HANOISTEEL)["title"] is None


def test_task_list_in_english(stack: Stack, api: Api, call: dict[str, Any]) -> None:
    user = PortalUser(stack.url("portal"), HANOISTEEL, language="en")
    try:
        app_id = start(user, api, call)
        save_step(user, app_id, "technology", TECHNOLOGY)
        tags = task_tags(user.get(f"/enterprise/applications/{app_id}/tasks").text)
    finally:
        user.close()
    assert tags["Technology and supplier"] == "Completed"
    assert tags["Costs and requested support"] == "Not started"


def test_ineligible_application_shows_the_screening_reasons(hanoisteel: PortalUser, api: Api) -> None:
    beer_only = api.call(min_reviews=1, eligible_sectors=["beer"])  # the steel works' sector is not eligible
    app_id = start(hanoisteel, api, beer_only)
    fill_everything(hanoisteel, app_id)
    assert submit(hanoisteel, app_id).status_code == 303
    stored = api.get(app_id, HANOISTEEL)
    assert stored["status"] == "ineligible" and stored["screening_reasons"]
    page = hanoisteel.get(f"/enterprise/applications/{app_id}")
    reasons = text_of(re.search(r'<section [^>]*id="screening-reasons".*?</section>', page.text, re.S)[0])
    assert "Lý do hồ sơ không đủ điều kiện" in reasons
    assert [r["code"] for r in stored["screening_reasons"]] == ["sector_not_eligible"]
    assert "Ngành của cơ sở sản xuất không thuộc các ngành được hỗ trợ trong đợt này" in reasons
    assert "Không đủ điều kiện" in text_of(page.text)


def test_verification_result_and_printable_report(hanoisteel: PortalUser, thanglong: PortalUser, api: Api) -> None:
    from test_verification_flow import application_in, conclude, ready_case, record, reporting_year

    application, case = ready_case(api, HANOISTEEL)
    record(api, case["id"], reporting_year(case, HANOISTEEL, 0.9))  # 10 % less than the baseline line
    assert conclude(api, case["id"]).status_code == 200
    verified = application_in(api, application["id"], "verified")
    path = f"/enterprise/applications/{application['id']}"
    section = re.search(r'<section id="verification".*?</section>', hanoisteel.get(path).text, re.S)[0]
    text = text_of(section)
    assert "Thẩm tra mức tiết kiệm" in text and "Đã xác nhận tiết kiệm" in text
    assert "Mức tiết kiệm được xác nhận" in text and verified["verification_id"] == case["id"]
    report = hanoisteel.client.get(f"{path}/verification-report")
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/html")
    assert "sandbox" in report.headers["content-security-policy"]
    assert verified["dossier_code"] in report.text
    assert thanglong.get(f"{path}/verification-report").status_code == 404
