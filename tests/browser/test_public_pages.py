"""Public pages in real Chromium: Vietnamese with diacritics as the user reads it (rendered text read back), the
English switch, and the dossier look-up's error next to its field."""

from __future__ import annotations

from browser_helpers import Ui


def test_public_pages_read_back_in_vietnamese(ui: Ui) -> None:
    ui.goto("/", "home")
    text = ui.page.inner_text("main")
    assert "Chương trình hỗ trợ sản xuất sạch hơn" in text
    assert "6–8\u00a0%" in text or "6–8 %" in text
    assert ui.page.title().endswith("Sở Công Thương Hà Nội")
    assert ui.page.locator(".skip-link").inner_text() == "Chuyển đến nội dung chính"

    ui.page.locator(".service-nav").get_by_role("link", name="Đợt tiếp nhận hồ sơ").click()
    ui.seen("calls")
    assert ui.path == "/calls"
    assert ui.page.locator("h1").inner_text() == "Các đợt tiếp nhận hồ sơ"

    ui.page.locator(".service-nav").get_by_role("link", name="Tra cứu hồ sơ").click()
    ui.seen("dossier-lookup")
    assert ui.page.locator("h1").inner_text() == "Tra cứu hồ sơ"


def test_dossier_lookup_error_is_next_to_the_field_in_both_languages(ui: Ui) -> None:
    ui.goto("/dossiers", "dossier-lookup")
    field = ui.page.get_by_label("Mã hồ sơ")
    field.fill("không-phải-mã")
    field.press("Enter")
    ui.page.locator(".error-summary").wait_for()
    ui.seen("dossier-lookup-invalid")
    summary = ui.page.locator(".error-summary")
    assert "000.00.01.H26-261128-0001" in summary.inner_text()
    described = field.get_attribute("aria-describedby") or ""
    assert any("error" in part for part in described.split()), described

    # The same answer as a full page (a bookmark of the pushed URL), then in English: the code stays.
    ui.goto(ui.path, "dossier-lookup-invalid-reloaded", expect_status=422)
    ui.switch_language("en")
    assert ui.page.locator("h1").inner_text() == "Look up a dossier"
    assert "Enter the dossier code as printed on your receipt" in ui.page.locator(".error-summary").inner_text()
    ui.page.get_by_label("Dossier code").fill("000.00.01.H26-010101-9999")
    ui.page.get_by_role("button", name="Look up").click()
    ui.page.locator(".error-summary").wait_for()
    ui.seen("dossier-lookup-unknown-en")
    assert "No dossier has this code" in ui.page.locator(".error-summary").inner_text()
