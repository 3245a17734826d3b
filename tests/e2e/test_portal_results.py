"""Programme results in the portal (issue 14), through the real stack: a concluded verification shows on the
staff results page as a chart with its data table and a CSV equal to the API's summary; the public page needs
no login, shows the same aggregates the anonymous API gives and no enterprise's name or tax code."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from e2e_helpers import HANOISTEEL, THANGLONG, Api
from portal_helpers import PortalUser, text_of
from test_verification_flow import application_in, conclude, ready_case, record, reporting_year

from infra.devstack import Stack

ENTERPRISE_NAMES = ("Thép Hà Nội", "Hanoi Steel", "Bia Thăng Long", "Nội Bài", "0100109106", "0101243150")


@pytest.fixture(scope="module")
def concluded(api: Api) -> dict[str, Any]:
    application, case = ready_case(api, HANOISTEEL, title="Thu hồi nhiệt khói lò – dự án điển hình kiểm thử")
    record(api, case["id"], reporting_year(case, HANOISTEEL, 0.9))
    response = conclude(api, case["id"], review_note="Số liệu khớp hóa đơn.")
    assert response.status_code == 200, response.text
    return {**response.json(), "application": application_in(api, application["id"], "verified")}


@pytest.fixture(scope="module")
def auditor(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack.url("portal"), "auditor1", home="/audit")
    yield user
    user.close()


def rows_of(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_staff_results_show_a_chart_a_table_and_a_csv_equal_to_the_api(
    auditor: PortalUser, api: Api, concluded: dict[str, Any]
) -> None:
    page = auditor.get("/results")
    assert page.status_code == 200, page.text
    for chart in ("chart-over-time", "chart-by-sector", "chart-by-district"):
        assert f'id="{chart}-figure"' in page.text and f'id="{chart}-table"' in page.text, chart
    assert "<svg" in page.text and 'role="img"' in page.text
    assert 'id="table-sector"' in page.text and "Kết quả Chương trình" in page.text
    summary = api.client.get("/api/v1/programme/summary", headers=api.h("auditor1")).json()
    steel = next(g for g in summary["by_sector"] if g["sector_code"] == "steel")
    assert steel["cases"] >= 1

    rows = rows_of(auditor.get("/results/sector.csv"))
    assert [r["sector_code"] for r in rows] == [g["sector_code"] or "" for g in summary["by_sector"]]
    for row, group in zip(rows, summary["by_sector"]):
        assert float(row["savings_toe"]) == pytest.approx(group["savings_toe"], rel=1e-12)
        assert int(row["cases"]) == group["cases"] and row["meets_target"] == str(group["meets_target"]).lower()
    periods = rows_of(auditor.get("/results/period.csv", params={"period": "year"}))
    yearly = api.client.get("/api/v1/programme/summary", params={"period": "year"}, headers=api.h("auditor1")).json()
    assert [r["period"] for r in periods] == [g["period"] for g in yearly["by_period"]]

    auditor.get("/language/en", params={"next": "/audit"})  # the session keeps the language
    try:
        english = auditor.get("/results?period=year")
        assert english.status_code == 200 and "Verified savings over time" in english.text
    finally:
        auditor.get("/language/vi", params={"next": "/audit"})
    # Enterprises and reviewers do not see the staff results.
    enterprise = PortalUser(str(auditor.client.base_url), THANGLONG)
    try:
        assert enterprise.get("/results").status_code == 403
    finally:
        enterprise.close()


def test_public_results_need_no_login_and_name_no_enterprise(stack: Stack, api: Api, concluded: dict[str, Any]) -> None:
    with httpx.Client(base_url=stack.url("portal"), timeout=60, cookies={"cp_lang": "vi"}) as anonymous:
        page = anonymous.get("/results/public")
        assert page.status_code == 200, page.text
        public = api.client.get("/api/v1/public/results").json()  # no token
        shown = text_of(page.text)
        assert f"ít hơn {public['min_enterprises']} doanh nghiệp" in shown
        for secret in ENTERPRISE_NAMES:
            assert secret not in shown, secret
        rows = rows_of(anonymous.get("/results/public/sector.csv"))
        assert [r["sector_code"] for r in rows] == [g["sector_code"] or "" for g in public["by_sector"]]
        assert all(int(r["enterprises"]) >= public["min_enterprises"] for r in rows)
        assert "cases" not in (rows[0] if rows else {"enterprises": ""})
        for secret in ENTERPRISE_NAMES:
            assert secret not in anonymous.get("/results/public/district.csv").text


def test_a_showcase_appears_only_after_the_enterprise_consents(
    stack: Stack, api: Api, concluded: dict[str, Any]
) -> None:
    application = concluded["application"]
    title = application["title"]
    with httpx.Client(base_url=stack.url("portal"), timeout=60) as anonymous:
        assert title not in anonymous.get("/showcase").text
        enterprise = PortalUser(stack.url("portal"), HANOISTEEL)
        try:
            page = enterprise.get(f"/enterprise/applications/{application['id']}")
            assert 'id="showcase-consent"' in page.text
            consent = enterprise.get(f"/enterprise/applications/{application['id']}/showcase")
            assert consent.status_code == 200 and 'id="give-showcase"' in consent.text
            etag = re.search(r'name="etag" value="([^"]*)"', consent.text)[1]
            given = enterprise.post(
                f"/enterprise/applications/{application['id']}/showcase", {"etag": html.unescape(etag), "given": "true"}
            )
            assert given.status_code == 303, text_of(given.text)[:1000]
            shown = anonymous.get("/showcase")
            assert title in text_of(shown.text) and "Tiết kiệm đã thẩm định" in shown.text
            # Another enterprise's consent page is the 404 page.
            other = PortalUser(stack.url("portal"), THANGLONG)
            try:
                assert other.get(f"/enterprise/applications/{application['id']}/showcase").status_code == 404
            finally:
                other.close()
            again = enterprise.get(f"/enterprise/applications/{application['id']}/showcase")
            etag = re.search(r'name="etag" value="([^"]*)"', again.text)[1]
            withdrawn = enterprise.post(
                f"/enterprise/applications/{application['id']}/showcase",
                {"etag": html.unescape(etag), "given": "false"},
            )
            assert withdrawn.status_code == 303
            assert title not in text_of(anonymous.get("/showcase").text)
        finally:
            enterprise.close()


def test_a_handbook_uploaded_by_an_officer_appears_publicly_with_both_titles(stack: Stack) -> None:
    from e2e_helpers import minimal_pdf

    title_vi, title_en = "Sổ tay sản xuất sạch hơn ngành bia – kiểm thử", "Cleaner production in brewing – test"
    officer = PortalUser(stack.url("portal"), "officer1", home="/staff")
    try:
        manage = officer.get("/handbooks/manage")
        assert manage.status_code == 200, manage.text[:500]
        key = re.search(r'name="idempotency_key" value="([^"]+)"', manage.text)[1]
        created = officer.post(
            "/handbooks/manage",
            {"idempotency_key": key, "sector_code": "beer", "title_vi": title_vi, "title_en": title_en},
        )
        assert created.status_code == 303, text_of(created.text)[:1000]
        listing = officer.get("/handbooks/manage")
        handbook_id = re.search(r'id="manage-([0-9a-f-]{36})">\s*<h3[^>]*>' + re.escape(title_vi), listing.text)[1]
        content = minimal_pdf("So tay san xuat sach hon nganh bia")
        uploaded = officer.client.post(
            f"/handbooks/manage/{handbook_id}/versions",
            data={"csrf_token": officer.csrf},
            files={"file": ("so-tay-bia.pdf", content, "application/pdf")},
        )
        assert uploaded.status_code == 303, text_of(uploaded.text)[:1000]
        refused = officer.client.post(
            f"/handbooks/manage/{handbook_id}/versions",
            data={"csrf_token": officer.csrf},
            files={"file": ("anh.png", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "image/png")},
        )
        assert refused.status_code == 422 and "Sổ tay phải là tệp PDF." in refused.text
    finally:
        officer.close()
    with httpx.Client(base_url=stack.url("portal"), timeout=60, cookies={"cp_lang": "vi"}) as anonymous:
        library = anonymous.get("/handbooks", params={"sector": "beer"})
        assert title_vi in library.text and f'lang="en">{title_en}' in library.text
        download = anonymous.get(f"/handbooks/{handbook_id}/versions/1")
        assert download.status_code == 200 and download.content == content
    # An auditor cannot publish (the portal's 403 page; the API refuses too).
    auditor = PortalUser(stack.url("portal"), "auditor1", home="/audit")
    try:
        assert auditor.get("/handbooks/manage").status_code == 403
    finally:
        auditor.close()
