"""The officer screens' pure helpers: overdue rule, rubric rows, list filters, the SVG bar chart."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from cleanprod_portal.forms import Form
from cleanprod_portal.officer.applications import filters_of
from cleanprod_portal.officer.calls import body_of, criterion_count, renumber_criteria
from cleanprod_portal.officer.routes import budget_chart, overdue_items

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def _at(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def test_overdue_is_long_reviews_and_approved_but_not_started_oldest_first() -> None:
    applications = [
        {"id": "a", "status": "under_review", "submitted_at": _at(31)},
        {"id": "b", "status": "under_review", "submitted_at": _at(30)},  # exactly 30 days: not yet
        {"id": "c", "status": "approved", "decided_at": _at(61)},
        {"id": "d", "status": "approved", "decided_at": _at(10)},
        {"id": "e", "status": "in_progress", "decided_at": _at(400)},
    ]
    found = overdue_items(applications, NOW)
    assert [(item["application"]["id"], item["days"]) for item in found] == [("c", 61), ("a", 31)]


def test_rubric_rows_added_and_removed_keep_the_other_rows_values() -> None:
    form = Form(
        {
            "criteria.0.code": "C1",
            "criteria.0.name": "Kỹ thuật",
            "criteria.1.code": "C2",
            "criteria.1.name": "Tiết kiệm",
        }
    )
    renumber_criteria(form, add=True)
    assert criterion_count(form) == 3 and form.get("criteria.2.code") == ""
    renumber_criteria(form, remove=0)
    assert criterion_count(form) == 2 and form.get("criteria.0.code") == "C2"
    assert form.get("criteria.0.name") == "Tiết kiệm"
    renumber_criteria(form, remove=1)
    renumber_criteria(form, remove=0)  # the last row removed: one empty row stays to be filled
    assert criterion_count(form) == 1 and form.get("criteria.0.code") == ""


def test_call_body_reads_percent_money_and_dates_and_flags_what_it_cannot_read() -> None:
    form = Form(
        {
            "code": "SXSH-1",
            "title": "Đợt 1",
            "opens_on": "05/01/2027",
            "closes_on": "2027-03-31",
            "budget_vnd": "5.000.000.000",
            "cap_per_project_vnd": "500 000 000 ₫",
            "support_rate_pct": "30,5",
            "pass_score_pct": "60",
            "min_reviews": "2",
            "criteria.0.code": "C1",
            "criteria.0.name": "Kỹ thuật",
            "criteria.0.weight": "0,6",
            "criteria.0.max_score": "mười",
        }
    )
    form.values["eligible_sectors"] = ["steel"]
    body = body_of(form)
    assert body["support_rate_bp"] == 3050 and body["budget_vnd"] == 5_000_000_000
    assert body["cap_per_project_vnd"] == 500_000_000 and body["opens_on"] == "2027-01-05"
    assert body["min_reviews"] == 2 and body["eligible_sectors"] == ["steel"]
    assert body["criteria"] == [{"code": "C1", "name": "Kỹ thuật", "weight": 0.6, "max_score": None}]
    assert set(form.errors) == {"criteria.0.max_score"}


def test_filters_leave_out_empty_and_unknown_parameters() -> None:
    assert filters_of({"status": "under_review", "q": "  thép ", "call_id": "", "page": "2"}) == {
        "status": "under_review",
        "q": "thép",
    }


def test_budget_chart_stacks_committed_and_remaining_per_call_and_escapes_labels() -> None:
    chart = budget_chart(
        [
            {"code": "A <1>", "committed_vnd": 30_000_000, "remaining_vnd": 70_000_000},
            {"code": "B", "committed_vnd": 10_000_000, "remaining_vnd": 40_000_000},
        ]
    )
    svg = str(chart.svg)
    assert svg.startswith("<svg") and 'role="img"' in svg and 'id="budget-chart"' in svg
    assert 'id="budget-chart-title"' in svg
    assert "A &lt;1&gt;" in svg and "A <1>" not in svg
    # stacked: a call's two bars meet (the remaining one starts where the committed one ends), scaled to 100
    bars = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"[^>]*><title>', svg)
    (x1, y1, h1), (x2, y2, h2) = bars[0], bars[2]  # call A: committed, then remaining
    assert x1 == x2 and float(y2) + float(h2) == pytest.approx(float(y1)) and float(h2) > 2 * float(h1)
    assert [row[1:] for row in chart.table_rows] == [["30", "70"], ["10", "40"]]
    assert "style=" not in svg  # CSP: no inline styles
