"""The form helper and its macros: typed values kept (escaped), the error summary links to each field, the
message sits next to its field, and a 412 shows the "changed meanwhile" banner instead of an error page."""

from __future__ import annotations

from starlette.datastructures import FormData

from cleanprod_portal import i18n
from cleanprod_portal.api import FieldErrors
from cleanprod_portal.forms import Form, field_id
from cleanprod_portal.templating import environment

PAGE = """{% import "_field.html" as f with context %}{% from "_error_summary.html" import error_summary %}
{{ error_summary(form) }}<form method="post">{{ f.csrf() }}
{{ f.input(form, "title", "Tên dự án", hint="Ngắn gọn") }}
{{ f.input(form, "claimed_savings.0.saving_pct", "Tiết kiệm điện (%)") }}
{{ f.select(form, "carrier", "Loại năng lượng", [("electricity", "Điện"), ("coal", "Than")]) }}
{{ f.textarea(form, "technology", "Công nghệ") }}{{ f.hidden(form, "etag") }}</form>"""


def render(form: Form) -> str:
    return environment.from_string(PAGE).render(form=form, csrf_token="tok-123")


def test_problem_fields_land_next_to_their_inputs_and_in_the_summary() -> None:
    i18n.set_language("vi")
    form = Form(
        FormData(
            [
                ("title", "<Lò> mới"),
                ("claimed_savings.0.saving_pct", "120"),
                ("carrier", "coal"),
                ("technology", "Biến tần"),
                ("etag", '"4"'),
                ("csrf_token", "tok-123"),
            ]
        )
    )
    assert "csrf_token" not in form.values
    form.add_problem(
        FieldErrors(
            422,
            "Unprocessable",
            "Một số trường chưa hợp lệ",
            errors={"title": "Tên đã được dùng", "claimed_savings.0.saving_pct": "Tối đa 100"},
        )
    )
    html = render(form)
    assert "Có lỗi cần sửa" in html
    # the API's generic sentence ("some fields are invalid") is not shown beside the fields' own messages
    assert "Một số trường chưa hợp lệ" not in html
    assert f'href="#{field_id("claimed_savings.0.saving_pct")}"' in html
    assert 'id="f-claimed_savings-0-saving_pct"' in html and 'value="120"' in html
    assert 'id="f-title-error"' in html and "Tên đã được dùng" in html
    assert 'aria-describedby="f-title-hint f-title-error"' in html and 'aria-invalid="true"' in html
    assert 'value="&lt;Lò&gt; mới"' in html  # what the user typed, escaped
    assert '<option value="coal" selected>' in html and ">Biến tần</textarea>" in html
    assert 'name="etag" value="&#34;4&#34;"' in html and 'name="csrf_token" value="tok-123"' in html


def test_a_problem_without_fields_is_the_summary_and_keeps_the_portals_own_message() -> None:
    form = Form({"title": "Lò"})
    form.add_problem(FieldErrors(422, "Unprocessable", "Đợt hỗ trợ đã đóng"))
    assert form.summary == "Đợt hỗ trợ đã đóng" and not form.errors
    typed = Form({"score": "bảy"})
    typed.add_error("score", "Nhập điểm bằng số")
    typed.add_problem(FieldErrors(422, "Unprocessable", "Một số trường chưa hợp lệ", errors={"comment": "Bắt buộc"}))
    assert typed.summary is None and typed.errors == {"score": "Nhập điểm bằng số", "comment": "Bắt buộc"}


def test_changed_meanwhile_banner_keeps_the_input() -> None:
    i18n.set_language("en")
    try:
        form = Form({"title": "Giữ nguyên"})
        form.changed_meanwhile = True
        html = render(form)
    finally:
        i18n.set_language("vi")
    assert "Changed meanwhile" in html and "Your answers are kept below" in html
    assert 'value="Giữ nguyên"' in html and "There is a problem" not in html


def test_form_data_trims_and_blanks_become_none() -> None:
    form = Form({"title": "  Lò cảm ứng  ", "supplier": "   "})
    assert form.data(["title", "supplier", "absent"]) == {"title": "Lò cảm ứng", "supplier": None, "absent": None}
    assert not form.has_errors
    form.add_problem(
        FieldErrors(422, "x", "", errors={"supplier.name": "Bắt buộc"}), field_map={"supplier.name": "supplier"}
    )
    assert form.error("supplier") == "Bắt buộc" and form.error_list[0].href == "#f-supplier"


def test_idempotency_key_is_made_once_and_posted_back() -> None:
    first = Form()
    key = first.idempotency_key
    assert len(key) == 32 and first.idempotency_key == key
    html = environment.from_string('{% import "_field.html" as f %}{{ f.idempotency_key(form) }}').render(form=first)
    assert f'name="idempotency_key" value="{key}"' in html
    assert Form({"idempotency_key": key}).idempotency_key == key  # the resubmitted form keeps it
    assert Form({"idempotency_key": "not-a-key"}).idempotency_key != "not-a-key"
