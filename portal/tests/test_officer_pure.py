"""The officer screens' pure helpers: overdue rule, rubric rows, list filters, the SVG bar chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cleanprod_portal.forms import Form
from cleanprod_portal.officer.applications import filters_of
from cleanprod_portal.officer.calls import body_of, criterion_count, renumber_criteria
from cleanprod_portal.officer.charts import Series, StackedRow, stacked_bars
from cleanprod_portal.officer.routes import overdue_items

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _at(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def test_overdue_is_long_reviews_and_approved_but_not_started_oldest_first() -> None:
    applications = [
        {"id": "a", "status": "under_review", "submitted_at": _at(31)},
        {"id": "b", "status": "under_review", "submitted_at": _at(30)},   # exactly 30 days: not yet
        {"id": "c", "status": "approved", "decided_at": _at(61)},
        {"id": "d", "status": "approved", "decided_at": _at(10)},
        {"id": "e", "status": "in_progress", "decided_at": _at(400)},
    ]
    found = overdue_items(applications, NOW)
    assert [(item["application"]["id"], item["days"]) for item in found] == [("c", 61), ("a", 31)]


def test_rubric_rows_added_and_removed_keep_the_other_rows_values() -> None:
    form = Form({"criteria.0.code": "C1", "criteria.0.name": "Kỹ thuật", "criteria.1.code": "C2",
                 "criteria.1.name": "Tiết kiệm"})
    renumber_criteria(form, add=True)
    assert criterion_count(form) == 3 and form.get("criteria.2.code") == ""
    renumber_criteria(form, remove=0)
    assert criterion_count(form) == 2 and form.get("criteria.0.code") == "C2"
    assert form.get("criteria.0.name") == "Tiết kiệm"
    renumber_criteria(form, remove=1)
    renumber_criteria(form, remove=0)  # the last row removed: one empty row stays to be filled
    assert criterion_count(form) == 1 and form.get("criteria.0.code") == ""


def test_call_body_reads_percent_money_and_dates_and_flags_what_it_cannot_read() -> None:
    form = Form({"code": "SXSH-1", "title": "Đợt 1", "opens_on": "05/01/2027", "closes_on": "2027-03-31",
                 "budget_vnd": "5.000.000.000", "cap_per_project_vnd": "500 000 000 ₫", "support_rate_pct": "30,5",
                 "pass_score_pct": "60", "min_reviews": "2", "criteria.0.code": "C1", "criteria.0.name": "Kỹ thuật",
                 "criteria.0.weight": "0,6", "criteria.0.max_score": "mười"})
    form.values["eligible_sectors"] = ["steel"]
    body = body_of(form)
    assert body["support_rate_bp"] == 3050 and body["budget_vnd"] == 5_000_000_000
    assert body["cap_per_project_vnd"] == 500_000_000 and body["opens_on"] == "2027-01-05"
    assert body["min_reviews"] == 2 and body["eligible_sectors"] == ["steel"]
    assert body["criteria"] == [{"code": "C1", "name": "Kỹ thuật", "weight": 0.6, "max_score": None}]
    assert set(form.errors) == {"criteria.0.max_score"}


def test_filters_leave_out_empty_and_unknown_parameters() -> None:
    assert filters_of({"status": "under_review", "q": "  thép ", "call_id": "", "page": "2"}) == {
        "status": "under_review", "q": "thép"}


def test_stacked_bars_scale_to_the_largest_total_and_escape_labels() -> None:
    svg = str(stacked_bars([StackedRow("A <1>", (30.0, 70.0)), StackedRow("B", (10.0, 40.0))],
                           [Series("Đã cam kết", "chart__bar--committed"), Series("Còn lại", "chart__bar--remaining")],
                           title="Ngân sách", chart_id="c", width=100))
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title id=\"c-title\">Ngân sách</title>" in svg
    assert "A &lt;1&gt;" in svg and "A <1>" not in svg
    assert 'width="30.0"' in svg and 'x="30.0" y=' in svg and 'width="70.0"' in svg and 'width="40.0"' in svg
    assert "style=" not in svg  # CSP: no inline styles
