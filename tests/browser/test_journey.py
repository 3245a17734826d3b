"""The enterprise's whole journey in real Chromium through the real stack (issue 13 "Must show"), in Vietnamese
and — switched in the header — in English:

ent-hanoisteel logs in on Keycloak's page, adds a facility and 12 baseline months (one by hand, eleven by CSV
upload), starts an application, fills two steps, logs out, logs back in, finishes it, uploads a PDF (the progress
bar shows), submits and sees the dossier code; an officer asks for changes through the API (officer1's Keycloak
token through the gateway, after two reviews) and the request appears on the enterprise's timeline; the enterprise
edits and resubmits, keeping the dossier code. Every page is screenshotted and checked (browser_helpers.Ui.seen).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from browser_helpers import Ui
from e2e_helpers import DOSSIER, HANOISTEEL, Api, days, minimal_pdf

from cleanprod_kit.testing.data import random_tax_code

# What the user reads and clicks, per language (menus and tags; everything else goes by the pages' ids).
TEXT = {
    "vi": {
        "workspace": "Trang làm việc của tôi",
        "facilities": "Cơ sở sản xuất",
        "applications": "Hồ sơ đề nghị hỗ trợ",
        "completed": "Hoàn thành",
        "production": "1.250,5",
        "total": "3.000.000.000",
        "eligible": "2.000.000.000",
        "requested": "800.000.000",
        "requested_again": "700.000.000",
    },
    "en": {
        "workspace": "My workspace",
        "facilities": "Facilities",
        "applications": "Applications",
        "completed": "Completed",
        "production": "1,250.5",
        "total": "3,000,000,000",
        "eligible": "2,000,000,000",
        "requested": "800,000,000",
        "requested_again": "700,000,000",
    },
}
CHANGES_REASON = "Đề nghị bổ sung báo giá thứ hai của nhà cung cấp thiết bị và giảm mức hỗ trợ đề nghị."
UPLOAD_KBPS = 256  # the PDF upload is throttled so the progress bar is seen moving


def baseline_csv(months: range) -> bytes:
    """Months 2025-mm of a steel facility, as Excel saves "CSV UTF-8" (BOM, semicolons, decimal commas)."""
    lines = ["period;production;production_unit;electricity (kWh);natural_gas (m3);estimated;notes"]
    for month in months:
        lines.append(
            f"2025-{month:02d};{1180 + 10 * month},5;t;{398000 + 1000 * month};{15000 + 50 * month};;"
            f"Tháng {month} – số đọc đồng hồ tổng"
        )
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def side_menu(ui: Ui, label: str) -> None:
    ui.page.locator(".side-nav").get_by_role("link", name=label).click()
    ui.seen()


def click_and_see(ui: Ui, selector: str, url_pattern: str, name: str | None = None) -> None:
    ui.page.locator(selector).click()
    ui.page.wait_for_url(re.compile(url_pattern))
    ui.seen(name)


def task_status(ui: Ui, slug: str) -> str:
    link = ui.page.locator(f"#task-list a[href$='/{slug}']")
    return ui.page.locator("#" + link.get_attribute("aria-describedby")).inner_text().strip()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_enterprise_journey(new_ui: Callable[..., Ui], api: Api, language: str) -> None:
    text = TEXT[language]
    call = api.call(title=f"Hỗ trợ đổi mới công nghệ sản xuất sạch hơn – đợt thử nghiệm trình duyệt ({language})")
    ui = new_ui()  # Vietnamese first, as every visitor; English is switched in the header below
    page = ui.page

    # ---- log in on Keycloak's page (in English: switched in the header first) -------------------------------
    ui.goto("/", "home")
    if language == "en":
        ui.switch_language("en")
    ui.login(HANOISTEEL)
    page.locator(".service-nav").get_by_role("link", name=text["workspace"]).click()
    ui.seen("dashboard")

    # ---- a facility -------------------------------------------------------------------------------------------
    side_menu(ui, text["facilities"])
    click_and_see(ui, "#add-facility", r"/enterprise/facilities/new$", "facility-form")
    facility_name = f"Nhà máy cán thép Đông Anh – dây chuyền số {uuid.uuid4().hex[:4]}"
    page.fill("#f-name", facility_name)
    page.select_option("#f-sector_code", "steel")
    page.fill("#f-products", "Thép cuộn cán nóng\nThép thanh vằn")
    page.fill("#f-address", "Lô 7, Khu công nghiệp Đông Anh, Hà Nội")
    page.fill("#f-ward", "Xã Đông Anh")
    click_and_see(ui, "#save-facility", r"/enterprise/facilities/[0-9a-f-]{36}\?added=1", "facility-added")
    facility_id = re.search(r"/facilities/([0-9a-f-]{36})", page.url).group(1)
    assert facility_name in page.locator("h1").inner_text()  # diacritics round-trip through the API

    # ---- 12 baseline months: one by hand (htmx swaps the grid), eleven by CSV upload ------------------------
    click_and_see(ui, "#record-baselines", rf"/facilities/{facility_id}/baselines$", "baselines-empty")
    page.fill("#f-period", "2025-01")
    page.fill("#f-production_quantity", text["production"])
    page.select_option("#f-production_unit", "t")
    page.fill("#f-electricity_quantity", "412000")
    page.fill("#f-natural_gas_quantity", "15800")
    page.select_option("#f-natural_gas_unit", "m3")
    page.fill("#f-notes", "Tháng Giêng – số đọc đồng hồ tổng")
    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.locator("#add-period").click()
    page.locator("#baseline-grid tbody tr").first.wait_for()
    ui.seen("baseline-month-added")
    assert page.locator("#baseline-grid tbody tr").count() == 1
    page.set_input_files(
        "#f-file",
        files=[{"name": "so-lieu-nen-2025.csv", "mimeType": "text/csv", "buffer": baseline_csv(range(2, 13))}],
    )
    click_and_see(ui, "#upload-csv", rf"/facilities/{facility_id}/baselines", "baselines-uploaded")
    assert page.locator("#upload-errors").count() == 0, page.locator("#upload-report").inner_text()
    assert page.locator("#baseline-grid tbody tr").count() == 12
    recorded = api.client.get(
        f"/api/v1/facilities/{facility_id}/baselines", params={"limit": 50}, headers=api.h(HANOISTEEL)
    ).json()["items"]
    assert len(recorded) == 12 and {b["notes"] for b in recorded} >= {"Tháng 7 – số đọc đồng hồ tổng"}

    # ---- start an application and fill two steps ----------------------------------------------------------
    side_menu(ui, text["applications"])
    click_and_see(ui, "#start-application", r"/enterprise/applications/new$", "start")
    page.check(f"#call-{call['id']}")
    page.check(f"#facility-{facility_id}")
    click_and_see(ui, "#create-draft", r"/enterprise/applications/[0-9a-f-]{36}/tasks$", "tasks")
    application_id = re.search(r"/applications/([0-9a-f-]{36})/", page.url).group(1)
    click_and_see(ui, "#task-list a[href$='/steps/technology']", r"/steps/technology$", "step-technology")
    page.fill("#f-title", "Thay lò nung bằng lò cảm ứng trung tần và thu hồi nhiệt khí thải")
    page.fill("#f-technology", "Lò cảm ứng trung tần, biến tần IGBT cho quạt và bơm, thu hồi nhiệt để sấy liệu.")
    page.fill("#f-supplier-name", "Công ty TNHH Thiết bị Nhiệt Hà Nội")
    page.fill("#f-supplier-tax_code", random_tax_code())
    click_and_see(ui, "#save-continue", r"/steps/costs$", "step-costs")
    page.fill("#f-total_cost_vnd", text["total"])
    page.fill("#f-eligible_cost_vnd", text["eligible"])
    page.fill("#f-requested_support_vnd", text["requested"])
    click_and_see(ui, "#save-later", r"/tasks$", "tasks-two-steps-done")
    assert task_status(ui, "steps/technology") == text["completed"]
    assert task_status(ui, "steps/costs") == text["completed"]
    assert task_status(ui, "steps/savings") != text["completed"]

    # ---- log out, log back in, find the draft on the dashboard ---------------------------------------------
    ui.logout()
    ui.login(HANOISTEEL)
    page.locator(".service-nav").get_by_role("link", name=text["workspace"]).click()
    ui.seen("dashboard-with-draft")
    page.locator(f"#todo-drafts a[href='/enterprise/applications/{application_id}']").click()
    ui.seen("application-draft")
    click_and_see(ui, "#continue-application", r"/tasks$", "tasks-again")

    # ---- finish it ----------------------------------------------------------------------------------------------
    click_and_see(ui, "#task-list a[href$='/steps/savings']", r"/steps/savings$", "step-savings")
    # Choosing a carrier re-renders the rows with htmx (that carrier's units): wait for it before typing on.
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/steps/savings")):
        page.select_option("#f-claimed_savings-0-carrier", "electricity")
    ui.settle()
    assert page.locator("#f-claimed_savings-0-annual_saving-unit optgroup").count() == 0
    page.fill("#f-claimed_savings-0-saving_pct", "8")
    page.fill("#f-claimed_overall_saving_pct", "8")
    click_and_see(ui, "#save-continue", r"/steps/dates$", "step-dates")
    page.fill("#f-implementation_start", days(10))
    page.fill("#f-implementation_end", days(200))
    click_and_see(ui, "#save-continue", r"/documents$", "documents")

    # ---- a PDF, with the progress bar (upload throttled so it is seen moving) --------------------------------
    pdf = minimal_pdf("Bao cao kiem toan nang luong 2025 " * 20_000)  # ~700 kB
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": UPLOAD_KBPS * 1024},
    )
    page.evaluate("""() => { window.uploadProgress = [];
        new MutationObserver(() => { const t = document.getElementById('upload-progress-text');
            if (t && !document.getElementById('upload-progress').hidden) window.uploadProgress.push(t.textContent); })
          .observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true}); }""")
    page.set_input_files(
        "#f-file", files=[{"name": "bao-cao-kiem-toan-nang-luong.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents")):
        page.locator("#upload-document").click()
        page.wait_for_function("() => window.uploadProgress.some(p => parseInt(p) > 0 && parseInt(p) < 100)")
        page.screenshot(path=str(ui.shots / f"{ui.count + 1:02d}-upload-in-progress.png"), caret="initial")
        ui.count += 1
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    page.locator("#documents-step", has_text="bao-cao-kiem-toan-nang-luong.pdf").wait_for()
    ui.seen("document-uploaded")
    progress = page.evaluate("() => window.uploadProgress")
    assert any(0 < int(p.rstrip(" %")) < 100 for p in progress), progress

    # ---- check your answers, submit, the dossier code -------------------------------------------------------
    click_and_see(ui, "#continue", r"/check$", "check-answers")
    click_and_see(ui, "#submit-application", r"/confirmation$", "confirmation")
    dossier_code = page.locator("#dossier-code").inner_text().strip()
    assert DOSSIER.match(dossier_code), dossier_code
    assert page.locator("#due-date").count() == 1

    # ---- the officer asks for changes through the API (after the reviews the API requires) ------------------
    application = api.get(application_id)
    assert application["status"] == "under_review" and application["dossier_code"] == dossier_code
    application = api.reviewed(application)
    sent_back = api.act(
        application, "decision", "officer1", json={"outcome": "request_changes", "reason": CHANGES_REASON}
    )
    assert sent_back["status"] == "changes_requested"

    click_and_see(ui, "#to-application", rf"/applications/{application_id}$", "application-changes-requested")
    assert CHANGES_REASON in page.locator("#timeline").inner_text()
    assert CHANGES_REASON in page.locator("#requested-changes").inner_text()

    # ---- edit and resubmit --------------------------------------------------------------------------------------
    click_and_see(ui, "#edit-and-resubmit", r"/tasks$", "tasks-changes-requested")
    click_and_see(ui, "#task-list a[href$='/steps/costs']", r"/steps/costs$", "step-costs-edit")
    page.fill("#f-requested_support_vnd", text["requested_again"])
    click_and_see(ui, "#save-later", r"/tasks$", "tasks-edited")
    click_and_see(ui, "#task-list a[href$='/check']", r"/check$", "check-answers-resubmit")
    click_and_see(ui, "#submit-application", r"/confirmation$", "confirmation-resubmitted")
    assert page.locator("#dossier-code").inner_text().strip() == dossier_code
    click_and_see(ui, "#to-application", rf"/applications/{application_id}$", "application-resubmitted")
    assert CHANGES_REASON in page.locator("#timeline").inner_text()

    resubmitted = api.get(application_id)
    assert resubmitted["status"] == "under_review" and resubmitted["dossier_code"] == dossier_code
    assert resubmitted["requested_support_vnd"] == 700_000_000
    assert [
        d["filename"]
        for d in api.client.get(f"/api/v1/applications/{application_id}/documents", headers=api.h(HANOISTEEL)).json()[
            "items"
        ]
    ] == ["bao-cao-kiem-toan-nang-luong.pdf"]
