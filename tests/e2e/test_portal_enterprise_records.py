"""The enterprise's records in the portal (issue 13, "Enterprise" screens): profile, facilities, baselines and the
dashboard, through the real stack — the portal process logs the user in on Keycloak's real login page and calls
the real gateway; nothing is faked. Each test makes its own facility with a unique name."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Iterator

import httpx
import portal_helpers
import pytest
from e2e_helpers import HANOISTEEL, THANGLONG, application_body, call_body

from infra.devstack import Stack


class PortalUser(portal_helpers.PortalUser):
    """portal_helpers' logged-in person, following redirects: these tests read the page a form lands on."""

    def __init__(self, stack: Stack, username: str, language: str = "vi") -> None:
        super().__init__(stack.url("portal"), username, language=language)
        self.client.follow_redirects = True

    @property
    def http(self) -> httpx.Client:
        return self.client


@pytest.fixture(scope="module")
def steel(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack, HANOISTEEL)
    yield user
    user.http.close()


@pytest.fixture(scope="module")
def thanglong(stack: Stack) -> Iterator[PortalUser]:
    user = PortalUser(stack, THANGLONG)
    yield user
    user.http.close()


def facility_form(name: str, **overrides: str) -> dict[str, str]:
    form = {
        "name": name,
        "sector_code": "steel",
        "products": "Thép cán nóng\nPhôi thép",
        "capacity_quantity": "120.000",
        "capacity_unit": "t/năm",
        "address": "Lô 12, Khu công nghiệp Nội Bài",
        "ward": "Xã Quang Tiến",
        "district": "Huyện Sóc Sơn",
        "latitude": "21,2187",
        "longitude": "105,8031",
    }
    form.update(overrides)
    return form


def add_facility(user: PortalUser, name: str | None = None, *, page: bool = False):  # noqa: ANN201
    name = name or f"Nhà máy cán thép Sóc Sơn – dây chuyền số {uuid.uuid4().hex[:6]}"
    response = user.post("/enterprise/facilities/new", facility_form(name))
    assert response.status_code == 200, response.text
    match = re.search(r"/enterprise/facilities/([0-9a-f-]{36})$", response.url.path)
    assert match, response.url
    return (match.group(1), name, response) if page else (match.group(1), name)


def text_of(page: str) -> str:
    """The rendered text (tags dropped, entities decoded): what a reader sees."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def error_text(page: str, field_id: str) -> str:
    """The message shown next to a field."""
    match = re.search(rf'<p class="error-message" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert match, f"no error next to {field_id}"
    return text_of(match.group(1))


def input_value(page: str, field_id: str) -> str:
    match = re.search(rf'id="{re.escape(field_id)}"[^>]*value="([^"]*)"', page)
    assert match, f"no input {field_id}"
    return html.unescape(match.group(1))


def test_facility_create_view_edit_round_trip_in_vietnamese(steel: PortalUser) -> None:
    facility_id, name, page = add_facility(steel, page=True)
    seen = text_of(page.text)
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    assert name in seen and "Thép cán nóng; Phôi thép" in seen and "Xã Quang Tiến" in seen
    assert "120.000 t/năm" in seen and "Đã thêm cơ sở" in seen and "Chưa có kỳ số liệu nền nào" in seen

    listing = steel.get("/enterprise/facilities")
    assert listing.status_code == 200 and name in text_of(listing.text)

    edit = steel.get(f"/enterprise/facilities/{facility_id}/edit")
    assert edit.status_code == 200 and input_value(edit.text, "f-name") == name
    assert (
        input_value(edit.text, "f-capacity_quantity") == "120000" and input_value(edit.text, "f-latitude") == "21,2187"
    )
    version = (
        input_value(edit.text, "f-version")
        if 'id="f-version"' in edit.text
        else re.search(r'name="version" value="(\d+)"', edit.text).group(1)
    )
    renamed = name + " (mở rộng – đợt 2)"
    saved = steel.post(
        f"/enterprise/facilities/{facility_id}/edit",
        {
            **facility_form(renamed, ward="Phường Phúc Yên", capacity_quantity="1.250,5"),
            "version": version,
            "status": "active",
        },
    )
    assert saved.status_code == 200 and saved.url.path == f"/enterprise/facilities/{facility_id}"
    seen = text_of(saved.text)
    assert renamed in seen and "Phường Phúc Yên" in seen and "1.250,5 t/năm" in seen and "Đã lưu các thay đổi" in seen


def test_facility_form_sent_twice_creates_one_facility(steel: PortalUser) -> None:
    form = steel.get("/enterprise/facilities/new")
    key = re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', form.text).group(1)
    name = f"Xưởng mạ kẽm Gia Lâm {uuid.uuid4().hex[:6]}"
    first = steel.post("/enterprise/facilities/new", {**facility_form(name), "idempotency_key": key})
    second = steel.post("/enterprise/facilities/new", {**facility_form(name), "idempotency_key": key})
    assert first.status_code == second.status_code == 200 and first.url == second.url
    assert steel.get("/enterprise/facilities").text.count(f">{name}</a>") == 1


def test_facility_form_errors_next_to_fields(steel: PortalUser) -> None:
    # Values the portal cannot read as numbers: messages in Vietnamese, next to the field and in the summary.
    page = steel.post(
        "/enterprise/facilities/new", facility_form("Xưởng đúc Đông Anh", capacity_quantity="mười", latitude="21 độ")
    )
    assert page.status_code == 422
    assert 'id="f-capacity_quantity-error"' in page.text
    assert re.search(r'id="f-capacity_quantity"[^>]*aria-describedby="[^"]*f-capacity_quantity-error"', page.text)
    assert "Nhập một số, ví dụ 1.250,5" in text_of(page.text) and 'href="#f-capacity_quantity"' in page.text
    assert 'id="f-latitude-error"' in page.text
    assert input_value(page.text, "f-name") == "Xưởng đúc Đông Anh"  # what was typed is kept
    # Fields the API refuses: its field errors land next to the field they name.
    page = steel.post("/enterprise/facilities/new", facility_form("", ward="", latitude="123"))
    assert page.status_code == 422
    for field in ("name", "ward", "latitude"):
        assert f'id="f-{field}-error"' in page.text and f'href="#f-{field}"' in page.text, field
    # ... in the user's language (the API answers Vietnamese for Accept-Language: vi)
    assert "Cần ít nhất 1 ký tự" in error_text(page.text, "f-name") and "90" in error_text(page.text, "f-latitude")
    assert input_value(page.text, "f-address") == "Lô 12, Khu công nghiệp Nội Bài"


def test_stale_facility_edit_shows_changed_meanwhile_and_keeps_typed_values(steel: PortalUser, gateway, tokens) -> None:  # noqa: ANN001
    facility_id, name = add_facility(steel)
    edit = steel.get(f"/enterprise/facilities/{facility_id}/edit")
    version = re.search(r'name="version" value="(\d+)"', edit.text).group(1)
    # Someone else saves the facility meanwhile (through the API, with the enterprise's own token).
    changed = gateway.patch(
        f"/api/v1/facilities/{facility_id}",
        json={"district": "Huyện Đông Anh"},
        headers={**tokens.headers(HANOISTEEL), "If-Match": f'"{version}"'},
    )
    assert changed.status_code == 200, changed.text
    typed = name + " – tên mới"
    stale = steel.post(
        f"/enterprise/facilities/{facility_id}/edit", {**facility_form(typed), "version": version, "status": "active"}
    )
    assert stale.status_code == 412
    assert "Hồ sơ vừa được thay đổi" in text_of(stale.text)
    assert input_value(stale.text, "f-name") == typed
    fresh = re.search(r'name="version" value="(\d+)"', stale.text).group(1)
    assert int(fresh) > int(version)
    again = steel.post(
        f"/enterprise/facilities/{facility_id}/edit", {**facility_form(typed), "version": fresh, "status": "active"}
    )
    assert again.status_code == 200 and typed in text_of(again.text)


def test_baseline_period_by_hand_plain_and_htmx(steel: PortalUser) -> None:
    facility_id, _name = add_facility(steel)
    url = f"/enterprise/facilities/{facility_id}/baselines"
    page = steel.get(url)
    assert page.status_code == 200 and 'id="baseline-form"' in page.text and "Nhập một kỳ thủ công" in page.text
    plain = steel.post(
        url,
        {
            "period": "2025-01",
            "production_quantity": "1.250,5",
            "production_unit": "t",
            "electricity_quantity": "412000",
            "electricity_unit": "kWh",
            "natural_gas_quantity": "15,8",
            "natural_gas_unit": "1000 m3",
            "notes": "Tháng Giêng – số liệu đồng hồ",
        },
    )
    assert plain.status_code == 200 and plain.url.path == url
    seen = text_of(plain.text)
    assert "Đã thêm kỳ 2025-01" in seen and "1.250,5 t " in seen and "412.000 kWh" in seen
    assert "15,8 1000 m³" in seen and "Tháng Giêng – số liệu đồng hồ" in seen
    # htmx: only the grid partial comes back, with the new row.
    swapped = steel.post(
        url,
        {
            "period": "2025-02",
            "production_quantity": "1180",
            "production_unit": "t",
            "electricity_quantity": "398500,25",
            "electricity_unit": "kWh",
        },
        headers={"HX-Request": "true", "X-CSRF-Token": steel.csrf},
    )
    assert swapped.status_code == 200 and swapped.text.lstrip().startswith('<div id="baselines"')
    assert "<html" not in swapped.text and "2025-02" in swapped.text and "398.500,25" in text_of(swapped.text)
    # Errors: the portal's own (a month it cannot read) and the API's (an overlapping period), next to the field.
    bad = steel.post(
        url,
        {"period": "tháng 3", "production_quantity": "", "production_unit": "t"},
        headers={"HX-Request": "true", "X-CSRF-Token": steel.csrf},
    )
    assert bad.status_code == 422
    seen = text_of(bad.text)
    assert "Nhập tháng theo dạng yyyy-mm, ví dụ 2025-01" in seen and "Nhập sản lượng của kỳ này" in seen
    assert "Nhập lượng tiêu thụ của ít nhất một loại năng lượng hoặc nước" in seen
    assert 'id="f-period-error"' in bad.text and input_value(bad.text, "f-period") == "tháng 3"
    overlap = steel.post(
        url,
        {
            "period": "2025-01",
            "production_quantity": "1",
            "production_unit": "t",
            "water_quantity": "10",
            "water_unit": "m3",
        },
    )
    assert overlap.status_code == 422 and "Trùng với một kỳ đã được ghi nhận" in error_text(overlap.text, "f-period")
    unit = steel.post(
        url,
        {
            "period": "2025-03",
            "production_quantity": "1",
            "production_unit": "t",
            "water_quantity": "10",
            "water_unit": "kWh",
        },
    )
    # The API judges carrier and unit together (consumption.N): its message lands on that carrier's unit.
    assert unit.status_code == 422 and 'id="f-water_unit-error"' in unit.text


def test_correct_a_recorded_period_with_if_match(steel: PortalUser, thanglong: PortalUser) -> None:
    facility_id, _name = add_facility(steel)
    url = f"/enterprise/facilities/{facility_id}/baselines"
    steel.post(
        url,
        {
            "period": "2025-03",
            "production_quantity": "1000",
            "production_unit": "t",
            "electricity_quantity": "300000",
            "electricity_unit": "kWh",
            "notes": "Số liệu tạm",
        },
    )
    grid = steel.get(url)
    edit_url = re.search(
        r'href="(/enterprise/facilities/[^"]+/baselines/[0-9a-f-]{36}/edit)" id="correct-2025-03"', grid.text
    ).group(1)
    form = steel.get(edit_url)
    assert form.status_code == 200 and "Sửa kỳ 2025-03" in text_of(form.text)
    assert input_value(form.text, "f-production_quantity") == "1000"
    assert input_value(form.text, "f-electricity_quantity") == "300000"
    version = re.search(r'name="version" value="(\d+)"', form.text).group(1)
    typed = {
        "period": "2025-03",
        "production_quantity": "1.300,5",
        "production_unit": "t",
        "electricity_quantity": "310000",
        "electricity_unit": "kWh",
        "water_quantity": "4200",
        "water_unit": "m3",
        "notes": "Đã đối chiếu hóa đơn điện",
    }
    saved = steel.post(edit_url, {**typed, "version": version})
    assert saved.status_code == 200 and saved.url.path == url
    seen = text_of(saved.text)
    assert "Đã sửa kỳ 2025-03" in seen and "1.300,5 t" in seen and "4.200 m³" in seen
    assert "Đã đối chiếu hóa đơn điện" in seen
    stale = steel.post(edit_url, {**typed, "notes": "Lần sửa thứ hai", "version": version})
    assert stale.status_code == 412 and "Hồ sơ vừa được thay đổi" in text_of(stale.text)
    assert "Lần sửa thứ hai" in stale.text and int(
        re.search(r'name="version" value="(\d+)"', stale.text).group(1)
    ) > int(version)
    assert thanglong.get(edit_url).status_code == 404
    assert thanglong.post(edit_url, {**typed, "version": version}).status_code == 404


CSV_GOOD_AND_BAD = (
    "\ufeffperiod;production;production_unit;electricity (kWh);natural_gas (1000 m3);notes\r\n"
    "2024-01;1.250,5;t;412000;15,8;Tháng Giêng\r\n"
    "2024-02;1180;t;398500,25;15;\r\n"
    "2024-13;1180;t;398500;15;tháng không tồn tại\r\n"
    "\r\n"
    "03/2024;nhiều;t;abc;15;\r\n"
    "2024-04;1200;tấn;400000;15;đơn vị sai\r\n"
    "2024-05;1210;t;401000;;Chỉ dùng điện\r\n"
    "2024-01;1000;t;1;1;trùng kỳ\r\n"
)


def test_csv_upload_saves_good_lines_and_reports_each_bad_line(steel: PortalUser) -> None:
    facility_id, _name = add_facility(steel)
    url = f"/enterprise/facilities/{facility_id}/baselines"
    page = steel.post(
        f"{url}/upload", files={"file": ("so-lieu-2024.csv", CSV_GOOD_AND_BAD.encode("utf-8"), "text/csv")}
    )
    assert page.status_code == 200, page.text
    seen = text_of(page.text)
    assert "Đã lưu 3 dòng" in seen and "2024-01, 2024-02, 2024-05" in seen
    assert "4 dòng chưa được lưu" in seen
    errors = {int(n): text_of(row) for n, row in re.findall(r'<tr id="upload-line-(\d+)">(.*?)</tr>', page.text, re.S)}
    assert sorted(errors) == [4, 6, 7, 9]  # physical line numbers (the blank line 5 is skipped)
    assert "Nhập tháng theo dạng yyyy-mm" in errors[4]
    assert "production : Nhập một số" in errors[6] and "electricity (kWh) : Nhập một số" in errors[6]
    assert "production_unit : Không có đơn vị 'tấn'" in errors[7]  # the API's message, on that column
    assert "period : Trùng với một kỳ đã được ghi nhận" in errors[9]  # overlaps 2024-01 saved from line 2
    grid = steel.get(url)
    rows = re.findall(r'<th scope="row">(\d{4}-\d{2})</th>', grid.text)
    assert rows == ["2024-01", "2024-02", "2024-05"]
    assert "398.500,25 kWh" in text_of(grid.text)
    # The same file again (as after correcting some lines): the saved lines are replayed, not refused as overlapping.
    again = steel.post(
        f"{url}/upload", files={"file": ("so-lieu-2024.csv", CSV_GOOD_AND_BAD.encode("utf-8"), "text/csv")}
    )
    assert again.status_code == 200 and "Đã lưu 3 dòng" in text_of(again.text)
    assert sorted(int(n) for n in re.findall(r'<tr id="upload-line-(\d+)">', again.text)) == [4, 6, 7, 9]
    assert re.findall(r'<th scope="row">(\d{4}-\d{2})</th>', steel.get(url).text) == rows


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"period,production\r\n2024-01,1\r\n", "Thiếu cột: production_unit"),
        (b"period;production;production_unit;steam (t)\r\n2024-01;1;t;1\r\n", "Cột không xác định"),
        (b"period;production;production_unit;electricity (t)\r\n2024-01;1;t;1\r\n", "Điện"),
        ("period;production;production_unit;electricity (kWh)\r\n2024-01;1;t;1\r\n".encode("utf-16"), "UTF-8"),
    ],
)
def test_csv_file_problems_save_nothing(steel: PortalUser, content: bytes, message: str) -> None:
    facility_id, _name = add_facility(steel)
    url = f"/enterprise/facilities/{facility_id}/baselines"
    page = steel.post(f"{url}/upload", files={"file": ("x.csv", content, "text/csv")})
    assert page.status_code == 422
    seen = text_of(page.text)
    assert "Tệp chưa được tải lên" in seen and "Chưa có dữ liệu nào từ tệp này được lưu" in seen
    assert (message in seen) if message != "Điện" else ("electricity" in seen and "kWh, MWh" in seen)
    assert "Chưa có kỳ số liệu nền nào" in text_of(steel.get(url).text)


def test_csv_with_comma_delimiter_and_template_download(steel: PortalUser) -> None:
    template = steel.get("/enterprise/baselines/template.csv")
    assert template.status_code == 200 and template.headers["content-type"].startswith("text/csv")
    assert template.content.startswith("\ufeffperiod;production;production_unit;electricity (kWh)".encode())
    facility_id, _name = add_facility(steel)
    url = f"/enterprise/facilities/{facility_id}/baselines"
    uploaded = steel.post(f"{url}/upload", files={"file": ("template.csv", template.content, "text/csv")})
    assert uploaded.status_code == 200 and "Đã lưu 2 dòng" in text_of(uploaded.text)
    comma = 'period,production,production_unit,water (m3)\n2023-12,99.5,m3,"1,5"\n'
    page = steel.post(f"{url}/upload", files={"file": ("c.csv", comma.encode(), "text/csv")})
    assert page.status_code == 200 and "Đã lưu 1 dòng" in text_of(page.text)
    assert "1,5 m³" in text_of(steel.get(url).text)


def test_profile_view_and_edit_round_trip_and_stale_banner(steel: PortalUser) -> None:
    view = steel.get("/enterprise/profile")
    assert view.status_code == 200 and "0100109106" in view.text
    edit = steel.get("/enterprise/profile/edit")
    assert edit.status_code == 200
    version = re.search(r'name="version" value="(\d+)"', edit.text).group(1)
    fields = {
        name: input_value(edit.text, f"f-{name}")
        for name in (
            "name",
            "name_en",
            "address",
            "ward",
            "district",
            "province",
            "contact_name",
            "contact_email",
            "contact_phone",
        )
    }
    legal = re.search(r'id="f-legal_form".*?<option value="([^"]+)" selected', edit.text, re.S).group(1)
    size = re.search(r'id="f-size_class".*?<option value="([^"]+)" selected', edit.text, re.S).group(1)
    contact = f"Nguyễn Thị Hồng Nhung {uuid.uuid4().hex[:4]}"
    saved = steel.post(
        "/enterprise/profile/edit",
        {**fields, "legal_form": legal, "size_class": size, "contact_name": contact, "version": version},
    )
    assert saved.status_code == 200 and saved.url.path == "/enterprise/profile"
    assert contact in text_of(saved.text) and "Đã lưu các thay đổi" in text_of(saved.text)
    # The version the first save used is stale now.
    stale = steel.post(
        "/enterprise/profile/edit",
        {**fields, "legal_form": legal, "size_class": size, "contact_name": "Trần Văn Đức", "version": version},
    )
    assert stale.status_code == 412 and "Hồ sơ vừa được thay đổi" in text_of(stale.text)
    assert input_value(stale.text, "f-contact_name") == "Trần Văn Đức"
    bad = steel.post(
        "/enterprise/profile/edit",
        {
            **fields,
            "legal_form": legal,
            "size_class": size,
            "name": "",
            "contact_email": "không-phải-email",
            "version": re.search(r'name="version" value="(\d+)"', stale.text).group(1),
        },
    )
    assert bad.status_code == 422
    assert "Cần ít nhất 1 ký tự" in error_text(bad.text, "f-name")
    assert "Phải là một địa chỉ email hợp lệ" in error_text(bad.text, "f-contact_email")
    assert input_value(bad.text, "f-contact_email") == "không-phải-email"


def test_branch_unit_registration(steel: PortalUser) -> None:
    form = steel.get("/enterprise/profile/branches/new")
    assert form.status_code == 200 and "0100109106-" in form.text
    bad = steel.post("/enterprise/profile/branches/new", {"branch_number": "12a", "name": "Chi nhánh"})
    assert bad.status_code == 422 and "Nhập 3 chữ số sau dấu gạch ngang" in text_of(bad.text)
    number = f"{uuid.uuid4().int % 900 + 100}"
    name = f"Chi nhánh Công ty Thép Hà Nội tại Đông Anh {number}"
    created = steel.post(
        "/enterprise/profile/branches/new",
        {
            "branch_number": number,
            "name": name,
            "legal_form": "joint_stock",
            "size_class": "large",
            "address": "Số 5, đường Cao Lỗ",
            "ward": "Xã Uy Nỗ",
            "district": "Huyện Đông Anh",
            "province": "Thành phố Hà Nội",
        },
    )
    assert created.status_code == 200 and created.url.path == "/enterprise/profile", created.text[:2000]
    assert name in text_of(created.text) and f"0100109106-{number}" in created.text
    # The new unit can run a facility: the facility form offers it.
    assert f"0100109106-{number}" in steel.get("/enterprise/facilities/new").text


def test_other_enterprise_facility_pages_are_404(steel: PortalUser, thanglong: PortalUser) -> None:
    facility_id, name = add_facility(steel)
    for path in (
        f"/enterprise/facilities/{facility_id}",
        f"/enterprise/facilities/{facility_id}/edit",
        f"/enterprise/facilities/{facility_id}/baselines",
        "/enterprise/facilities/not-a-uuid",
    ):
        page = thanglong.get(path)
        assert page.status_code == 404, (path, page.status_code)
        assert "Không tìm thấy trang" in text_of(page.text) and name not in page.text
    for path, data in (
        (f"/enterprise/facilities/{facility_id}/edit", facility_form("Chiếm quyền", version="1")),
        (
            f"/enterprise/facilities/{facility_id}/baselines",
            {
                "period": "2025-01",
                "production_quantity": "1",
                "production_unit": "t",
                "water_quantity": "1",
                "water_unit": "m3",
            },
        ),
    ):
        page = thanglong.post(path, data)
        assert page.status_code == 404, (path, page.status_code)
    assert name not in thanglong.get("/enterprise/facilities").text
    assert name in steel.get(f"/enterprise/facilities/{facility_id}").text  # unchanged for its owner


def test_pages_in_english_and_dashboard(stack: Stack, steel: PortalUser) -> None:
    english = PortalUser(stack, HANOISTEEL, language="en")
    try:
        for path, expected in (
            ("/enterprise/facilities", "Add a facility"),
            ("/enterprise/profile", "Branch units"),
            ("/enterprise/baselines", "Baselines"),
            ("/enterprise", "What needs doing"),
        ):
            page = english.get(path)
            assert page.status_code == 200 and '<html lang="en">' in page.text and expected in page.text, path
    finally:
        english.http.close()


def test_dashboard_lists_what_needs_doing(steel: PortalUser, gateway, tokens) -> None:  # noqa: ANN001
    call = gateway.post("/api/v1/calls", json=call_body(), headers=tokens.headers("officer1"))
    assert call.status_code == 201, call.text
    facility_id, facility_name = add_facility(steel)
    body = application_body(
        call.json()["id"], facility_id, HANOISTEEL, title=f"Lò cảm ứng trung tần cho {facility_name}"
    )
    draft = gateway.post("/api/v1/applications", json=body, headers=tokens.headers(HANOISTEEL))
    assert draft.status_code == 201, draft.text
    page = steel.get("/enterprise")
    assert page.status_code == 200
    drafts = re.search(r'<div class="todo-group" id="todo-drafts">(.*?)</div>', page.text, re.S)
    assert drafts and body["title"] in text_of(drafts.group(1)) and "Bản nháp" in text_of(drafts.group(1))
    assert f'href="/enterprise/applications/{draft.json()["id"]}"' in drafts.group(1)
    assert "Việc cần làm" in text_of(page.text) and "Bản nháp cần hoàn thiện" in text_of(page.text)
