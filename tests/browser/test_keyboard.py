"""The whole application form completed with the keyboard alone (WCAG 2.1.1): from "start an application" to the
dossier code with Tab, Shift+Tab, arrows, Enter, Space and typing — no click, no fill. Each control is reached by
tabbing (so the focus order gets there), and each one shows where the focus is (WCAG 2.4.7)."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from browser_helpers import Ui
from e2e_helpers import DOSSIER, HANOISTEEL, Api, minimal_pdf, today

from cleanprod_kit.testing.data import random_tax_code

MAX_TABS = 80


class Keyboard:
    """A person at the keyboard: moves with Tab until the control wanted has the focus, then types."""

    def __init__(self, ui: Ui) -> None:
        self.ui = ui
        self.page = ui.page

    def focused(self) -> str:
        return self.page.evaluate(
            "() => { const e = document.activeElement; return e ? "
            "(e.id ? '#' + e.id : e.tagName + (e.getAttribute('href') ? "
            "'[href=' + e.getAttribute('href') + ']' : '')) : '' }"
        )

    def tab_to(self, selector: str, *, backwards: bool = False) -> None:
        visited = []
        for _ in range(MAX_TABS):
            self.page.keyboard.press("Shift+Tab" if backwards else "Tab")
            if self.page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
                self.assert_focus_visible(selector)
                return
            visited.append(self.focused())
        raise AssertionError(f"{selector} not reached with {'Shift+' if backwards else ''}Tab; focus order: {visited}")

    def assert_focus_visible(self, selector: str) -> None:
        style = self.page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, s.outlineWidth, s.boxShadow, s.backgroundColor]; }""")
        outline, width, shadow, _background = style
        assert (outline != "none" and width != "0px") or shadow != "none", f"no visible focus on {selector}: {style}"

    def type_into(self, selector: str, text: str) -> None:
        self.tab_to(selector)
        self.page.keyboard.press("Control+A")
        self.page.keyboard.type(text)

    def choose(self, selector: str, value: str) -> None:
        """A <select>: arrows change the choice without opening the list. A select that refreshes part of the
        page on change (htmx) must keep the focus where it was."""
        self.tab_to(selector)
        for _ in range(40):
            if self.page.evaluate("s => document.querySelector(s).value", selector) == value:
                return
            self.page.keyboard.press("ArrowDown")
            self.ui.settle()
            assert self.page.evaluate("s => document.activeElement.matches(s)", selector), (
                f"the focus left {selector} after a change: now on {self.focused()}"
            )
        raise AssertionError(f"{value} not reachable with the arrows in {selector}")

    def radio(self, selector: str) -> None:
        """A radio group: Tab enters the group, the arrows move (and select), Space selects."""
        name = self.page.get_attribute(selector, "name")
        group = f"input[type=radio][name='{name}']"
        self.tab_to(group)
        # Once round the group at most (earlier tests leave many open calls: there may be dozens of choices).
        for _ in range(self.page.locator(group).count() + 1):
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                self.page.keyboard.press("Space")
                assert self.page.is_checked(selector)
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"{selector} not reachable with the arrows")

    def type_date(self, selector: str, day: dt.date) -> None:
        """A date field: its parts are typed in the order the browser shows them (dd/mm/yyyy or mm/dd/yyyy,
        from the browser's own language), found by typing 01, 02, 2030 first; Shift+Tab goes back a part."""
        self.tab_to(selector)
        self.page.keyboard.type("01022030")
        probe = self.page.evaluate("s => document.querySelector(s).value", selector)
        assert probe in ("2030-01-02", "2030-02-01"), probe
        self.page.keyboard.press("Shift+Tab")
        self.page.keyboard.press("Shift+Tab")
        self.page.keyboard.type(day.strftime("%m%d%Y" if probe == "2030-01-02" else "%d%m%Y"))
        assert self.page.evaluate("s => document.querySelector(s).value", selector) == day.isoformat()

    def press_on(self, selector: str, url_pattern: str, name: str, key: str = "Enter") -> None:
        self.tab_to(selector)
        self.page.keyboard.press(key)
        self.page.wait_for_url(re.compile(url_pattern))
        self.ui.seen(name)


def test_the_application_form_can_be_completed_with_the_keyboard_alone(ui: Ui, api: Api) -> None:
    call = api.call(title="Đợt kiểm thử bàn phím – hỗ trợ sản xuất sạch hơn")
    facility = api.facility(HANOISTEEL)
    ui.goto("/")
    ui.login(HANOISTEEL, next_path="/enterprise/applications/new")
    keys = Keyboard(ui)
    keys.page.keyboard.press("Tab")
    assert keys.page.evaluate("() => document.activeElement.className") == "skip-link"

    keys.radio(f"#call-{call['id']}")
    keys.radio(f"#facility-{facility['id']}")
    keys.press_on("#create-draft", r"/tasks$", "tasks")

    keys.press_on("a[href$='/steps/technology']", r"/steps/technology$", "step-technology")
    keys.type_into("#f-title", "Biến tần cho quạt hút và bơm tuần hoàn nước làm mát")
    keys.type_into("#f-technology", "Lắp biến tần IGBT cho 12 quạt hút khói và 6 bơm tuần hoàn; điều khiển theo tải.")
    keys.type_into("#f-supplier-name", "Công ty Cổ phần Tự động hóa Thăng Long")
    keys.type_into("#f-supplier-tax_code", random_tax_code())
    keys.press_on("#save-continue", r"/steps/costs$", "step-costs")

    keys.type_into("#f-total_cost_vnd", "1.500.000.000")
    keys.type_into("#f-eligible_cost_vnd", "1.200.000.000")
    keys.type_into("#f-requested_support_vnd", "500.000.000")
    keys.press_on("#save-continue", r"/steps/savings$", "step-savings")

    keys.choose("#f-claimed_savings-0-carrier", "electricity")
    keys.type_into("#f-claimed_savings-0-saving_pct", "7,5")
    keys.type_into("#f-claimed_overall_saving_pct", "7")
    # Enter in a field saves and continues (the form's first submit button), it does not remove a carrier.
    keys.page.keyboard.press("Enter")
    keys.page.wait_for_url(re.compile(r"/steps/dates$"))
    ui.seen("step-dates")

    start, end = today() + dt.timedelta(days=30), today() + dt.timedelta(days=300)
    for selector, day in (("#f-implementation_start", start), ("#f-implementation_end", end)):
        keys.type_date(selector, day)
    keys.press_on("#save-continue", r"/documents$", "documents")

    # The file input opens the file chooser with Space, like any button.
    keys.tab_to("#f-file")
    with keys.page.expect_file_chooser() as chooser:
        keys.page.keyboard.press("Space")
    chooser.value.set_files(
        files=[
            {
                "name": f"thuyet-minh-{uuid.uuid4().hex[:4]}.pdf",
                "mimeType": "application/pdf",
                "buffer": minimal_pdf("Thuyet minh du an"),
            }
        ]
    )
    with keys.page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/documents")):
        keys.tab_to("#upload-document")
        keys.page.keyboard.press("Enter")
    keys.page.locator("#documents-step", has_text="thuyet-minh-").wait_for()
    ui.seen("document-uploaded")
    keys.press_on("#continue", r"/check$", "check-answers")
    keys.press_on("#submit-application", r"/confirmation$", "confirmation")
    assert DOSSIER.match(keys.page.locator("#dossier-code").inner_text().strip())
    application_id = re.search(r"/applications/([0-9a-f-]{36})/", keys.page.url).group(1)
    submitted = api.get(application_id)
    assert submitted["status"] == "under_review"
    assert submitted["claimed_savings"][0]["carrier"] == "electricity"
    assert float(submitted["claimed_savings"][0]["saving_pct"]) == 7.5
    assert (submitted["implementation_start"], submitted["implementation_end"]) == (start.isoformat(), end.isoformat())
