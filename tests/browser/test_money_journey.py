"""Issue 15's screens in real Chromium through the real stack, Vietnamese and English (screenshots of every page in
test-artifacts/screenshots/test_money_journey-<language>-<person>/, axe on each — browser_helpers.Ui.seen):

- money: a call funded by a donor programme and the city budget; finance1 finds the advance on the "Thanh toán" work
  list and prepares it; officer1 approves it from the case's tranches tab; finance1 marks it paid (a wrong amount is
  shown at its field first); the enterprise sees the payment on its application page; the call's funding page;
- M&V corrections: officer1 approves a reporting start on the case's verification tab; verifier1 records a
  non-routine adjustment (an empty reason refused at its field) and withdraws a period; officer1 approves the
  adjustment and proposes a re-freeze; verifier1 confirms it and both baselines' figures are shown.

Through the API only what these screens do not do: the dossiers are filed, reviewed, decided, started and completed,
the verifier assigned and declared, and the reporting months recorded."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from browser_helpers import Ui
from e2e_helpers import HANOISTEEL, THANGLONG, Api, today
from test_programme_journey import person
from test_verification_flow import assign, case_of, declare, poll, read_case, record, reporting_year

DONOR = {
    "code": "donor-unido",
    "name": "Chương trình SXSH của UNIDO",
    "kind": "foreign_donor",
    "amount_vnd": 500_000_000,
}
CITY = {"code": "city-budget", "name": "Ngân sách thành phố Hà Nội", "kind": "city_budget", "amount_vnd": 9_500_000_000}
TEXT = {
    "vi": {"paid": "Đã chi", "prepared": "Đã lập lệnh chi", "amount": "phải bằng số tiền", "withdrawn": "Đã rút"},
    "en": {
        "paid": "Paid",
        "prepared": "The payment is prepared",
        "amount": "must be the tranche's amount",
        "withdrawn": "Withdrawn",
    },
}
ADJUSTMENT = "Lắp thêm máy nén khí 75 kW từ tháng 3/2026 cho dây chuyền chiết chai mới (công tơ phụ riêng)"


def error_at(ui: Ui, field: str) -> str:
    return ui.page.locator(f"#{field}-error").inner_text()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_payments_from_the_work_list_to_the_enterprise(new_ui: Callable[..., Ui], api: Api, language: str) -> None:
    text = TEXT[language]
    call = api.call(
        title=f"Đợt hỗ trợ – hai nguồn kinh phí ({language})", budget_vnd=10_000_000_000, funding_sources=[DONOR, CITY]
    )
    application = api.approved(call, HANOISTEEL)
    advances = [t for t in application["tranches"] if t["kind"] == "advance"]
    assert len(advances) == 2  # 800 M: 500 M from the donor, 300 M from the city budget, each its own advance
    donor_advance = next(t for t in advances if t["amount_vnd"] == 150_000_000)

    finance = person(new_ui, "finance1", "finance1", language)
    finance.goto("/payments", "work-list")
    finance.page.locator(f"#open-{donor_advance['id']}").click()
    finance.page.wait_for_url(re.compile(rf"/payments/{application['id']}/{donor_advance['id']}$"))
    finance.seen("tranche-payable")
    finance.page.locator("#take-step").click()
    finance.page.locator("#step-done").wait_for()
    finance.seen("tranche-prepared")
    assert text["prepared"] in finance.page.locator("#step-done").inner_text()

    officer = person(new_ui, "officer1", "officer1", language)
    officer.goto(f"/officer/applications/{application['id']}/tranches", "case-tranches")
    officer.page.locator(f"#approve-{donor_advance['id']}").click()
    officer.page.wait_for_load_state("load")
    officer.seen("tranche-to-approve")
    officer.page.locator("#take-step").click()
    officer.page.locator("#step-done").wait_for()
    officer.seen("tranche-approved")

    finance.goto(f"/payments/{application['id']}/{donor_advance['id']}", "tranche-to-mark-paid")
    finance.page.fill("#f-paid_on", today().isoformat())
    finance.page.fill("#f-reference", "KBNN-HN/2026/000451")
    finance.page.fill("#f-amount_vnd", "15.000.000")
    finance.page.locator("#take-step").click()
    finance.page.locator("#f-amount_vnd-error").wait_for()
    finance.seen("tranche-wrong-amount")
    assert text["amount"] in error_at(finance, "f-amount_vnd").lower()
    finance.page.fill("#f-amount_vnd", "150.000.000")
    finance.page.locator("#take-step").click()
    finance.page.locator("#step-done").wait_for()
    finance.seen("tranche-paid")
    paid = next(t for t in api.get(application)["tranches"] if t["id"] == donor_advance["id"])
    assert (paid["status"], paid["payment_reference"]) == ("paid", "KBNN-HN/2026/000451")
    finance.goto("/payments/calls", "funding-calls")
    finance.page.locator(f"#funding-{call['code']}").click()
    finance.page.wait_for_load_state("load")
    finance.seen("call-funding-finance")

    enterprise = person(new_ui, "enterprise", HANOISTEEL, language)
    enterprise.goto(f"/enterprise/applications/{application['id']}", "application-with-payments")
    row = enterprise.page.locator(f"tr[data-tranche='{donor_advance['id']}']").inner_text()
    assert text["paid"] in row and "KBNN-HN/2026/000451" in row and DONOR["name"] in row

    officer.goto(f"/officer/calls/{call['id']}/funding", "call-funding")
    donor_row = officer.page.locator("#source-donor-unido").inner_text()
    assert DONOR["name"] in donor_row


@pytest.mark.parametrize("language", ["vi", "en"])
def test_corrections_of_a_verification_in_the_browser(new_ui: Callable[..., Ui], api: Api, language: str) -> None:
    text = TEXT[language]
    application = api.completed(api.call(title=f"Đợt hỗ trợ – đính chính thẩm tra ({language})"), THANGLONG)
    case = case_of(api, application["id"])
    poll(lambda: read_case(api, case["id"])["ready_to_conclude"], what="the completion to reach verification")

    # officer1 approves the reporting start on the case's verification tab
    officer = person(new_ui, "officer1", "officer1", language)
    tab = f"/officer/applications/{application['id']}/verification"
    officer.goto(tab, "verification-tab")
    officer.page.fill("#f-reporting_start", "2026-01-01")
    officer.page.fill("#f-reporting_note", "Dây chuyền vận hành từ 01/2026, nghiệm thu chính thức sau đó.")
    officer.page.locator("#approve-reporting-start").click()
    officer.page.locator("#corrections-done").wait_for()
    officer.seen("reporting-start-approved")
    assert read_case(api, case["id"])["reporting_start"] == "2026-01-01"

    assert assign(api, case["id"]).status_code == 200
    assert declare(api, case["id"]).status_code == 200
    recorded = record(api, case["id"], reporting_year(read_case(api, case["id"]), THANGLONG, 0.95))

    # verifier1: an empty reason is refused at its field, then the adjustment is recorded; a period is withdrawn
    verifier = person(new_ui, "verifier1", "verifier1", language)
    verifier.goto(f"/verify/{case['id']}/corrections", "corrections")
    verifier.page.fill("#f-quantity", "-12500")
    verifier.page.select_option("#f-unit", "kWh")
    verifier.page.fill("#f-description", "Biên bản lắp đặt máy nén khí và số liệu công tơ phụ")
    verifier.page.fill("#f-url", "https://thanglong.example/bien-ban-may-nen-khi.pdf")
    verifier.page.locator("#record-adjustment").click()
    verifier.page.locator("#f-reason-error").wait_for()
    verifier.seen("adjustment-without-reason")
    verifier.page.fill("#f-reason", ADJUSTMENT)
    verifier.page.locator("#record-adjustment").click()
    verifier.page.locator("#done-banner").wait_for()
    verifier.seen("adjustment-recorded")
    last = recorded[-1]
    verifier.page.select_option("#f-measurement", f"{last['id']}:{last['revision']}")
    verifier.page.fill("#f-withdraw_reason", "Ghi nhầm chỉ số công tơ của phân xưởng khác.")
    verifier.page.locator("#withdraw-period").click()
    verifier.page.locator("#done-banner").wait_for()
    verifier.seen("period-withdrawn")
    assert text["withdrawn"] in verifier.page.locator(f"#period-{last['id']}").inner_text()

    # officer1 approves the adjustment and proposes a re-freeze
    officer.goto(tab, "verification-tab-with-adjustment")
    adjustment = officer.page.locator(".adjustment[data-status='proposed']")
    adjustment_id = adjustment.get_attribute("id").removeprefix("adjustment-")
    officer.page.fill(f"#f-decision_note-{adjustment_id}", "Đã đối chiếu biên bản lắp đặt và công tơ phụ.")
    officer.page.locator(f"#approve-adjustment-{adjustment_id}").click()
    officer.page.locator("#corrections-done").wait_for()
    officer.seen("adjustment-approved")
    officer.page.fill("#f-refreeze_reason", "Sổ đăng ký đã sửa số liệu tháng 12/2025 sau khi phê duyệt.")
    officer.page.locator("#propose-refreeze").click()
    officer.page.locator("#corrections-done").wait_for()
    officer.seen("refreeze-proposed")

    # verifier1 confirms: the figures on the old and the new baseline side by side
    verifier.goto(f"/verify/{case['id']}/corrections", "corrections-refreeze-proposed")
    refreeze = verifier.page.locator(".refreeze[data-status='proposed']")
    refreeze_id = refreeze.get_attribute("id").removeprefix("refreeze-")
    verifier.page.fill(f"#f-confirm_note-{refreeze_id}", "Đã kiểm tra hóa đơn EVN tháng 12/2025.")
    verifier.page.locator(f"#confirm-{refreeze_id}").click()
    verifier.page.locator("#done-banner, .error-summary, .notification-banner--warning").first.wait_for()
    verifier.seen("refreeze-confirmed")
    assert verifier.page.locator("#done-banner").count() == 1, verifier.page.locator("main").inner_text()[:1500]
    assert verifier.page.locator(f"#refreeze-figures-{refreeze_id} tr[data-figure='savings_toe'] td").count() == 2
