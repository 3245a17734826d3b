"""Issue 10 "Must show" in real Chromium through the real stack, Vietnamese and English: the enterprise sees the
bell's count rise after a decision, opens the message an officer wrote on the case page, answers a supplement
request (asked by the officer on the case page) item by item — a text, then a file — and the dossier returns to
processing (e-gov 4). Every page is screenshotted and checked with axe-core (browser_helpers.Ui.seen;
test-artifacts/screenshots/test_notifications_journey-<language>-<person>/).

Through the API only what the issue does not name: the two dossiers are filed and reviewed, and officer2's decision
is taken; an approval also tells the enterprise that its advance is payable (the decision screen has its own journey, test_programme_journey.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from browser_helpers import Ui
from e2e_helpers import HANOISTEEL, Api, minimal_pdf
from test_programme_journey import person, workspace

ITEMS = ("Báo cáo kiểm toán năng lượng năm 2025 có chữ ký và đóng dấu", "Báo giá lò cảm ứng của nhà cung cấp")
MESSAGE = "Kính gửi doanh nghiệp: Sở đã tiếp nhận hồ sơ; đề nghị bổ sung hai nội dung trong mục Yêu cầu bổ sung."
NOTE = "Ghi chú nội bộ: đối chiếu đơn giá lò cảm ứng với giá thị trường trước khi quyết định."
TEXT = {
    "vi": {"done": "Đã trả lời đủ các mục", "open": "Xem chi tiết", "messages": "Tin nhắn"},
    "en": {"done": "Every item is answered", "open": "Go to the page", "messages": "Messages"},
}


def bell_count(ui: Ui) -> int:
    """The header's unread count once htmx has swapped the bell in (0 when the badge is absent)."""
    ui.page.locator("#bell[hx-trigger='every 60s']").wait_for()
    badge = ui.page.locator("#bell-count")
    return int(badge.inner_text()) if badge.count() else 0


@pytest.mark.parametrize("language", ["vi", "en"])
def test_bell_message_and_supplement_in_the_browser(new_ui: Callable[..., Ui], api: Api, language: str) -> None:
    text = TEXT[language]
    call = api.call(title=f"Đợt hỗ trợ – thông báo trong trình duyệt ({language})")
    decided = api.reviewed(api.submitted(call))
    asked = api.reviewed(api.submitted(call))

    enterprise = person(new_ui, "enterprise", HANOISTEEL, language)
    page = enterprise.page
    workspace(enterprise, "dashboard")
    before = bell_count(enterprise)

    # ---- officer2 decides: the enterprise's bell counts one more ------------------------------------------------
    outcome = {"outcome": "approve", "reason": "Đạt điểm, phù hợp mục tiêu chương trình."}
    assert api.act(decided, "decision", "officer2", json=outcome)["status"] == "approved"
    page.reload()
    enterprise.seen("dashboard-after-decision")
    assert bell_count(enterprise) == before + 2  # the decision with its amount, and the advance now payable

    # ---- officer1 writes to the enterprise and asks for a supplement, on the case page --------------------------
    officer = person(new_ui, "officer1", "officer1", language)
    officer.goto(f"/officer/applications/{asked['id']}/messages", "case-messages")
    officer.page.fill("#f-body", MESSAGE)
    officer.page.check("#visibility-shared")
    officer.page.locator("#send-message").click()
    officer.page.locator("#message-sent").wait_for()
    officer.seen("case-message-sent")
    officer.page.fill("#f-body", NOTE)
    officer.page.check("#visibility-internal")
    officer.page.locator("#send-message").click()
    officer.page.locator(".message--internal").wait_for()
    officer.seen("case-internal-note")
    officer.goto(f"/officer/applications/{asked['id']}/supplements", "case-supplements")
    officer.page.fill("#f-items-0-needed", ITEMS[0])
    officer.page.fill("#f-items-1-needed", ITEMS[1])
    officer.page.fill("#f-note", "Đề nghị bổ sung trong 10 ngày làm việc.")
    officer.page.locator("#request-supplement").click()
    officer.page.wait_for_url(re.compile(r"/supplements\?requested=1$"))
    officer.seen("case-supplement-requested")
    assert api.get(asked)["egov_status"] == 5

    # ---- the enterprise: bell, list, the message ----------------------------------------------------------------
    page.reload()
    enterprise.seen("dashboard-with-supplement")
    assert bell_count(enterprise) == before + 4  # decision, advance, message, supplement request
    page.locator("#bell").click()
    page.wait_for_url(re.compile(r"/notifications$"))
    enterprise.seen("notifications")
    message_item = page.locator(".notification-item", has_text=MESSAGE[:40]).filter(has_text=asked["dossier_code"])
    message_item.get_by_role("button", name=text["open"], exact=True).click()
    page.wait_for_url(re.compile(rf"/enterprise/applications/{asked['id']}#messages$"))
    enterprise.seen("application-messages")
    assert MESSAGE in page.locator("#message-thread").inner_text()
    assert NOTE not in page.content()  # the internal note never reaches the enterprise
    assert bell_count(enterprise) == before + 3

    # ---- "what needs doing" → the request, answered item by item ------------------------------------------------
    workspace(enterprise, "dashboard-todo")
    page.locator(f"#todo-supplement a[href*='{asked['id']}']").click()
    page.wait_for_url(re.compile(r"#supplement-requests$"))
    enterprise.seen("supplement-request")
    page.fill("#f-answer-1", "Báo cáo kiểm toán đã ký, đóng dấu; bản gốc nộp khi thẩm định tại cơ sở.")
    page.locator("#answer-item-1").click()  # htmx posts it and swaps the section in
    page.locator("#item-saved").wait_for()
    enterprise.settle()
    enterprise.seen("supplement-first-answer")
    assert api.get(asked)["egov_status"] == 5
    page.set_input_files(
        "#f-file-2",
        files=[
            {
                "name": "Báo giá lò cảm ứng.pdf",
                "mimeType": "application/pdf",
                "buffer": minimal_pdf("Bao gia lo cam ung"),
            }
        ],
    )
    page.locator("#answer-item-2").click()
    page.locator("#supplement-done").wait_for()
    enterprise.settle()
    enterprise.seen("supplement-answered")
    assert text["done"] in page.locator("#supplement-done").inner_text()
    back = api.get(asked)  # the last answer returned the dossier to processing in its own transaction
    assert back["status"] == "under_review" and back["egov_status"] == 4 and back["open_supplement_id"] is None
    page.reload()
    enterprise.seen("application-back-in-processing")
    assert "Báo giá lò cảm ứng.pdf" in page.locator("#supplement-requests").inner_text()

    # ---- the settings (statutory kinds locked) and the officer's own list ----------------------------------------
    enterprise.goto("/notifications/preferences", "preferences")
    locked = page.locator("#f-decision_made-email")
    assert locked.is_disabled() and locked.is_checked()
    page.uncheck("#f-message_received-email")
    page.locator("#save-preferences").click()
    page.locator("#preferences-saved").wait_for()
    enterprise.seen("preferences-saved")
    assert not page.locator("#f-message_received-email").is_checked()
    page.check("#f-message_received-email")  # back on for the other tests of the session
    page.locator("#save-preferences").click()
    page.locator("#preferences-saved").wait_for()
    enterprise.seen("preferences-restored")
    officer.goto("/notifications", "officer-notifications")
