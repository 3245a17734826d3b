"""Screenshots and axe-core of the auditor's and the results pages on real Chromium (issue 14), through the
real stack: the auditor logs in on Keycloak's page; `/results/public` is opened without a login. PNGs go to
`$CLEANPROD_SCREENSHOTS` (default `.data/screenshots/portal2-audit/`) for people to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from infra.devstack import Stack
from infra.keycloak_server import DEMO_PASSWORD

sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")

CHROMIUM = os.environ.get("CLEANPROD_CHROMIUM", "/usr/bin/chromium")
OUT = Path(os.environ.get("CLEANPROD_SCREENSHOTS", Path(__file__).parents[2] / ".data/screenshots/portal2-audit"))
PAGES = [
    ("audit-home", "/audit"),
    ("audit-search", "/audit/search?q=thu+hoi"),
    ("audit-search-error", "/audit/search?from=2026-12-31&to=2026-01-01"),
    ("results", "/results"),
    ("results-year", "/results?period=year"),
    ("handbooks-manage-as-auditor", "/handbooks/manage"),
]


def _serious(page: Any) -> list[str]:
    results = axe_module.Axe().run(page)
    return [
        f"{v['id']}: {v['help']}" for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
    ]


@pytest.fixture(scope="module")
def browser() -> Any:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_auditor_pages_render_and_pass_axe(stack: Stack, browser: Any, language: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    base = stack.url("portal")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "cp_lang", "value": language, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/login?next=/audit")
    page.fill("#username", "auditor1")
    page.fill("#password", DEMO_PASSWORD)
    page.click("#kc-login")
    page.wait_for_url(f"{base}/audit")
    problems: dict[str, list[str]] = {}
    for name, path in PAGES:
        page.goto(f"{base}{path}")
        page.screenshot(path=str(OUT / f"{name}-{language}.png"), full_page=True)
        if found := _serious(page):
            problems[name] = found
    anonymous = browser.new_context(viewport={"width": 1280, "height": 900})
    anonymous.add_cookies([{"name": "cp_lang", "value": language, "url": base}])
    public = anonymous.new_page()
    for name, path in (("results-public", "/results/public"), ("showcase", "/showcase"), ("handbooks", "/handbooks")):
        public.goto(f"{base}{path}")
        public.screenshot(path=str(OUT / f"{name}-{language}.png"), full_page=True)
        if found := _serious(public):
            problems[name] = found
    context.close()
    anonymous.close()
    assert problems == {}
