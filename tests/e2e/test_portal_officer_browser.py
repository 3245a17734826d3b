"""The officer's pages in real Chromium (/usr/bin/chromium through Playwright), in Vietnamese and English: each page
is screenshotted (kept under $CLEANPROD_SCREENSHOT_DIR, default the test's tmp dir) and checked with axe-core —
no serious or critical violation. Skipped where Playwright is not installed (it comes with `portal-browser`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from e2e_helpers import Api

from infra import keycloak_server
from infra.devstack import Stack

sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
CHROMIUM = "/usr/bin/chromium"


def pages(api: Api) -> list[tuple[str, str]]:
    call = api.call(
        title="Đợt hỗ trợ đổi mới công nghệ lò hơi và hệ thống thu hồi nhiệt cho ngành dệt nhuộm, "
        "bia và thép – năm 2027 (tên rất dài để xem xuống dòng)"
    )
    application = api.submitted(call)
    enterprise = api.client.get("/api/v1/enterprises", params={"limit": 1}, headers=api.h("officer1")).json()
    base = f"/officer/applications/{application['id']}"
    return [
        ("staff", "/staff"),
        ("dashboard", "/officer"),
        ("calls", "/officer/calls"),
        ("call-new", "/officer/calls/new"),
        ("call-edit", f"/officer/calls/{call['id']}/edit"),
        ("applications", f"/officer/applications?call_id={call['id']}"),
        ("case-summary", base),
        ("case-documents", f"{base}/documents"),
        ("case-reviews", f"{base}/reviews"),
        ("case-history", f"{base}/history"),
        ("case-tranches", f"{base}/tranches"),
        ("case-verification", f"{base}/verification"),
        ("verifications", "/officer/verifications"),
        ("enterprises", "/officer/enterprises"),
        ("accounts", f"/officer/enterprises/{enterprise['items'][0]['id']}/accounts"),
        ("sectors", "/officer/sectors"),
        ("sector-edit", "/officer/sectors/steel/edit"),
        ("webhooks", "/officer/webhooks"),
    ]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium at /usr/bin/chromium")
@pytest.mark.parametrize("language", ["vi", "en"])
def test_officer_pages_in_chromium_have_no_serious_accessibility_violation(
    stack: Stack, api: Api, language: str, tmp_path: Path
) -> None:
    shots = Path(os.environ.get("CLEANPROD_SCREENSHOT_DIR") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    portal = stack.url("portal")
    axe = axe_module.Axe()
    found: dict[str, list[str]] = {}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        context = browser.new_context(
            locale="vi-VN" if language == "vi" else "en-GB", viewport={"width": 1280, "height": 900}
        )
        context.add_cookies([{"name": "cp_lang", "value": language, "url": portal}])
        page = context.new_page()
        page.goto(f"{portal}/login?next=/staff")
        page.fill("#username", "officer1")
        page.fill("#password", keycloak_server.DEMO_PASSWORD)
        page.click("#kc-login")
        page.wait_for_url(f"{portal}/staff")
        for name, path in pages(api):
            response = page.goto(f"{portal}{path}")
            assert response is not None and response.status == 200, (path, response and response.status)
            assert page.locator("html").get_attribute("lang") == language
            page.screenshot(path=str(shots / f"officer-{name}-{language}.png"), full_page=True)
            violations = axe.run(page).response["violations"]
            bad = [
                f"{v['id']}: {v['help']} ({len(v['nodes'])})"
                for v in violations
                if v.get("impact") in ("serious", "critical")
            ]
            if bad:
                found[path] = bad
        # the applications list's filter panel: in two rows at 1280 px, every row's labels and controls aligned
        # (a field without a hint included), and one column without sideways scrolling at 390 px
        page.goto(f"{portal}/officer/applications")
        rows = [("status", "call_id", "sector_code"), ("ward", "district", "dossier_code", "q")]
        for row in rows:
            for part in ("label[for='f-{}']", "#f-{}"):
                tops = {name: round(page.locator(part.format(name)).bounding_box()["y"]) for name in row}
                assert len(set(tops.values())) == 1, (part, tops)
        first, second = (round(page.locator(f"#f-{row[0]}").bounding_box()["y"]) for row in rows)
        assert first < second, "the filters are not in two rows"
        assert page.locator("#apply-filters").bounding_box()["y"] > second
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / f"officer-applications-390-{language}.png"), full_page=True)
        width, viewport = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        assert width <= viewport, (width, viewport)
        lefts = {round(page.locator(f"#f-{name}").bounding_box()["x"]) for row in rows for name in row}
        assert len(lefts) == 1, lefts  # one column
        page.set_viewport_size({"width": 1280, "height": 900})
        # a form with errors: the call editor saved empty
        page.goto(f"{portal}/officer/calls/new")
        page.click("#save-call")
        page.wait_for_selector(".error-summary, [role=alert]")
        page.screenshot(path=str(shots / f"officer-call-errors-{language}.png"), full_page=True)
        violations = axe.run(page).response["violations"]
        bad = [v["id"] for v in violations if v.get("impact") in ("serious", "critical")]
        if bad:
            found["/officer/calls/new (errors)"] = bad
        browser.close()
    assert not found, found
