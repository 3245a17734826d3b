"""The verifier's screens on the real stack (issue 14): `verifier1` is assigned a completed project through the
API, then in the portal declares independence (nothing of the measurements before that), imports the months of
2026 that have ended (`REPORTING_MONTHS`; an officer approved reporting from January, see test_verification_flow) by
CSV (one bad line reported with its number and column), looks at the chart (3 series and the data table),
concludes; the report opens in the portal and prints on A4 with page numbers and the dossier code on every
page, with no English in the Vietnamese version. Screenshots and axe-core on real Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from e2e_helpers import HANOISTEEL, Api, poll
from portal_helpers import PortalUser, field_error, text_of
from test_verification_flow import (
    REPORTING_MONTHS,
    SEED_LINES,
    TAX,
    approve_reporting_start,
    assign,
    case_of,
    declare,
    measurement,
    read_case,
    record,
    reporting_year,
)

from infra.devstack import Stack

SVG = "{http://www.w3.org/2000/svg}"
ARTIFACTS = Path(os.environ.get("CLEANPROD_ARTIFACTS", Path(__file__).resolve().parents[2] / ".artifacts")) / "verify"
# Words of the English report (and developer hints) that must not appear in the Vietnamese one.
MONTHS = len(REPORTING_MONTHS)
BAD_LINE = MONTHS + 2  # after the header and the months
ENGLISH_WORDS = (
    "verified",
    "baseline",
    "check",
    "GET /api",
    "savings",
    "report",
    "verifier",
    "enterprise",
    "reporting",
    "regression",
    "criterion",
    "uncertainty",
    "confidence",
    "norm ",
    "signature",
    "period",
    "method",
    "Verdict",
    " the ",
    " of ",
    " and ",
)


@pytest.fixture(scope="module")
def case(api: Api) -> dict[str, Any]:
    """A completed Hanoisteel project whose case is assigned to verifier1 (not yet declared)."""
    application = api.completed(api.call(), HANOISTEEL)
    opened = case_of(api, application["id"])
    poll(lambda: read_case(api, opened["id"])["ready_to_conclude"], what="the completion to reach verification")
    approve_reporting_start(api, opened["id"])
    assert assign(api, opened["id"]).status_code == 200
    return read_case(api, opened["id"])


@pytest.fixture(scope="module")
def verifier(stack: Stack) -> Any:
    user = PortalUser(stack.url("portal"), "verifier1", home="/verify")
    yield user
    user.close()


def _vi_number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".").replace(".", ",")


def measurement_csv(case: dict[str, Any]) -> bytes:
    """The reporting months of 2026 at 90 % of the seed line (as test_verification_flow), Vietnamese decimal
    commas, and one bad line (a production that is not a number) at file line BAD_LINE."""
    line = SEED_LINES[TAX[HANOISTEEL]]
    carriers = list(line["carriers"].items())
    header = [
        "period",
        "production",
        "production_unit",
        *[f"{c} ({unit})" for c, (unit, _f, _p) in carriers],
        "evidence_url",
        "evidence_description",
    ]
    rows = [";".join(header)]
    for body in reporting_year(case, HANOISTEEL, 0.90):
        quantities = {c["carrier"]: c["quantity"] for c in body["consumption"]}
        month = body["period_start"][:7]
        rows.append(
            ";".join(
                [
                    month,
                    _vi_number(body["production"]["quantity"]),
                    body["production"]["unit"],
                    *[_vi_number(quantities[c]) for c, _spec in carriers],
                    f"https://evn.example.vn/hoa-don/{month}",
                    f"Hóa đơn EVN và sổ sản xuất {month}",
                ]
            )
        )
    rows.append(";".join(["2027-01", "mười hai", "t", *["1" for _ in carriers], "", "Dòng lỗi"]))
    return ("\ufeff" + "\r\n".join(rows) + "\r\n").encode()


def test_verifier_declares_imports_sees_chart_and_concludes(
    verifier: PortalUser, case: dict[str, Any], api: Api, stack: Stack
) -> None:
    case_id = case["id"]
    queue = verifier.get("/verify")
    assert queue.status_code == 200 and f'id="case-{case_id}"' in queue.text
    assert "Cần cam kết độc lập" in text_of(queue.text)

    # declaration first: the measurement and results screens lead to it
    for page in ("measurements", "results"):
        response = verifier.get(f"/verify/{case_id}/{page}")
        assert response.status_code == 303 and response.headers["location"] == f"/verify/{case_id}/declaration"
    form = verifier.get(f"/verify/{case_id}/declaration")
    assert 'id="declaration-form"' in form.text
    version = re.search(r'name="version" value="([^"]*)"', form.text)[1]
    missing = verifier.post(f"/verify/{case_id}/declaration", {"version": version, "independent": "true"})
    assert missing.status_code == 422 and field_error(missing.text, "f-statement")
    declared = verifier.post(
        f"/verify/{case_id}/declaration",
        {
            "version": version,
            "independent": "true",
            "statement": "Tôi cam kết độc lập với doanh nghiệp và nhà cung cấp công nghệ.",
        },
    )
    assert declared.status_code == 303, declared.text
    assert read_case(api, case_id)["status"] == "measuring"

    # evidence the verifier collected: attached to the application, then offered by the measurement forms
    nothing = verifier.client.post(
        f"/verify/{case_id}/evidence",
        data={"csrf_token": verifier.csrf},
        files={"evidence_file": ("", b"", "application/octet-stream")},
    )
    assert nothing.status_code == 422 and field_error(nothing.text, "f-evidence_file")
    # the applications service learns of the assignment from the verification service's event (outbox)
    application_url = f"/api/v1/applications/{case['application_id']}"
    poll(
        lambda: api.client.get(application_url, headers=api.h("verifier1")).status_code == 200,
        what="the verifier's assignment to reach the applications service",
    )
    pdf = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    attached = verifier.client.post(
        f"/verify/{case_id}/evidence",
        data={"csrf_token": verifier.csrf},
        files={"evidence_file": ("Chỉ số công tơ 2026.pdf", pdf, "application/pdf")},
    )
    assert attached.status_code == 303, text_of(attached.text)[:2000]
    shown = verifier.get(attached.headers["location"])
    assert "Đã đính kèm Chỉ số công tơ 2026.pdf." in text_of(shown.text)
    documents = api.client.get(f"/api/v1/applications/{case['application_id']}/documents", headers=api.h("verifier1"))
    evidence = [d for d in documents.json()["items"] if d["kind"] == "measurement_evidence"]
    assert [d["filename"] for d in evidence] == ["Chỉ số công tơ 2026.pdf"]
    assert f'<option value="{evidence[0]["id"]}"' in shown.text  # citable in the forms below

    # CSV import: every month saved, the bad line reported with its line number and column
    uploaded = verifier.client.post(
        f"/verify/{case_id}/measurements/upload",
        data={"csrf_token": verifier.csrf},
        files={"file": ("do-2026.csv", measurement_csv(case), "text/csv")},
    )
    assert uploaded.status_code == 200, text_of(uploaded.text)[:3000]
    page = uploaded.text
    assert f"{MONTHS} dòng đã được lưu" in text_of(page) or f"{MONTHS} dòng" in text_of(page)
    bad = re.search(rf'id="upload-line-{BAD_LINE}".*?</tr>', page, re.S)
    assert bad and "production" in bad[0], text_of(page)[:3000]
    listed = api.client.get(f"/api/v1/verifications/{case_id}/measurements", headers=api.h("officer1")).json()
    assert len(listed["items"]) == MONTHS
    assert listed["items"][0]["current"]["evidence"]["url"].startswith("https://evn.example.vn/hoa-don/2026-")

    # the results: figures beside the chart (3 series over 24 baseline + the reporting months) and its table
    results = verifier.get(f"/verify/{case_id}/results")
    assert results.status_code == 200
    svg = re.search(r"<svg.*?</svg>", results.text, re.S)[0]
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Tiêu thụ năng lượng theo kỳ (TOE)"
    series = [g for g in root.iter(f"{SVG}g") if g.get("class") == "chart__series"]
    assert [g.get("data-series") for g in series] == ["Đường cơ sở (trước dự án)", "Đường cơ sở điều chỉnh", "Thực tế"]
    markers = [
        len(list(g.iter(f"{SVG}circle"))) + len(list(g.iter(f"{SVG}rect"))) + len(list(g.iter(f"{SVG}polygon")))
        for g in series
    ]
    assert markers == [24, MONTHS, MONTHS]
    table = re.search(r'<table class="table chart-table" id="energy-chart-table">.*?</table>', results.text, re.S)[0]
    assert table.count('<th scope="row">') == 24 + MONTHS and "01/2026" in table
    preview = api.client.get(f"/api/v1/verifications/{case_id}/preview", headers=api.h("verifier1")).json()
    adjusted = [
        float(c.replace(".", "").replace(",", "."))
        for c in re.findall(
            r'<td class="numeric">([\d.,]+)</td><td class="numeric">[\d.,]+</td></tr>',
            table.replace("\n", "").replace("  ", ""),
        )
    ]
    assert sum(adjusted) == pytest.approx(preview["savings"]["adjusted_baseline_toe"], rel=1e-3)
    text = text_of(results.text)
    for label in ("R²", "CV(RMSE)", "NMBE", "ở độ tin cậy 90\u00a0%", "Mô hình hồi quy đường cơ sở"):
        assert label in text, label

    # conclude (the review note is optional here: the API does not ask for a review)
    version = re.search(r'name="version" value="([^"]*)"', results.text)[1]
    concluded = verifier.post(
        f"/verify/{case_id}/conclude", {"version": version, "review_note": "Số liệu khớp hóa đơn EVN."}
    )
    assert concluded.status_code == 303, text_of(concluded.text)[:2000]
    assert read_case(api, case_id)["status"] == "concluded"
    done = verifier.get(f"/verify/{case_id}/results?concluded=1")
    assert 'id="verification-report"' in done.text and 'id="conclude-form"' not in done.text

    report = verifier.get(f"/verify/{case_id}/report")
    assert report.status_code == 200 and "sandbox" in report.headers["content-security-policy"]
    assert case["dossier_code"] in report.text
    # openable by those who may read the case: an auditor from the officer's case page (read only)
    auditor = PortalUser(stack.url("portal"), "auditor1", home="/staff")
    try:
        tab = auditor.get(f"/officer/applications/{case['application_id']}/verification")
        assert tab.status_code == 200 and 'id="verification-report"' in tab.text
        filed = auditor.get(f"/officer/applications/{case['application_id']}/verification-report")
        assert filed.status_code == 200 and case["dossier_code"] in filed.text
        assert "sandbox" in filed.headers["content-security-policy"]
    finally:
        auditor.close()
    _screenshots_and_pdf(stack, verifier, case_id, case["dossier_code"], report.text)


def _pdf_pages(pdf: Path) -> list[str]:
    if not shutil.which("pdftotext"):
        subprocess.run(["apt-get", "install", "-y", "-q", "poppler-utils"], check=False, capture_output=True)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return [page for page in text.split("\f") if page.strip()]


def _screenshots_and_pdf(stack: Stack, verifier: PortalUser, case_id: str, dossier: str, vi_report: str) -> None:
    playwright = pytest.importorskip("playwright.sync_api")
    from axe_playwright_python.sync_playwright import Axe

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    cookies = [{"name": c.name, "value": c.value, "url": stack.url("portal")} for c in verifier.client.cookies.jar]
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_cookies(cookies)
        page = context.new_page()
        axe = Axe()
        for language in ("vi", "en"):
            page.goto(f"{stack.url('portal')}/language/{language}?next=/verify")
            for name, path in (
                ("queue", "/verify"),
                ("case", f"/verify/{case_id}"),
                ("declaration", f"/verify/{case_id}/declaration"),
                ("measurements", f"/verify/{case_id}/measurements"),
                ("results", f"/verify/{case_id}/results"),
            ):
                page.goto(stack.url("portal") + path)
                assert page.locator("html").get_attribute("lang") == language
                if language == "en" and name == "results":
                    assert "Adjusted baseline" in page.content() and "Đường cơ sở điều chỉnh" not in page.content()
                page.screenshot(path=str(ARTIFACTS / f"{name}-{language}.png"), full_page=True)
                violations = axe.run(page).response["violations"]
                serious = [(v["id"], v["impact"]) for v in violations if v["impact"] in ("serious", "critical")]
                assert not serious, (language, name, serious)
            # the report, printed by Chromium on A4 (the report's own @page rules: size, page numbers, dossier)
            page.goto(f"{stack.url('portal')}/verify/{case_id}/report")
            page.screenshot(path=str(ARTIFACTS / f"report-{language}.png"), full_page=True)
            pdf = ARTIFACTS / f"report-{language}.pdf"
            page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
            pages = _pdf_pages(pdf)
            assert len(pages) >= 3, len(pages)
            word = "Trang" if language == "vi" else "Page"
            for number, text in enumerate(pages, start=1):
                assert dossier in text, (language, number)
                assert re.search(rf"{word} {number}\s*/\s*{len(pages)}", text), (language, number, text[-400:])
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
            assert "595.92 x 842.88" in info or "595 x 842" in info or "(A4)" in info, info
            if language == "vi":
                joined = " ".join(pages)
                found = [w for w in ENGLISH_WORDS if w.lower() in joined.lower()]
                assert not found, found
        browser.close()


def test_a_declared_conflict_closes_the_measurement_screens(api: Api, stack: Stack) -> None:
    application = api.completed(api.call(), HANOISTEEL)
    opened = case_of(api, application["id"])
    poll(lambda: read_case(api, opened["id"])["ready_to_conclude"], what="the completion to reach verification")
    assert assign(api, opened["id"], "verifier2").status_code == 200
    case_id = opened["id"]
    user = PortalUser(stack.url("portal"), "verifier2", home="/verify", language="en")
    try:
        form = user.get(f"/verify/{case_id}/declaration")
        assert "Are you independent of the enterprise" in form.text
        version = re.search(r'name="version" value="([^"]*)"', form.text)[1]
        declared = user.post(
            f"/verify/{case_id}/declaration",
            {"version": version, "independent": "false", "statement": "Tôi từng làm việc cho nhà cung cấp."},
        )
        assert declared.status_code == 303 and declared.headers["location"] == f"/verify/{case_id}"
        assert read_case(api, case_id)["status"] == "conflict"
        page = user.get(f"/verify/{case_id}")
        assert 'id="conflict-banner"' in page.text and "You declared a conflict of interest" in page.text
        for screen in ("measurements", "results"):
            response = user.get(f"/verify/{case_id}/{screen}")
            assert response.status_code == 303 and response.headers["location"] == f"/verify/{case_id}"
        # a forged form post is refused by the API: the portal shows its 403 page, nothing is recorded
        forged = user.post(
            f"/verify/{case_id}/measurements",
            {
                "period": "2026-01",
                "production_quantity": "100",
                "production_unit": "t",
                "electricity_quantity": "10",
                "electricity_unit": "MWh",
                "evidence_url": "https://evn.example.vn/x",
                "evidence_description": "x",
            },
        )
        assert forged.status_code == 403
        listed = api.client.get(f"/api/v1/verifications/{case_id}/measurements", headers=api.h("officer1")).json()
        assert listed["items"] == []
        assert f'id="case-{case_id}"' in user.get("/verify").text
    finally:
        user.close()


def test_a_result_that_needs_a_review_asks_for_the_note_at_the_field(verifier: PortalUser, api: Api) -> None:
    """Production half as high again as in any baseline month (the seed line's own energy, no saving): the model is
    outside its range, the API requires a review note, and the results page says so and asks for it at the field."""
    application = api.completed(api.call(), HANOISTEEL)
    opened = case_of(api, application["id"])
    poll(lambda: read_case(api, opened["id"])["ready_to_conclude"], what="the completion to reach verification")
    case_id = opened["id"]
    approve_reporting_start(api, case_id)  # the months reported run before today's completion (issue 15 dates)
    assert assign(api, case_id).status_code == 200 and declare(api, case_id).status_code == 200
    top = max(p["production"]["quantity"] for p in read_case(api, case_id)["baseline"]["periods"])
    record(api, case_id, [measurement(HANOISTEEL, m, round(top * 1.5), 1.0) for m in REPORTING_MONTHS])
    page = verifier.get(f"/verify/{case_id}/results")
    assert page.status_code == 200 and 'id="review-required"' in page.text, text_of(page.text)[:2000]
    version = re.search(r'name="version" value="([^"]*)"', page.text)[1]
    refused = verifier.post(f"/verify/{case_id}/conclude", {"version": version, "review_note": "  "})
    assert refused.status_code == 422 and field_error(refused.text, "f-review_note"), text_of(refused.text)[:2000]
    assert 'href="#f-review_note"' in refused.text
    assert read_case(api, case_id)["status"] == "measuring"
    concluded = verifier.post(
        f"/verify/{case_id}/conclude",
        {
            "version": version,
            "review_note": "Sản lượng tăng 50 %, ngoài phạm vi đường cơ sở; chấp nhận giá trị thấp hơn.",
        },
    )
    assert concluded.status_code == 303, text_of(concluded.text)[:2000]
    result = api.client.get(f"/api/v1/verifications/{case_id}/result", headers=api.h("officer1")).json()
    assert result["review_note"].startswith("Sản lượng tăng 50 %")
