"""Messages and supplement requests in the portal (issue 10), through the real stack: Keycloak's login page, the
gateway, the applications service and the portal process. An officer writes on the case page (shared message
with a file, internal note), the enterprise reads and answers on its application page and never sees the note;
an officer asks for a supplement (If-Match: a stale version shows the banner), the enterprise sees it on its
dashboard, answers item by item (text, then a file) and the dossier returns to processing. vi and en."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, Api, minimal_pdf
from portal_helpers import PortalUser, field_error, text_of

from infra.devstack import Stack

NOTE = "Ghi chú nội bộ: đối chiếu báo giá với đơn giá của Sở Xây dựng"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 300
NO_FILE = ("", b"", "application/octet-stream")  # what a browser sends for a file input left empty
IDEMPOTENCY = re.compile(r'name="idempotency_key" value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d+)"')
TEXTS = {
    "vi": {
        "write": "Hãy nhập nội dung tin nhắn",
        "file_type": "Tệp phải là PDF",
        "sent": "Tin nhắn đã được gửi.",
        "item": "Hãy nhập ít nhất một mục doanh nghiệp cần bổ sung",
        "changed": "Hồ sơ vừa được thay đổi",
        "done": "Đã trả lời đủ các mục",
        "empty_answer": "Hãy nhập nội dung trả lời hoặc chọn tệp",
    },
    "en": {
        "write": "Write your message",
        "file_type": "The file must be a PDF",
        "sent": "Your message was sent.",
        "item": "Write at least one item the enterprise must supply",
        "changed": "Changed meanwhile",
        "done": "Every item is answered",
        "empty_answer": "Write an answer or choose a file",
    },
}


@pytest.fixture(scope="module")
def call(api: Api) -> dict[str, Any]:
    return api.call(title="Đợt hỗ trợ – tin nhắn và yêu cầu bổ sung (kiểm thử)")


@pytest.fixture(params=["vi", "en"])
def language(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def people(stack: Stack, language: str) -> Iterator[tuple[PortalUser, PortalUser]]:
    officer = PortalUser(stack.url("portal"), "officer1", language=language, home="/staff")
    enterprise = PortalUser(stack.url("portal"), HANOISTEEL, language=language)
    yield officer, enterprise
    officer.close()
    enterprise.close()


def send(
    user: PortalUser,
    path: str,
    data: dict[str, str],
    file: tuple[str, bytes, str] | None = None,
    *,
    page_path: str | None = None,
) -> Any:
    """Post the form on `page_path` (default: the same path) as the browser would: its token and idempotency key."""
    page = user.get(page_path or path)
    key = IDEMPOTENCY.search(page.text)
    fields = {"csrf_token": user.csrf, "idempotency_key": key[1] if key else "", **data}
    return user.client.post(path, data=fields, files={"file": file or NO_FILE})  # always multipart, as the form


def test_thread_shared_and_internal(people: tuple[PortalUser, PortalUser], api: Api, call: dict, language: str) -> None:
    officer, enterprise = people
    texts = TEXTS[language]
    application = api.submitted(call)
    case = f"/officer/applications/{application['id']}/messages"
    own = f"/enterprise/applications/{application['id']}"

    empty = send(officer, case, {"body": " ", "visibility": "shared"})
    assert empty.status_code == 422 and field_error(empty.text, "f-body") == texts["write"]
    refused = send(
        officer,
        case,
        {"body": "Đề nghị gửi bản chụp hóa đơn.", "visibility": "shared"},
        ("a.pdf", EXE, "application/pdf"),
    )
    assert refused.status_code == 422 and texts["file_type"] in (field_error(refused.text, "f-file") or "")
    shared = send(
        officer,
        case,
        {"body": "Đề nghị doanh nghiệp gửi hóa đơn điện tháng 10/2026.", "visibility": "shared"},
        ("Mẫu biên bản đối chiếu.pdf", minimal_pdf(), "application/pdf"),
    )
    assert shared.status_code == 303, shared.text[:500]
    assert send(officer, case, {"body": NOTE, "visibility": "internal"}).status_code == 303
    # A long message (well past the upload relay's default 1 KB per field) arrives whole, diacritics and all.
    long_text = "Đề nghị bổ sung hóa đơn điện, nước và khí đốt của từng tháng. " * 50
    assert send(officer, case, {"body": long_text, "visibility": "internal"}).status_code == 303
    staff_page = officer.get(case)
    assert NOTE in text_of(staff_page.text) and "Mẫu biên bản đối chiếu.pdf" in staff_page.text
    assert long_text.strip() in text_of(staff_page.text)

    page = enterprise.get(own)
    assert page.status_code == 200
    seen = text_of(page.text)
    assert "hóa đơn điện tháng 10/2026" in seen and "Mẫu biên bản đối chiếu.pdf" in seen
    assert NOTE not in page.text and "message--internal" not in page.text
    link = re.search(r'href="(/enterprise/applications/[^"]+/documents/[^"]+)"', page.text)
    assert link and enterprise.get(link[1]).content == minimal_pdf()
    # The enterprise writes no internal note: a forged visibility is ignored (always shared).
    reply = send(
        enterprise, f"{own}/messages", {"body": "Chúng tôi gửi kèm hóa đơn.", "visibility": "internal"}, page_path=own
    )
    assert reply.status_code == 303 and reply.headers["location"].endswith("#messages")
    assert texts["sent"] in text_of(enterprise.get(reply.headers["location"]).text)
    thread = api.client.get(f"/api/v1/applications/{application['id']}/messages", headers=api.h(HANOISTEEL)).json()
    # The text refused a file was sent without it (the form said so); the note never reaches the enterprise.
    assert [(m["visibility"], len(m["attachments"])) for m in thread["items"]] == [
        ("shared", 0),
        ("shared", 1),
        ("shared", 0),
    ]
    assert "Chúng tôi gửi kèm hóa đơn." in text_of(officer.get(case).text)
    # Auditors read the thread, the internal note included, without the form (and the supplements tab too).
    auditor = PortalUser(officer.client.base_url.__str__(), "auditor1", language=language, home="/staff")
    try:
        read = auditor.get(case)
        assert read.status_code == 200 and NOTE in text_of(read.text) and 'id="message-form"' not in read.text
        tab = auditor.get(f"/officer/applications/{application['id']}/supplements")
        assert tab.status_code == 200 and 'id="supplement-form"' not in tab.text
        assert auditor.post(case, {"body": "x", "visibility": "shared"}).status_code == 403
    finally:
        auditor.close()
    # The officer's form is for officers: an enterprise's forged POST gets the 403 page.
    assert enterprise.post(f"/officer/applications/{application['id']}/messages", {"body": "x"}).status_code == 403


def test_supplement_request_answered_item_by_item(
    people: tuple[PortalUser, PortalUser], api: Api, call: dict, language: str
) -> None:
    officer, enterprise = people
    texts = TEXTS[language]
    application = api.reviewed(api.submitted(call))
    tab = f"/officer/applications/{application['id']}/supplements"
    page = officer.get(tab)
    version = VERSION.search(page.text)[1]
    none = send(officer, tab, {"version": version})
    assert none.status_code == 422 and field_error(none.text, "f-items-0-needed") == texts["item"]
    items = {
        "items.0.needed": "Báo cáo kiểm toán năng lượng năm 2025 có chữ ký",
        "items.1.needed": "Báo giá lò cảm ứng",
    }
    stale = send(officer, tab, {"version": str(int(version) - 1), **items})
    assert stale.status_code == 409 and texts["changed"] in text_of(stale.text)
    assert "Báo giá lò cảm ứng" in stale.text  # what was typed is kept
    sent = send(
        officer, tab, {"version": VERSION.search(stale.text)[1], **items, "note": "Đề nghị bổ sung trong 10 ngày."}
    )
    assert sent.status_code == 303, sent.text[:800]
    assert api.get(application)["egov_status"] == 5

    dashboard = enterprise.get("/enterprise")
    assert 'id="todo-supplement"' in dashboard.text and application["id"] in dashboard.text
    own = f"/enterprise/applications/{application['id']}"
    page = enterprise.get(own)
    assert "Báo cáo kiểm toán năng lượng năm 2025 có chữ ký" in text_of(page.text)
    forms = re.findall(r'action="(/enterprise/applications/[^"]+/items/[^"#]+)', page.text)
    assert len(forms) == 2
    empty = enterprise.client.post(
        forms[0], data={"csrf_token": enterprise.csrf, "answer": ""}, files={"file": NO_FILE}
    )
    assert empty.status_code == 422 and texts["empty_answer"] in (field_error(empty.text, "f-answer-1") or "")
    first = enterprise.client.post(
        forms[0],
        data={"csrf_token": enterprise.csrf, "answer": "Báo cáo đã ký, gửi kèm bản gốc khi thẩm định."},
        files={"file": NO_FILE},
    )
    assert first.status_code == 303 and api.get(application)["egov_status"] == 5
    second = enterprise.client.post(
        forms[1],
        data={"csrf_token": enterprise.csrf, "answer": ""},
        files={"file": ("Báo giá – lò cảm ứng.pdf", minimal_pdf("Bao gia"), "application/pdf")},
    )
    assert second.status_code == 303 and "answered=all" in second.headers["location"]
    back = api.get(application)
    assert back["status"] == "under_review" and back["egov_status"] == 4 and back["open_supplement_id"] is None
    done = enterprise.get(second.headers["location"])
    assert texts["done"] in text_of(done.text) and "Báo giá – lò cảm ứng.pdf" in text_of(done.text)
    assert 'id="todo-supplement"' not in enterprise.get("/enterprise").text
    answered = text_of(officer.get(tab).text)
    assert "Báo cáo đã ký, gửi kèm bản gốc khi thẩm định." in answered
