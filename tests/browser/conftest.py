"""Browser tests (issue 13): Debian's Chromium driven by Playwright against the real stack (tests/conftest.py's
`stack`: PostgreSQL, Keycloak, services, gateway, portal).

Fixtures: `browser` (one Chromium per test module), `ui` (a fresh context and page per test, wrapped in
`browser_helpers.Ui`), `new_ui` (more people in the same test). Every context records a HAR with bodies; when
the test ends it is searched for the portal's access and refresh tokens. Screenshots of every page visited are in
test-artifacts/screenshots/<test>/ (the path is printed at the end of the run).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browser_helpers import HARS, SCREENSHOTS, Ui, har_texts, slug, token_leaks
from e2e_helpers import Api
from playwright.sync_api import Browser, sync_playwright

from infra.devstack import Stack

CHROMIUM = os.environ.get("CLEANPROD_CHROMIUM", "/usr/bin/chromium")
INSTALL = "sudo apt-get update && sudo apt-get install -y chromium fonts-dejavu-core"
_ran_browser_tests = False
_external_findings: dict[str, str] = {}  # axe on Keycloak's pages: reported at the end, not failed


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "/tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    report = yield
    if report.when == "call":
        item.browser_call_passed = report.passed  # the teardown checks only what a passing test left
    return report


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _ran_browser_tests:
        terminalreporter.write_line(f"browser screenshots (every page visited): {SCREENSHOTS}")
    if _external_findings:
        rules = sorted(
            {
                line.split(":", 1)[0].strip("- ")
                for text in _external_findings.values()
                for line in text.splitlines()
                if line.startswith("- ")
            }
        )
        terminalreporter.write_line(
            f"axe on Keycloak's own pages (not failed): {len(_external_findings)} pages, "
            f"rules {', '.join(rules)}; e.g. {next(iter(_external_findings))}"
        )


@pytest.fixture(scope="module")
def browser(stack: Stack) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread while it is open: the stack (which uses asyncio
    # to load demo data) starts first, and the browser closes after each module so the rest of the suite
    # (pytest-asyncio tests) never runs inside Playwright's loop.
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Debian's chromium at {CHROMIUM}; run:  {INSTALL}")
    with sync_playwright() as playwright:
        # Playwright's own browser builds are never downloaded: Debian's chromium, headless.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def new_ui(request: pytest.FixtureRequest, browser: Browser, stack: Stack) -> Iterator[Callable[..., Ui]]:
    """`new_ui("officer")` → another person (own context, cookies, screenshots folder) in the same test."""
    global _ran_browser_tests
    if not _ran_browser_tests:  # the artifacts are this run's: no folder left over from an older run
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)
        shutil.rmtree(HARS, ignore_errors=True)
    _ran_browser_tests = True
    opened: list[tuple[Ui, Any, Any]] = []
    test = slug(request.node.name, 80)

    def make(who: str = "", *, language: str = "vi") -> Ui:
        name = f"{test}-{who}" if who else test
        shots = SCREENSHOTS / name
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True)
        HARS.mkdir(parents=True, exist_ok=True)
        har = HARS / f"{name}.har"
        context = browser.new_context(
            locale="vi-VN" if language == "vi" else "en-GB",
            timezone_id="Asia/Ho_Chi_Minh",
            viewport={"width": 1280, "height": 900},
            record_har_path=str(har),
            record_har_content="embed",
        )
        context.set_default_timeout(15_000)
        ui = Ui(context.new_page(), stack, shots, language=language, har=har)
        opened.append((ui, context, har))
        return ui

    yield make

    problems: list[str] = []
    for ui, context, har in opened:
        context.close()  # writes the HAR
        _external_findings.update(ui.external_violations)
        if not getattr(request.node, "browser_call_passed", False):
            continue
        unchecked = [url for url in ui.unchecked if url.startswith(ui.base)]
        if unchecked:
            problems.append(f"pages visited without ui.seen(): {unchecked}")
        problems += [f"CSP refused something: {error}" for error in ui.csp_errors]
        problems += token_leaks(har_texts(har), ui.portal_tokens)
    assert not problems, "\n".join(problems)


@pytest.fixture
def ui(new_ui: Callable[..., Ui]) -> Ui:
    return new_ui()


@pytest.fixture
def api(gateway: Any, tokens: Any, stack: Stack) -> Api:
    """The gateway with real Keycloak tokens (tests/e2e's helper): officers' actions and set-up data."""
    return Api(gateway, tokens, stack)
